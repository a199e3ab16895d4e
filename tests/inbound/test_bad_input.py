"""Bad input end to end: stored, classified or queued for a person with a reason; never a crash,
never a lost message, never an email to a machine or a stranger."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from mailbot.states import InboundState
from tests.conftest import oslo
from tests.inbound.conftest import KARI, PANEL_ADDRESS, Panel, reply

LATER = oslo(2022, 12, 2, 10)


def settled(panel: Panel, raw: bytes, **kw: object):
    row = panel.push(raw, LATER, **kw)  # type: ignore[arg-type]
    assert row.status != InboundState.NEW
    assert row.raw == raw  # kept as it came
    if row.status == InboundState.NEEDS_HUMAN:
        assert row.reason
    return row


def test_malformed_mime_with_a_missing_boundary_is_read_or_queued(panel: Panel):
    raw = (b"From: kari@example.no\r\nTo: " + str(panel.invitation(KARI)["Reply-To"]).encode() +
           b"\r\nSubject: svar\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"nope\"\r\n\r\n"
           b"--other\r\nContent-Type: text/plain\r\n\r\n1 A\r\n--other--\r\n")
    row = settled(panel, raw)
    assert row.member_id == panel.member(KARI).id


def test_a_message_with_no_headers_at_all_waits_for_a_person_and_gets_no_answer(panel: Panel):
    row = settled(panel, b"1 A 2 B 3 4\r\n")
    assert row.status == InboundState.NEEDS_HUMAN
    assert panel.answers_queued() == []


def test_an_empty_message_is_kept(panel: Panel):
    row = settled(panel, b"")
    assert row.status == InboundState.NEEDS_HUMAN
    assert panel.answers_queued() == []


def test_nul_bytes_in_headers_and_body_do_not_stop_the_reply(panel: Panel):
    raw = reply(panel.invitation(KARI), KARI, "1 A 2 B 3 4")
    raw = raw.replace(b"Subject: SV:", b"Subject: SV:\x00").replace(b"1 A 2 B 3 4", b"1 A\x00 2 B 3 4")
    row = settled(panel, raw)
    assert row.member_id == panel.member(KARI).id


def test_ten_thousand_recipients_in_to_neither_crash_nor_slow_the_match(panel: Panel):
    many = ", ".join(f"nabo{i}@example.no" for i in range(10_000))
    raw = reply(panel.invitation(KARI), KARI, "1 A", to_address=many + ", " + str(panel.invitation(KARI)["Reply-To"]))
    row = settled(panel, raw)
    assert row.member_id == panel.member(KARI).id


def test_a_forged_token_from_a_stranger_goes_to_a_person_and_nothing_is_sent(panel: Panel):
    raw = reply(panel.invitation(KARI), "ukjent@example.org", "1 A", thread=False,
                to_address="innbyggerpanel+aaaaaaaaaaaaaaaaaaaa@svar.baerum.example.no")
    row = settled(panel, raw)
    assert row.status == InboundState.NEEDS_HUMAN
    assert "token we did not sign" in (row.reason or "")
    assert panel.answers_queued() == []


def test_a_forged_token_from_a_member_is_matched_by_sender_and_flagged(panel: Panel):
    raw = reply(panel.invitation(KARI), KARI, "1 A", thread=False,
                to_address="innbyggerpanel+aaaaaaaaaaaaaaaaaaaa@svar.baerum.example.no")
    row = settled(panel, raw)
    assert row.member_id == panel.member(KARI).id
    assert "token we did not sign" in (row.reason or "")


def test_a_forward_with_the_invitation_attached_as_a_message(panel: Panel):
    invitation = panel.invitation(KARI)
    outer = EmailMessage()
    outer["From"] = KARI
    outer["To"] = str(invitation["Reply-To"])
    outer["Subject"] = "VS: " + str(invitation["Subject"])
    outer.set_content("1 A 2 E 3 5")
    outer.add_attachment(invitation)  # message/rfc822
    row = settled(panel, outer.as_bytes())
    assert row.member_id == panel.member(KARI).id
    assert panel.answers(KARI).get("need") == "Ja"


def test_forwards_nested_fifty_deep_are_kept(panel: Panel):
    inner = EmailMessage()
    inner["From"] = KARI
    inner.set_content("1 A")
    for depth in range(50):
        outer = EmailMessage()
        outer["From"] = KARI
        outer["To"] = PANEL_ADDRESS
        outer["Subject"] = f"Fwd {depth}"
        outer.set_content("se under")
        outer.add_attachment(inner)
        inner = outer
    settled(panel, inner.as_bytes())


@pytest.mark.parametrize("raw", [
    b"\xff\xfe\x00garbage\x00\x00\r\n\r\n\x80\x81",
    b"From: \xe6\xf8\xe5 <kari@example.no>\r\nSubject: =?utf-8?B?!!!?=\r\n\r\nhei",
    b"Content-Type: text/plain; charset=x-unknown-charset\r\nFrom: kari@example.no\r\n\r\n1 A\r\n",
    b"From: kari@example.no\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n",
    b"From:\r\nTo:\r\nSubject:\r\nMessage-ID:\r\nIn-Reply-To: <<<>>>\r\n\r\n",
])
def test_strange_bytes_are_kept_and_settled(panel: Panel, raw: bytes):
    row = settled(panel, raw)
    assert row.status in (InboundState.NEEDS_HUMAN, InboundState.DONE, InboundState.IGNORED)


def test_a_message_bigger_than_the_reader_takes_waits_for_a_person(panel: Panel):
    from mailbot.reading import MAX_MESSAGE_BYTES

    raw = reply(panel.invitation(KARI), KARI, "1 A") + b"x" * (MAX_MESSAGE_BYTES + 1)
    row = settled(panel, raw)
    assert row.status == InboundState.NEEDS_HUMAN and "could not be read" in (row.reason or "")
    assert panel.answers_queued() == []


def test_the_same_message_delivered_twice_is_read_once(panel: Panel):
    raw = reply(panel.invitation(KARI), KARI, "1 A")
    panel.push(raw, LATER)
    from mailbot.store import inbound as inbound_store

    with panel.bot.store.transaction() as s:
        assert inbound_store.store_raw(s, raw, via="imap", now=LATER) is None
    assert len(panel.answers_queued()) == 1
