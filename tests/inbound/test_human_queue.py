"""Partial and unclear replies: what was read is recorded, the resident is told what is missing, staff see why."""

from __future__ import annotations

from mailbot.states import InboundState
from tests.conftest import oslo
from tests.inbound.conftest import KARI, OLE, Panel, plain, reply

LATER = oslo(2022, 12, 2, 10)


def test_a_reply_that_answers_some_questions_records_those_and_names_the_missing_ones(panel: Panel):
    row = panel.push(reply(panel.invitation(KARI), KARI, "1 A"), LATER)
    assert row.status == InboundState.DONE
    assert panel.answers(KARI) == {"need": "Ja"}
    (receipt,) = panel.answers_queued()
    assert receipt.payload["missing"] == ["goods", "satisfaction"]
    panel.send(oslo(2022, 12, 2, 11))
    text = plain(panel.out.to(KARI)[-1])
    assert "Disse spørsmålene mangler svar" in text
    assert "Hvilke varer bør butikken selge?" in text and "Hvor fornøyd er du" in text


def test_an_unclear_answer_is_named_in_the_note_and_the_receipt_asks_the_resident_not_a_person(panel: Panel):
    row = panel.push(reply(panel.invitation(KARI), KARI, "1 A\n3 veldig"), LATER)
    assert row.status == InboundState.DONE
    assert row.reason and "satisfaction" in row.reason and "recorded need" in row.reason
    assert "the receipt asks the resident" in row.reason
    assert panel.answers(KARI) == {"need": "Ja"}
    (receipt,) = panel.answers_queued()
    assert "satisfaction" in receipt.payload["unsure"]
    panel.send(oslo(2022, 12, 2, 11))
    text = plain(panel.out.to(KARI)[-1])
    assert "Disse svarene forstod vi ikke helt" in text
    assert "3. Hvor fornøyd er du med dagens tilbud for gjenbruk?" in text


def test_a_reply_with_only_an_unclear_answer_still_gets_the_short_note(panel: Panel):
    row = panel.push(reply(panel.invitation(OLE), OLE, "1 A eller B"), LATER)
    assert row.status == InboundState.NEEDS_HUMAN
    (note,) = panel.answers_queued()
    assert note.payload["kind"] == "receipt" and "need" in note.payload["unsure"]


def test_a_reply_nobody_can_read_is_kept_and_answered_with_how_to_write_it(panel: Panel):
    row = panel.push(reply(panel.invitation(KARI), KARI, "Hvem står bak dette?"), LATER)
    assert row.status == InboundState.NEEDS_HUMAN and row.reason and row.raw
    (note,) = panel.answers_queued()
    assert note.payload["kind"] == "not-understood"


def test_a_reply_from_another_address_is_matched_by_token_recorded_and_flagged(panel: Panel):
    raw = reply(panel.invitation(KARI), "kari.jobb@firma.example", "1 B 2 A 3 2", thread=False)
    row = panel.push(raw, LATER)
    assert row.status == InboundState.DONE
    assert row.member_id == panel.member(KARI).id
    assert "sent from another address (kari.jobb@firma.example)" in (row.reason or "")
    assert panel.answers(KARI)["need"] == "Nei"
    (receipt,) = panel.answers_queued()
    assert receipt.member_id == panel.member(KARI).id  # the receipt goes to the address we know


def test_a_reply_after_close_is_not_recorded_and_gets_a_polite_notice(panel: Panel):
    row = panel.push(reply(panel.invitation(KARI), KARI, "1 A"), oslo(2022, 12, 16, 10))
    assert row.status == InboundState.DONE and row.reason == "arrived after close"
    assert panel.answers(KARI) == {}
    (note,) = panel.answers_queued()
    assert note.payload["kind"] == "closed"
