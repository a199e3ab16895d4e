"""What the panel sees after close: hidden options in the results email, and the full report on the web."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import httpx
import pytest

from mailbot import compose, links
from mailbot.panel.settings import Settings
from mailbot.results import OptionCount, QuestionResult, Results
from mailbot.store import Store
from mailbot.store import responses as response_store
from mailbot.tokens import Keys
from mailbot.web import RateLimit, create_app
from tests.compose import make
from tests.conftest import make_survey
from tests.factories import create_member
from tests.results.seed import seed
from tests.web.server import serving

NBSP = "\xa0"


def hidden_results() -> tuple[Results, object]:
    s = make.survey()
    need, goods, today, where = s.questions
    # need: Nei 2 and Vet ikke 1 are below k = 5, so both are hidden (count 0, 0.0 %, suppressed).
    r = Results(s.id, 40, 12, (
        QuestionResult(need, 12, (OptionCount("Ja", 9, 75.0), OptionCount("Nei", 0, 0.0, True),
                                  OptionCount("Vet ikke", 0, 0.0, True))),
        QuestionResult(goods, 3, (), suppressed=True),
        QuestionResult(today, 12, tuple(OptionCount(str(v), 0, 0.0, True) for v in range(1, 6)),
                       mean=3.25, median=3.0),
        QuestionResult(where, 6, ()),
    ), min_group_size=5)
    return r, s


def results_email(lang: str) -> object:
    r, s = hidden_results()
    return compose.results_email(s, r, make.member(language=lang), make.links(s), make.sender(),  # type: ignore[arg-type]
                                 make.panel(), compose.Templates(), make.NOW)


def test_hidden_options_read_hidden_not_zero_in_each_language() -> None:
    for lang, word, note in (("nb", "skjult", "Skjult: for få til å vise (færre enn 5)"),
                             ("nn", "skjult", "Skjult: for få til å visa (færre enn 5)"),
                             ("en", "hidden", "Hidden: too few to show (fewer than 5)")):
        msg = results_email(lang)
        body = make.plain(msg)  # type: ignore[arg-type]
        assert f"   Ja: 9 (75{NBSP}%)" in body or "   Ja: 9 (75%)" in body
        assert f"   Nei: {word}\n   Vet ikke: {word}\n" in body
        assert "Nei: 0" not in body and "5: 0" not in body
        assert note in body
        page = unescape(make.html(msg))  # type: ignore[arg-type]
        assert f"Nei: <strong>{word}</strong>" in page and "Nei: <strong>0</strong>" not in page
        # Bars are drawn for shown figures only: Ja; the scale's values are all hidden.
        assert len(re.findall(r'<table[^>]*aria-hidden="true"', page)) == 1


def test_a_hidden_option_is_never_a_key_finding() -> None:
    body = make.plain(results_email("nb"))  # type: ignore[arg-type]
    findings = body.split("Viktigste funn:")[1].split("\n1.")[0]
    assert "«Ja»" in findings and "«Nei»" not in findings and "Gjennomsnitt 3,2" in findings


@contextmanager
def app_for(store: Store, settings: Settings, now: list[datetime]) -> Iterator[httpx.Client]:
    app = create_app(settings, store, Keys(("test-key",)), [make_survey()], clock=lambda: now[0],
                     rate_limit=RateLimit(0, 0))
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def test_the_report_link_in_the_results_email_is_served_after_close(store: Store, settings: Settings) -> None:
    survey = make_survey()
    with store.transaction() as s:
        seed(s, survey)
    now = [survey.closes - timedelta(hours=1)]
    url = f"{links.base_url(settings.panel)}/resultater/{survey.id}"  # as sending.Composer writes it
    path = url.removeprefix(links.base_url(settings.panel))
    with app_for(store, settings, now) as client:
        assert client.get(path).status_code == 404  # still running: nothing published yet
        assert client.get("/resultater/no-such-survey").status_code == 404
        now[0] = survey.closes + timedelta(days=1)
        page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = unescape(page.text)
    assert survey.title in html and "12 av 20 inviterte i innbyggerpanelet svarte" in html
    # Public and aggregate: no addresses, no names, no free text; k = 5 hides Sportsutstyr (1) and Bøker (2).
    assert "@example.no" not in html and "Beboer" not in html and "Fornebu" not in html
    assert re.search(r"Sportsutstyr</t[dh]>\s*<td class=\"num\">skjult", html)


def test_the_report_is_kept_until_an_answer_arrives_and_then_built_again(store: Store, settings: Settings,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from mailbot.report import build
    from mailbot.web import app as web_app

    monkeypatch.setattr(web_app, "REPORT_RECHECK", 0.0)  # look at the answers on every request
    builds = []
    real = build.build_report

    def counted(*args: Any, **kw: Any) -> Any:
        builds.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(build, "build_report", counted)
    survey = make_survey()
    with store.transaction() as s:
        seed(s, survey)
    with app_for(store, settings, [survey.closes + timedelta(days=1)]) as client:
        first = client.get(f"/resultater/{survey.id}").text
        assert client.get(f"/resultater/{survey.id}").text == first
        assert len(builds) == 1  # kept: no answer came in
        with store.transaction() as s:  # (staff entering a late answer by hand, say)
            m = create_member(s, "sen@example.no")
            response_store.record(s, survey, m.id, {"need": "Nei"}, source="staff", after_step=None,
                                  now=datetime(2022, 12, 20, tzinfo=UTC))
        again = client.get(f"/resultater/{survey.id}").text
        assert len(builds) == 2 and again != first
        assert client.get(f"/resultater/{survey.id}").text == again and len(builds) == 2
