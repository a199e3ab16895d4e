"""Commands in a reply are carried out and answered with what was done, in the member's language."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from mailbot.membership_models import Signup
from mailbot.people import MemberStatus
from mailbot.states import InboundState
from tests.conftest import OSLO, oslo
from tests.inbound.conftest import ASTRID, KARI, OLE, Panel, plain, reply

LATER = oslo(2022, 12, 2, 10)


def notices(panel: Panel, address: str) -> list[str]:
    """The texts of what was sent to `address` after the invitation."""
    panel.send(oslo(2022, 12, 2, 23))
    return [plain(m) for m in panel.out.to(address)[1:]]


@pytest.mark.parametrize("word", ["STOPP", "Avmeld", "meld meg av", "UNSUBSCRIBE", "Stopp takk"])
def test_an_unsubscribe_word_in_the_reply_unsubscribes_and_says_how_to_come_back(panel: Panel, word: str):
    row = panel.push(reply(panel.invitation(KARI), KARI, word), LATER)
    assert row.status == InboundState.DONE and row.kind == "command"
    assert panel.member(KARI).status == MemberStatus.UNSUBSCRIBED
    (answer,) = panel.out.to(KARI)[1:] if panel.send(LATER) else []
    text = plain(answer)
    assert "Du er nå meldt av Innbyggerpanelet" in text
    assert "BLI MED" in text  # how to come back
    assert answer["Auto-Submitted"] == "auto-replied"
    assert answer["In-Reply-To"]


def test_stopp_in_the_subject_of_the_unsubscribe_mailto_unsubscribes(panel: Panel):
    panel.push(reply(panel.invitation(OLE), OLE, "", subject="STOPP", quote=False), LATER)
    assert panel.member(OLE).status == MemberStatus.UNSUBSCRIBED
    (text,) = notices(panel, OLE)
    assert "Du er no meld av Innbyggerpanelet" in text  # Ole reads nynorsk


def test_an_unsubscribed_member_no_longer_gets_reminders(panel: Panel):
    panel.push(reply(panel.invitation(KARI), KARI, "STOPP"), LATER)
    report = panel.bot.tick(oslo(2022, 12, 5, 9), panel.out)
    assert report.sent.by_step.get("reminder-1") == 2  # Ole and Astrid, not Kari
    assert all("reminder" not in str(m["Subject"]).lower() for m in panel.out.to(KARI))


def test_pause_with_a_norwegian_date_pauses_until_the_start_of_that_day_in_oslo(panel: Panel):
    row = panel.push(reply(panel.invitation(KARI), KARI, "PAUSE til 1. mars"), LATER)
    member = panel.member(KARI)
    assert member.status == MemberStatus.PAUSED
    assert member.paused_until == datetime(2023, 3, 1, tzinfo=OSLO)
    assert "2023-03-01" in (row.reason or "")
    (text,) = notices(panel, KARI)
    assert "før onsdag 1. mars 2023" in text and "START" in text


def test_pause_with_a_numeric_date_in_english(panel: Panel):
    panel.push(reply(panel.invitation(ASTRID), ASTRID, "pause til 15.01.2024"), LATER)
    assert panel.member(ASTRID).paused_until == datetime(2024, 1, 15, tzinfo=OSLO)
    (text,) = notices(panel, ASTRID)
    assert "before Monday 15 January 2024" in text


def test_pause_with_a_date_nobody_can_read_pauses_until_start_and_says_so(panel: Panel):
    row = panel.push(reply(panel.invitation(KARI), KARI, "PAUSE til etter jul"), LATER)
    member = panel.member(KARI)
    assert member.status == MemberStatus.PAUSED and member.paused_until is None
    assert "not understood" in (row.reason or "")
    (text,) = notices(panel, KARI)
    assert "Vi forstod ikke datoen «etter jul»" in text and "før du ber om det" in text


def test_a_pause_ends_by_itself_on_its_date(panel: Panel):
    panel.push(reply(panel.invitation(KARI), KARI, "PAUSE til 4. desember"), LATER)
    report = panel.bot.tick(oslo(2022, 12, 5, 9), panel.out)
    assert report.sent.by_step.get("reminder-1") == 3  # the pause ended on the 4th


def test_start_after_a_pause_makes_the_member_active_again(panel: Panel):
    panel.push(reply(panel.invitation(KARI), KARI, "PAUSE"), LATER)
    assert panel.member(KARI).status == MemberStatus.PAUSED
    panel.push(reply(panel.invitation(KARI), KARI, "START"), oslo(2022, 12, 2, 11))
    assert panel.member(KARI).status == MemberStatus.ACTIVE
    texts = notices(panel, KARI)
    assert "Pausen er over" in texts[-1]


def test_a_language_command_changes_the_language_and_answers_in_the_new_one(panel: Panel):
    panel.push(reply(panel.invitation(KARI), KARI, "SPRÅK EN"), LATER)
    assert panel.member(KARI).language == "en"
    (text,) = notices(panel, KARI)
    assert "From now on we will write to you in English" in text


def test_slett_sends_a_link_that_erases_when_used(panel: Panel):
    row = panel.push(reply(panel.invitation(KARI), KARI, "SLETT"), LATER)
    assert row.status == InboundState.DONE
    assert panel.member(KARI).status == MemberStatus.ACTIVE  # nothing erased before the link is used
    (queued,) = panel.answers_queued()
    assert queued.step.startswith("notice-membership-erase-confirm")
    assert "/slett/" in queued.payload["context"]["confirm_url"]


def test_bli_med_from_someone_not_on_the_panel_asks_them_to_confirm(panel: Panel):
    stranger = reply(panel.invitation(KARI), "nabo@example.no", "BLI MED", quote=False, thread=False,
                     to_address="innbyggerpanel@baerum.example.no")
    row = panel.push(stranger, LATER)
    assert row.status == InboundState.DONE and "join" in (row.reason or "")
    with panel.bot.store.transaction() as s:
        assert s.scalars(select(Signup.email)).all() == ["nabo@example.no"]


def test_the_confirmation_link_goes_to_the_address_that_asked_to_join(panel: Panel):
    stranger = reply(panel.invitation(KARI), "nabo@example.no", "BLI MED", quote=False, thread=False,
                     to_address="innbyggerpanel@baerum.example.no")
    panel.push(stranger, LATER)
    panel.send(oslo(2022, 12, 2, 11))
    (confirm,) = panel.out.to("nabo@example.no")
    assert "/bli-med/bekreft/" in plain(confirm)
    assert confirm["Auto-Submitted"] == "auto-replied"


def test_bli_med_in_answer_to_a_forwarded_invitation_signs_up_the_sender_not_the_member(panel: Panel):
    row = panel.push(reply(panel.invitation(KARI), "nabo@example.no", "BLI MED"), LATER)
    assert row.status == InboundState.DONE
    with panel.bot.store.transaction() as s:
        assert s.scalars(select(Signup.email)).all() == ["nabo@example.no"]


def test_bli_med_from_a_member_who_left_sends_a_confirmation_link(panel: Panel):
    panel.push(reply(panel.invitation(KARI), KARI, "STOPP"), LATER)
    row = panel.push(reply(panel.invitation(KARI), KARI, "BLI MED"), oslo(2022, 12, 3, 10))
    assert "confirmation-sent" in (row.reason or "")
    assert panel.answers_queued()[-1].step.startswith("notice-membership-confirm")


def test_stopp_inside_the_quoted_text_is_not_a_command(panel: Panel):
    invitation = panel.invitation(KARI)
    raw = reply(invitation, KARI, "1 A 2 B 3 4\n\n> STOPP\n> PAUSE til 1. mars\n")
    row = panel.push(raw, LATER)
    assert row.kind == "reply" and row.status == InboundState.DONE
    assert panel.member(KARI).status == MemberStatus.ACTIVE
    assert panel.answers(KARI)["need"] == "Ja"


def test_a_command_word_inside_a_sentence_is_no_command_and_nothing_is_recorded_unasked(panel: Panel):
    row = panel.push(reply(panel.invitation(KARI), KARI, "Dere må stoppe dette maset om butikken."), LATER)
    assert panel.member(KARI).status == MemberStatus.ACTIVE
    assert panel.answers(KARI) == {}
    kinds = [q.payload.get("kind") for q in panel.answers_queued()]
    assert "unsubscribe" not in kinds
    # A person reads it, or the resident is asked whether the reader's guess is what they meant.
    assert row.status == InboundState.NEEDS_HUMAN or kinds == ["read-back"]
