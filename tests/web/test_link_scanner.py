"""A mail scanner follows every link in an email with GET: nothing may be recorded or changed."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from mailbot import compose, links
from mailbot.people import MemberStatus, Recipient
from mailbot.store.members import get_member
from mailbot.store.models import Response
from mailbot.web import RateLimit, create_app
from tests.web.conftest import KEYS, Web

URL = re.compile(r"https?://[^\s\"'<>]+")


def test_a_link_scanner_that_gets_every_link_in_an_invitation_changes_nothing(web: Web) -> None:
    m = web.member()
    panel = web.settings.panel
    a = links.addressing(KEYS, panel, 1, m, web.survey.id)
    link_set = compose.Links(form_url=links.form_url(panel, a.answer_token),
                             unsubscribe_url=links.unsubscribe_url(panel, a.unsubscribe_token),
                             unsubscribe_mailto=links.unsubscribe_mailto(a),
                             answer_urls=links.one_click_urls(panel, web.survey, a.answer_token))
    sender = compose.Sender(f"{panel.name} <{panel.address}>", a.reply_to, a.message_id, "P <p.x>")
    message = compose.survey_email(web.survey, "invitation", Recipient(m, "kari.nordmann@example.no"), link_set,
                                   sender, panel, compose.Templates(web.settings.templates_dir),
                                   web.clock.now)
    found: set[str] = set()
    for part in message.walk():
        if part.get_content_maintype() == "text":
            found |= {u.replace("&amp;", "&") for u in URL.findall(part.get_content())}
    found |= {u.strip("<>") for u in URL.findall(str(message["List-Unsubscribe"]))}
    ours = {u for u in found if u.startswith(panel.public_url)}
    assert len(ours) >= len(link_set.answer_urls) + 2  # every one-click link, the form and unsubscribe
    for url in sorted(ours):
        r = web.client.get(url.replace(panel.public_url, ""))
        assert r.status_code == 200, url
        web.client.head(url.replace(panel.public_url, ""))
    with web.store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Response)) == 0
        member = get_member(s, m)
    assert member is not None and member.status == MemberStatus.ACTIVE


def test_requests_over_the_rate_limit_get_429_and_change_nothing(web: Web) -> None:
    import httpx

    from tests.web.server import serving

    clock_value = [0.0]
    limit = RateLimit(per_second=1.0, burst=3.0, clock=lambda: clock_value[0])
    app = create_app(web.settings, web.store, KEYS, [web.survey], clock=web.clock, rate_limit=limit)
    with serving(app) as url, httpx.Client(base_url=url) as client:
        codes = [client.get("/bli-med").status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        r = client.get("/bli-med")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert r.headers["referrer-policy"] == "no-referrer"
        clock_value[0] += 2.0
        assert client.get("/bli-med").status_code == 200


def test_time_alone_does_not_make_a_closed_survey_link_record(web: Web) -> None:
    m = web.member()
    web.clock.now = web.survey.closes + timedelta(seconds=1)
    assert web.client.get(f"/svar/{web.answer_token(m)}/need/Ja").status_code == 410
