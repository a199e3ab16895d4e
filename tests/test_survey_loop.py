"""The survey loop end to end over real SMTP: invitation, replies, receipts, reminder, close, results.

Everything crosses a real aiosmtpd server on loopback (the local transport):
the bot's mail lands in one Maildir per resident, and residents' replies are
sent back to the reply address with smtplib, as a mail client would.
"""

from __future__ import annotations

import mailbox
import smtplib
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from sqlalchemy import select

from mailbot.bot import Bot
from mailbot.panel.settings import load_settings
from mailbot.states import InboundState
from mailbot.store import members as member_store
from mailbot.store import responses as response_store
from mailbot.store.models import Inbound, Outbox
from mailbot.tokens import Keys
from mailbot.transport.local import free_port, mailbox_dir
from tests.conftest import make_survey, oslo, write_panel
from tests.factories import Row

KARI, OLE, ASTRID = "kari@example.no", "ole@example.no", "astrid@example.no"


@pytest.fixture
def panel(tmp_path: Path, store):
    port = free_port()
    settings = load_settings(write_panel(tmp_path / "panel", port), load_env=False)
    survey = make_survey()
    bot = Bot(settings, campaigns=[survey], store=store, keys=Keys(("test-key",)))
    with store.transaction() as s:
        member_store.upsert_members(s, [Row(KARI, "Kari Nordmann"), Row(OLE, "Ole Hansen", "nn"),
                                        Row(ASTRID, "Astrid Løvås")], oslo(2022, 11, 1))
    office = bot.local_post_office(port).start()
    try:
        with bot.transport() as transport:
            yield bot, transport, survey
    finally:
        office.stop()


def inbox(bot: Bot, address: str) -> list[EmailMessage]:
    folder = mailbox_dir(bot.mailbox_root(), address)
    if not folder.exists():
        return []
    msgs = [message_from_bytes(bytes(m), policy=policy.default) for m in mailbox.Maildir(folder).values()]
    return sorted(msgs, key=lambda m: m["Date"].datetime if m["Date"] else 0)  # type: ignore[union-attr]


def reply(bot: Bot, to: EmailMessage, sender: str, text: str, when) -> None:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = str(to["Reply-To"])
    msg["Subject"] = "SV: " + str(to["Subject"])
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain="example.no")
    msg["In-Reply-To"] = str(to["Message-ID"])
    quoted = "\n".join("> " + line for line in to.get_body(("plain",)).get_content().splitlines())
    msg.set_content(f"{text}\n\nMed vennlig hilsen\nKari\n\nDen 1. des. 2022 kl. 09:00 skrev Innbyggerpanelet "
                    f"<innbyggerpanel@baerum.example.no>:\n{quoted}\n")
    t = bot.settings.config.transport
    with smtplib.SMTP("127.0.0.1", t.port) as smtp:
        smtp.send_message(msg, from_addr=sender, to_addrs=[str(to["Reply-To"])])


def test_the_whole_survey_loop_over_real_smtp(panel):
    bot, transport, survey = panel

    report = bot.tick(oslo(2022, 12, 1, 9), transport)
    assert report.sent.sent == 3
    (invitation,) = inbox(bot, KARI)
    assert survey.title in str(invitation["Subject"])
    assert str(invitation["Reply-To"]).startswith("innbyggerpanel+")
    assert str(invitation["Reply-To"]).endswith("@svar.baerum.example.no")
    assert "List-Unsubscribe" in invitation and invitation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "1 A" in invitation.get_body(("plain",)).get_content()

    # Kari answers everything; Ole answers one question.
    reply(bot, invitation, KARI, "1 A   2 A,E   3 4   4 Sandvika sentrum", oslo(2022, 12, 1, 10))
    reply(bot, inbox(bot, OLE)[0], OLE, "1 B", oslo(2022, 12, 1, 11))
    bot.tick(oslo(2022, 12, 1, 12), transport)

    with bot.store.transaction() as s:
        kari = member_store.member_by_email(s, KARI)
        ole = member_store.member_by_email(s, OLE)
        assert response_store.answers_of(s, survey, kari.id) == {
            "need": "Ja", "goods": ("Møbler", "Bøker"), "satisfaction": 4, "location": "Sandvika sentrum"}
        assert response_store.answers_of(s, survey, ole.id) == {"need": "Nei"}
    receipt = inbox(bot, KARI)[-1]
    assert receipt["In-Reply-To"] and receipt["Auto-Submitted"] == "auto-replied"
    assert "Sandvika sentrum" in receipt.get_body(("plain",)).get_content()

    # Four days on: the reminder goes to Astrid only, who has not answered.
    report = bot.tick(oslo(2022, 12, 5, 9), transport)
    assert report.sent.by_step == {"reminder-1": 1}
    assert len(inbox(bot, ASTRID)) == 2 and len(inbox(bot, OLE)) == 2  # Ole: invitation + receipt

    # Kari changes her mind before close: the last answer wins.
    reply(bot, invitation, KARI, "1 C", oslo(2022, 12, 6, 9))
    bot.tick(oslo(2022, 12, 6, 10), transport)
    with bot.store.transaction() as s:
        assert response_store.answers_of(s, survey, kari.id)["need"] == "Vet ikke"

    # Close; results go to everyone invited, saying 2 of 3 answered.
    report = bot.tick(oslo(2022, 12, 16, 9), transport)
    assert report.sent.by_step.get("results") == 3
    results = inbox(bot, ASTRID)[-1]
    text = results.get_body(("plain",)).get_content()
    assert "2 av 3" in text

    # Astrid answers after close: one polite notice, nothing recorded.
    reply(bot, inbox(bot, ASTRID)[0], ASTRID, "1 A", oslo(2022, 12, 16, 10))
    bot.tick(oslo(2022, 12, 16, 11), transport)
    with bot.store.transaction() as s:
        astrid = member_store.member_by_email(s, ASTRID)
        assert response_store.answers_of(s, survey, astrid.id) == {}
    assert len(inbox(bot, ASTRID)) == 4

    # Running the same tick again sends nothing twice.
    again = bot.tick(oslo(2022, 12, 16, 11), transport)
    assert again.sent.sent == 0 and again.steps == []


def test_a_reply_nobody_can_read_is_kept_for_a_human_and_the_resident_is_told(panel):
    bot, transport, survey = panel
    bot.tick(oslo(2022, 12, 1, 9), transport)
    reply(bot, inbox(bot, KARI)[0], KARI, "Hei! Jeg lurer på hvem som står bak denne undersøkelsen?",
          oslo(2022, 12, 1, 10))
    bot.tick(oslo(2022, 12, 1, 11), transport)
    with bot.store.transaction() as s:
        row = s.scalars(select(Inbound)).one()
        assert row.status == InboundState.NEEDS_HUMAN
        assert row.reason
        assert row.raw  # kept
    assert len(inbox(bot, KARI)) == 2  # the invitation and a friendly explanation


def test_two_ticks_at_the_same_moment_send_each_invitation_once(panel):
    bot, transport, _ = panel
    first = bot.tick(oslo(2022, 12, 1, 9), transport)
    second = bot.tick(oslo(2022, 12, 1, 9), transport)
    assert first.sent.sent == 3 and second.sent.sent == 0
    with bot.store.transaction() as s:
        assert len(s.scalars(select(Outbox).where(Outbox.step == "invitation")).all()) == 3
    assert all(len(inbox(bot, a)) == 1 for a in (KARI, OLE, ASTRID))
