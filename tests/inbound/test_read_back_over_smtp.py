"""A read-back end to end over real SMTP (aiosmtpd on loopback) and the real web app (uvicorn).

Replies go to the bot's reply address with smtplib; the bot's mail lands in one Maildir per
resident; the resident presses the link in the read-back email, or answers it with a correction.
"""

from __future__ import annotations

import mailbox
import re
import smtplib
from collections.abc import Callable, Iterator
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mailbot.bot import Bot
from mailbot.campaigns import Survey
from mailbot.panel.settings import load_settings
from mailbot.store import Store
from mailbot.store import members as member_store
from mailbot.store import responses as response_store
from mailbot.store.models import Response
from mailbot.tokens import Keys
from mailbot.transport.local import free_port, mailbox_dir
from mailbot.web import RateLimit, create_app
from tests.conftest import make_survey, oslo, write_panel
from tests.factories import Row
from tests.web.conftest import guard_of
from tests.web.server import serving

KARI, OLE = "kari@example.no", "ole@example.no"
LINK = re.compile(r"http://127\.0\.0\.1:8080(/stemmer/\S+)")


@pytest.fixture
def loop(tmp_path: Path, store: Store) -> Iterator[tuple[Bot, Any, Survey]]:
    settings = load_settings(write_panel(tmp_path / "panel", free_port()), load_env=False)
    survey = make_survey()
    bot = Bot(settings, campaigns=[survey], store=store, keys=Keys(("test-key",)))
    with store.transaction() as s:
        member_store.upsert_members(s, [Row(KARI, "Kari Nordmann"), Row(OLE, "Ole Hansen", "nn")],
                                    oslo(2022, 11, 1))
    office = bot.local_post_office(settings.config.transport.port).start()
    try:
        with bot.transport() as transport:
            yield bot, transport, survey
    finally:
        office.stop()


def inbox(bot: Bot, address: str) -> list[EmailMessage]:
    folder = mailbox_dir(bot.mailbox_root(), address)
    msgs = [message_from_bytes(bytes(m), policy=policy.default) for m in mailbox.Maildir(folder).values()]
    return sorted(msgs, key=lambda m: int(str(m["Message-ID"]).strip("<").split(".")[0]))  # outbox order


def send_reply(bot: Bot, to: EmailMessage, sender: str, text: str, when: datetime,
               headers: dict[str, str] | None = None) -> None:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = str(to["Reply-To"])
    msg["Subject"] = "SV: " + str(to["Subject"])
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain="example.no")
    msg["In-Reply-To"] = str(to["Message-ID"])
    for name, value in (headers or {}).items():
        msg[name] = value
    body = to.get_body(("plain",))
    assert body is not None
    quoted = "\n".join("> " + line for line in body.get_content().splitlines())
    msg.set_content(f"{text}\n\nDen 2. des. 2022 kl. 09:00 skrev Innbyggerpanelet "
                    f"<innbyggerpanel@baerum.example.no>:\n{quoted}\n")
    with smtplib.SMTP("127.0.0.1", bot.settings.config.transport.port) as smtp:
        smtp.send_message(msg, from_addr=sender, to_addrs=[str(to["Reply-To"])])


def text_of(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_the_resident_confirms_with_the_link_in_the_read_back_email(loop: tuple[Bot, Any, Survey],
                                                                   unsure: Callable[[str], dict[str, str]]):
    bot, transport, survey = loop
    bot.tick(oslo(2022, 12, 1, 9), transport)
    send_reply(bot, inbox(bot, KARI)[0], KARI, "1 A   2 A,E   3 2   4 Sandvika", oslo(2022, 12, 1, 10),
               headers=unsure("goods"))
    report = bot.tick(oslo(2022, 12, 1, 11), transport)
    assert report.inbound.read_backs == 1
    invitation, read_back = inbox(bot, KARI)
    text = text_of(read_back)
    assert "Vi leste svaret ditt slik: 1 Ja · 2 Møbler, Bøker · 3 2 · 4 «Sandvika». Stemmer det?" in text
    with bot.store.transaction() as s:
        kari = member_store.member_by_email(s, KARI)
        assert kari is not None
        assert response_store.answers_of(s, survey, kari.id) == {}

    found = LINK.search(text)
    assert found, text
    app = create_app(bot.settings, bot.store, bot.keys, [survey], clock=lambda: oslo(2022, 12, 1, 12),
                     rate_limit=RateLimit(0, 0))
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        page = client.get(found.group(1))
        assert page.status_code == 200 and "Ja, det stemmer" in page.text
        with bot.store.transaction() as s:
            assert response_store.answers_of(s, survey, kari.id) == {}  # a scanner's GET changes nothing
        done = client.post(found.group(1), data={"guard": guard_of(page.text)})
        assert done.status_code == 200
        client.post(found.group(1), data={"guard": guard_of(page.text)})
    with bot.store.transaction() as s:
        assert response_store.answers_of(s, survey, kari.id) == {
            "need": "Ja", "goods": ("Møbler", "Bøker"), "satisfaction": 2, "location": "Sandvika"}
        assert s.scalars(select(Response.source)).all() == ["read-back-confirmed"]


def test_the_resident_corrects_the_read_back_by_replying_to_it(loop: tuple[Bot, Any, Survey],
                                                              unsure: Callable[[str], dict[str, str]]):
    bot, transport, survey = loop
    bot.tick(oslo(2022, 12, 1, 9), transport)
    send_reply(bot, inbox(bot, OLE)[0], OLE, "1 B\n2 C\n3 4", oslo(2022, 12, 1, 10), headers=unsure("goods"))
    bot.tick(oslo(2022, 12, 1, 11), transport)
    read_back = inbox(bot, OLE)[-1]
    assert "Vi las svaret ditt slik: 1 Nei · 2 Sportsutstyr · 3 4. Stemmer det?" in text_of(read_back)
    send_reply(bot, read_back, OLE, "2 D", oslo(2022, 12, 1, 12))
    bot.tick(oslo(2022, 12, 1, 13), transport)
    with bot.store.transaction() as s:
        ole = member_store.member_by_email(s, OLE)
        assert ole is not None
        assert response_store.answers_of(s, survey, ole.id) == {"need": "Nei", "goods": ("Elektronikk",),
                                                                "satisfaction": 4}
        assert s.scalars(select(Response.source)).all() == ["read-back-corrected"]
    receipt = inbox(bot, OLE)[-1]
    assert receipt["In-Reply-To"] and receipt["Auto-Submitted"] == "auto-replied"
    assert "Elektronikk" in text_of(receipt)
