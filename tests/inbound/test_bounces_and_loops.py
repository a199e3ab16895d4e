"""Bounces mark addresses undeliverable by the configured policy; nothing is ever sent to a machine."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select

from mailbot.people import MemberStatus
from mailbot.states import InboundState
from mailbot.store import Store
from mailbot.store import responses as response_store
from mailbot.store.models import Inbound
from tests.conftest import oslo
from tests.inbound.conftest import ASTRID, KARI, OLE, PANEL_ADDRESS, Panel, make_panel, plain, reply

LATER = oslo(2022, 12, 2, 10)


def dsn(panel: Panel, address: str, status: str = "5.1.1", action: str = "failed") -> tuple[bytes, str]:
    """A delivery status notification (RFC 3464) for the invitation to `address`, and its VERP address."""
    verp = panel.out.envelope_from(address)
    said = "550 5.1.1 user unknown" if status.startswith("5") else "452 4.2.2 mailbox full"
    raw = f"""From: Mail Delivery System <MAILER-DAEMON@mx.example.no>
To: {verp}
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce.{status}.{address}@mx.example.no>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b0und"

--b0und
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.no.

<{address}>: host said: {said}

--b0und
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.no

Final-Recipient: rfc822; {address}
Action: {action}
Status: {status}

--b0und--
"""
    return raw.replace("\n", "\r\n").encode(), verp


def test_a_hard_bounce_marks_the_member_undeliverable_with_the_reason_and_stops_sending(panel: Panel):
    raw, verp = dsn(panel, KARI)
    row = panel.push(raw, LATER, envelope_to=[verp], envelope_from="")
    assert row.kind == "bounce" and row.status == InboundState.IGNORED
    assert row.reason == f"hard bounce: {KARI}"
    kari = panel.member(KARI)
    assert kari.status == MemberStatus.UNDELIVERABLE
    assert kari.status_reason and "1 hard bounce" in kari.status_reason and KARI in kari.status_reason
    assert panel.answers_queued() == []  # nothing sent back to a bounce
    report = panel.bot.tick(oslo(2022, 12, 5, 9), panel.out)
    assert report.sent.by_step.get("reminder-1") == 3 - 1
    assert len(panel.out.to(KARI)) == 1


def test_the_vERP_token_names_the_member_even_when_the_report_names_no_address(panel: Panel):
    verp = panel.out.envelope_from(OLE)
    msg = EmailMessage()
    msg["From"] = "MAILER-DAEMON@mx.example.no"
    msg["To"] = verp
    msg["Subject"] = "Delivery Status Notification (Failure)"
    msg.set_content("Your message could not be delivered. The account has been disabled.")
    row = panel.push(msg.as_bytes(), LATER, envelope_to=[verp])
    assert row.kind == "bounce" and row.member_id == panel.member(OLE).id


def test_soft_bounces_count_only_when_enough_arrive_within_the_window(tmp_path: Path, store: Store):
    panel = make_panel(tmp_path, store, "[bounces]\nsoft_before_undeliverable = 2\nsoft_window_days = 7\n")
    panel.invite()
    first, verp = dsn(panel, ASTRID, "4.2.2", "delayed")
    panel.push(first, LATER, envelope_to=[verp])
    assert panel.member(ASTRID).status == MemberStatus.ACTIVE
    # Eight days later the first no longer counts.
    second, _ = dsn(panel, ASTRID, "4.2.2", "delayed")
    panel.push(second.replace(b"<bounce.", b"<bounce2."), oslo(2022, 12, 10, 10), envelope_to=[verp])
    assert panel.member(ASTRID).status == MemberStatus.ACTIVE
    third, _ = dsn(panel, ASTRID, "4.2.2", "delayed")
    panel.push(third.replace(b"<bounce.", b"<bounce3."), oslo(2022, 12, 11, 10), envelope_to=[verp])
    astrid = panel.member(ASTRID)
    assert astrid.status == MemberStatus.UNDELIVERABLE
    assert "2 soft bounces in 7 days" in (astrid.status_reason or "")


def test_two_hard_bounces_when_the_policy_asks_for_two(tmp_path: Path, store: Store):
    panel = make_panel(tmp_path, store, "[bounces]\nhard_before_undeliverable = 2\n")
    panel.invite()
    raw, verp = dsn(panel, KARI)
    panel.push(raw, LATER, envelope_to=[verp])
    assert panel.member(KARI).status == MemberStatus.ACTIVE
    panel.push(raw.replace(b"<bounce.", b"<bounce2."), oslo(2022, 12, 3), envelope_to=[verp])
    assert panel.member(KARI).status == MemberStatus.UNDELIVERABLE


def test_a_bounce_for_an_address_not_on_the_panel_is_kept_and_ignored(panel: Panel):
    msg = EmailMessage()
    msg["From"] = "MAILER-DAEMON@mx.example.no"
    msg["To"] = PANEL_ADDRESS
    msg["Subject"] = "Undelivered Mail Returned to Sender"
    msg.set_content("<someone@else.example>: 550 5.1.1 user unknown\n")
    row = panel.push(msg.as_bytes(), LATER)
    assert row.kind == "bounce" and row.status == InboundState.IGNORED and row.raw
    assert panel.answers_queued() == []


def test_an_automatic_reply_gets_no_answer(panel: Panel):
    raw = reply(panel.invitation(KARI), KARI, "Jeg er på ferie til 10. desember.",
                subject="Automatisk svar: Behov for en ombruksbutikk", headers={"Auto-Submitted": "auto-replied"})
    row = panel.push(raw, LATER)
    assert row.kind == "auto-reply" and row.status == InboundState.IGNORED
    assert panel.answers_queued() == []


def test_a_norwegian_holiday_notice_without_headers_gets_no_answer(panel: Panel):
    raw = reply(panel.invitation(KARI), KARI, "Jeg er på ferie og leser ikke e-post før 2. januar.",
                subject="Fraværsmelding", quote=False)
    row = panel.push(raw, LATER)
    assert row.kind == "auto-reply"
    assert panel.answers_queued() == []


def test_mail_from_a_list_is_kept_for_a_person_and_not_answered(panel: Panel):
    raw = reply(panel.invitation(KARI), KARI, "1 A 2 B 3 4", headers={"List-Id": "Naboer <naboer.example.no>"})
    row = panel.push(raw, LATER)
    assert row.status == InboundState.NEEDS_HUMAN and "mailing list" in (row.reason or "")
    assert panel.answers_queued() == []


def test_precedence_list_alone_is_a_list(panel: Panel):
    raw = reply(panel.invitation(KARI), KARI, "STOPP", headers={"Precedence": "list"})
    row = panel.push(raw, LATER)
    assert row.status == InboundState.NEEDS_HUMAN
    assert panel.member(KARI).status == MemberStatus.ACTIVE
    assert panel.answers_queued() == []


def test_bulk_mail_is_read_but_never_answered(panel: Panel):
    raw = reply(panel.invitation(KARI), KARI, "1 A 2 B 3 4", headers={"Precedence": "bulk"})
    row = panel.push(raw, LATER)
    assert panel.answers(KARI)["need"] == "Ja"
    assert "no automatic answer: Precedence: bulk" in (row.reason or "")
    assert panel.answers_queued() == []


def test_mail_from_our_own_addresses_is_never_answered(panel: Panel):
    invitation = panel.invitation(KARI)
    for sender in (PANEL_ADDRESS, "innbyggerpanel+abc@svar.baerum.example.no", "bounces@svar.baerum.example.no"):
        raw = reply(invitation, sender, "1 A 2 B 3 4")
        row = panel.push(raw, LATER)
        assert row.status == InboundState.IGNORED, sender
    assert panel.answers_queued() == []


def test_a_member_gets_at_most_the_daily_number_of_automatic_answers(panel: Panel):
    invitation = panel.invitation(KARI)
    for i in range(5):
        panel.push(reply(invitation, KARI, f"1 A 2 B 3 {i % 5 + 1}"), oslo(2022, 12, 2, 10, i))
    assert len([q for q in panel.answers_queued() if q.member_id == panel.member(KARI).id]) == 3
    kari = panel.member(KARI).id
    with panel.bot.store.transaction() as s:
        reasons = s.scalars(select(Inbound.reason).order_by(Inbound.id)).all()
        answers = response_store.answers_of(s, panel.survey, kari)
    assert answers["satisfaction"] == 5  # every reply is still recorded
    assert "daily limit of 3" in (reasons[-1] or "")
    # A day later the member can be answered again.
    panel.push(reply(invitation, KARI, "1 C"), oslo(2022, 12, 3, 10, 30))
    assert len([q for q in panel.answers_queued() if q.member_id == panel.member(KARI).id]) == 4


def test_every_automatic_email_says_it_is_automatic(panel: Panel):
    invitation = panel.invitation(KARI)
    panel.push(reply(invitation, KARI, "1 A"), LATER)  # receipt
    panel.push(reply(panel.invitation(OLE), OLE, "Kven står bak dette?"), LATER)  # not understood
    panel.push(reply(panel.invitation(ASTRID), ASTRID, "PAUSE"), LATER)  # notice
    report = panel.send(oslo(2022, 12, 2, 11))
    assert report.sent == 3
    for address in (KARI, OLE, ASTRID):
        answer = panel.out.to(address)[-1]
        assert answer["Auto-Submitted"] == "auto-replied", address
        assert answer["Precedence"] is None and answer["List-Id"] is None
    assert "registrert" in plain(panel.out.to(KARI)[-1])


def test_raw_messages_are_forgotten_after_the_retention_period(panel: Panel):
    row = panel.push(reply(panel.invitation(KARI), KARI, "1 A"), LATER)
    assert panel.bot.forget_old_raw(oslo(2023, 2, 28)) == 0  # 88 days: kept
    assert panel.bot.forget_old_raw(oslo(2023, 3, 3)) == 1  # 91 days
    kept = panel.inbound(row.id)
    assert kept.raw is None and kept.status == InboundState.DONE and kept.member_id == panel.member(KARI).id
    assert panel.answers(KARI) == {"need": "Ja"}


def test_a_message_not_yet_read_keeps_its_raw_bytes_past_the_retention_period(panel: Panel):
    inbound_id = panel.deliver(reply(panel.invitation(KARI), KARI, "1 A"), LATER)
    assert panel.bot.forget_old_raw(oslo(2023, 6, 1)) == 0
    assert panel.inbound(inbound_id).raw
