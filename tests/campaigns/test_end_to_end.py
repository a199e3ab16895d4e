"""Recruitments end to end over real SMTP: volunteers reply, a tick draws, confirmations carry .ics; a moved session.

The bot's mail lands in one Maildir per resident on the embedded post office
(aiosmtpd on loopback); residents answer with smtplib, as a mail client does.
"""

from __future__ import annotations

import dataclasses
import mailbox
import smtplib
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from icalendar import Calendar

from mailbot.bot import Bot
from mailbot.campaigns import Recruitment, Selection
from mailbot.campaigns import forms as campaign_forms
from mailbot.panel.settings import load_settings
from mailbot.store import seats as seat_store
from mailbot.tokens import Keys
from mailbot.transport.local import free_port, mailbox_dir
from tests.campaigns.conftest import make_recruitment
from tests.conftest import OSLO, oslo, write_panel
from tests.factories import create_members


@dataclasses.dataclass
class Panel:
    bot: Bot
    transport: object
    emails: list[str]
    folder: Path

    def tick(self, now):  # type: ignore[no-untyped-def]
        return self.bot.tick(now, self.transport)  # type: ignore[arg-type]

    def restart_with(self, campaign: Recruitment) -> None:
        """Staff edited the file: a new bot over the same database, as after `mailbot run` restarts."""
        campaigns = [campaign, *campaign_forms.forms_of(campaign)]
        self.bot = Bot(self.bot.settings, campaigns=campaigns, store=self.bot.store, keys=self.bot.keys)


def _start(tmp_path: Path, store, campaign: Recruitment, n: int):  # type: ignore[no-untyped-def]
    port = free_port()
    settings = load_settings(write_panel(tmp_path / "panel", port), load_env=False)
    bot = Bot(settings, campaigns=[campaign, *campaign_forms.forms_of(campaign)], store=store, keys=Keys(("test-key",)))
    with store.transaction() as s:
        emails = [m.email for m in create_members(s, n)]
    return bot, port, emails


@pytest.fixture
def lottery(tmp_path: Path, store):  # type: ignore[no-untyped-def]
    r = make_recruitment(Selection.LOTTERY, seats=(2, 2))
    bot, port, emails = _start(tmp_path, store, r, 7)
    office = bot.local_post_office(port).start()
    try:
        with bot.transport() as transport:
            yield Panel(bot, transport, emails, tmp_path), r
    finally:
        office.stop()


@pytest.fixture
def first_come(tmp_path: Path, store):  # type: ignore[no-untyped-def]
    r = make_recruitment(Selection.FIRST_COME, seats=(3, 3))
    bot, port, emails = _start(tmp_path, store, r, 4)
    office = bot.local_post_office(port).start()
    try:
        with bot.transport() as transport:
            yield Panel(bot, transport, emails, tmp_path), r
    finally:
        office.stop()


def inbox(bot: Bot, address: str) -> list[EmailMessage]:
    folder = mailbox_dir(bot.mailbox_root(), address)
    if not folder.exists():
        return []
    msgs = [message_from_bytes(bytes(m), policy=policy.default) for m in mailbox.Maildir(folder).values()]
    return sorted(msgs, key=lambda m: (m["Date"].datetime, str(m["Message-ID"])))  # type: ignore[union-attr,misc]


def reply(bot: Bot, to: EmailMessage, sender: str, text: str, when) -> None:  # type: ignore[no-untyped-def]
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = str(to["Reply-To"])
    msg["Subject"] = "SV: " + str(to["Subject"])
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain="example.no")
    msg["In-Reply-To"] = str(to["Message-ID"])
    quoted = "\n".join("> " + line for line in to.get_body(("plain",)).get_content().splitlines())  # type: ignore[union-attr]
    msg.set_content(f"{text}\n\nHilsen\n\n{format_datetime(when)} skrev Innbyggerpanelet:\n{quoted}\n")
    port = bot.settings.config.transport.port
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.send_message(msg, from_addr=sender, to_addrs=[str(to["Reply-To"])])


def calendar_of(msg: EmailMessage) -> Calendar | None:
    part = next((p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"), None)
    return Calendar.from_ical(part.get_content()) if part is not None else None


def test_volunteers_reply_a_tick_draws_exactly_the_seats_and_confirmations_carry_an_ics(lottery):
    panel, r = lottery
    panel.tick(r.opens)
    answers = ["1", "2", "ja", "JA", "2", "Ja takk!", "1"]
    for email, text in zip(panel.emails, answers, strict=True):
        (invitation,) = inbox(panel.bot, email)
        reply(panel.bot, invitation, email, text, oslo(2020, 6, 3, 10))
    report = panel.tick(oslo(2020, 6, 3, 10, 5))
    assert report.inbound.replies == 7
    with panel.bot.store.transaction() as s:
        assert Counter(e.status for e in seat_store.all_enrolments(s, r.id)) == {"volunteered": 7}

    panel.tick(r.closes)  # the sign-up deadline: the draw
    with panel.bot.store.transaction() as s:
        rows = seat_store.all_enrolments(s, r.id)
        seated = Counter(e.group_id for e in rows if e.status == "seated")
        assert seated == {"workshop-1": 2, "workshop-2": 2}
        assert sum(1 for e in rows if e.status == "waitlisted") == 3
    confirmed, waiting = 0, 0
    for email in panel.emails:
        last = inbox(panel.bot, email)[-1]
        cal = calendar_of(last)
        if "Du har plass" in str(last["Subject"]):
            confirmed += 1
            assert cal is not None and str(cal["METHOD"]) == "REQUEST"
            event = cal.walk("VEVENT")[0]
            assert event.decoded("DTSTART").astimezone(OSLO).hour == 17
            assert str(event["UID"]).startswith(f"{r.id}-workshop-")
            assert cal.walk("VTIMEZONE"), "the .ics carries its time zone"
        else:
            assert "venteliste" in str(last["Subject"])
            assert cal is None
            waiting += 1
    assert (confirmed, waiting) == (4, 3)
    assert panel.tick(oslo(2020, 6, 9, 13)).steps == []  # the draw happens once


def test_a_session_moved_in_the_file_sends_a_new_ics_with_the_same_uid_and_a_higher_sequence(first_come):
    panel, r = first_come
    panel.tick(r.opens)
    for email in panel.emails[:2]:
        (invitation,) = inbox(panel.bot, email)
        reply(panel.bot, invitation, email, "2", oslo(2020, 6, 3, 10))
    panel.tick(oslo(2020, 6, 3, 10, 5))
    first = calendar_of(inbox(panel.bot, panel.emails[0])[-1])
    assert first is not None
    before = first.walk("VEVENT")[0]
    assert int(before["SEQUENCE"]) == 0

    meeting = r.meeting("workshop-2")
    assert meeting is not None and meeting.starts is not None and meeting.ends is not None
    later = dataclasses.replace(meeting, starts=oslo(2020, 6, 18, 18), ends=oslo(2020, 6, 18, 20))
    panel.restart_with(dataclasses.replace(r, meetings=(r.meetings[0], later)))
    panel.tick(oslo(2020, 6, 5, 9))

    for email in panel.emails[:2]:
        moved = inbox(panel.bot, email)[-1]
        assert "Nytt tidspunkt" in str(moved["Subject"])
        assert "torsdag 18. juni kl. 18.00" in moved.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        cal = calendar_of(moved)
        assert cal is not None and str(cal["METHOD"]) == "REQUEST"
        event = cal.walk("VEVENT")[0]
        assert str(event["UID"]) == str(before["UID"])
        assert int(event["SEQUENCE"]) == 1
        assert event.decoded("DTSTART") == oslo(2020, 6, 18, 18)
    # Those without a seat in the moved workshop hear nothing about it.
    assert all("Nytt tidspunkt" not in str(m["Subject"]) for e in panel.emails[2:] for m in inbox(panel.bot, e))
    panel.tick(oslo(2020, 6, 5, 10))  # once only
    assert sum("Nytt tidspunkt" in str(m["Subject"]) for m in inbox(panel.bot, panel.emails[0])) == 1
