"""Read-back, not guess: a reply read without full confidence is read back to the resident, not recorded.

"Vi leste svaret ditt slik: 1 Ja · 2 Møbler, Bøker · … Stemmer det?" — the resident confirms with one
click, corrects by replying, or says nothing (then `[replies] unconfirmed_at_close` decides at close).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from mailbot.replies import read_back_verdict
from mailbot.states import InboundState
from mailbot.store import Store
from mailbot.store import read_backs as read_back_store
from mailbot.store.models import ReadBack, Response
from mailbot.store.read_backs import ReadBackState
from tests.conftest import oslo
from tests.inbound.conftest import ASTRID, KARI, OLE, Panel, make_panel, plain, reply

LATER = oslo(2022, 12, 2, 10)
SENT = oslo(2022, 12, 2, 11)
AFTER_CLOSE = oslo(2022, 12, 16, 9)
FULL = "1 A\n2 A,E\n3 2\n4 Sandvika sentrum ved stasjonen"

Unsure = Callable[[str], dict[str, str]]


def read_back_rows(panel: Panel) -> list[ReadBack]:
    with panel.bot.store.transaction() as s:
        rows = list(s.scalars(select(ReadBack).order_by(ReadBack.id)))
        for r in rows:
            s.expunge(r)
    return rows


def source_of(panel: Panel, address: str) -> str | None:
    member_id = panel.member(address).id
    with panel.bot.store.transaction() as s:
        return s.scalar(select(Response.source).where(Response.member_id == member_id))


def read_back_email(panel: Panel, address: str, unsure: Unsure, text: str = FULL,
                    qids: str = "goods") -> EmailMessage:
    """The resident replies with `text`, the reader is unsure of `qids`, and the read-back goes out."""
    panel.push(reply(panel.invitation(address), address, text, headers=unsure(qids)), LATER)
    panel.send(SENT)
    mail = panel.out.to(address)[-1]
    assert "notice-read-back" not in str(mail["Subject"])
    return mail


def test_an_unsure_reading_records_nothing_and_asks_the_resident_if_it_is_right(panel: Panel, unsure: Unsure):
    raw = reply(panel.invitation(KARI), KARI, FULL, headers=unsure("goods"))
    row = panel.push(raw, LATER)
    assert panel.answers(KARI) == {}
    assert row.status == InboundState.DONE and row.reason and "read back to the resident" in row.reason
    (queued,) = panel.answers_queued()
    assert queued.step.startswith("notice-read-back-") and queued.campaign_id == panel.survey.id

    panel.send(SENT)
    mail = panel.out.to(KARI)[-1]
    text = plain(mail)
    assert str(mail["Subject"]) == "Stemmer det? Svaret ditt på Behov for en ombruksbutikk i Bærum"
    assert ("Vi leste svaret ditt slik: 1 Ja · 2 Møbler, Bøker · 3 2 · 4 «Sandvika sentrum ved …». "
            "Stemmer det?") in text
    assert "2. Hvilke varer bør butikken selge? — Møbler, Bøker" in text
    assert "4. Hvor i Bærum bør butikken ligge? — «Sandvika sentrum ved stasjonen»" in text
    assert "Ja, det stemmer: http://127.0.0.1:8080/stemmer/" in text
    assert "Stemmer det ikke? Svar på denne e-posten med rettelser" in text
    assert "Skriv svaret ditt over denne linjen" in text  # corrections are cut like any reply
    html_part = mail.get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()
    assert ">Ja, det stemmer</a>" in html and 'href="http://127.0.0.1:8080/stemmer/' in html
    # An automatic answer (RFC 3834), threaded under the resident's reply.
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["In-Reply-To"] and mail["In-Reply-To"] in raw.decode()
    (waiting,) = read_back_rows(panel)
    assert waiting.status == "waiting" and waiting.inbound_id == row.id
    assert json.loads(waiting.confirm) == ["goods"]


def test_the_read_back_is_written_in_the_residents_language(panel: Panel, unsure: Unsure):
    nn = plain(read_back_email(panel, OLE, unsure, "1 B\n3 4", qids="need"))
    en = read_back_email(panel, ASTRID, unsure, "1 C\n4 By the station", qids="location")
    assert "Vi las svaret ditt slik: 1 Nei · 3 4. Stemmer det?" in nn
    assert "Stemmer det ikkje? Svar på denne e-posten med rettingar" in nn
    assert str(en["Subject"]).startswith("Is this right?")
    assert "We read your answer like this: 1 Vet ikke · 4 “By the station”. Is this right?" in plain(en)


def test_a_reply_with_corrections_replaces_what_it_answers_and_the_rest_stands(panel: Panel, unsure: Unsure):
    mail = read_back_email(panel, KARI, unsure)
    row = panel.push(reply(mail, KARI, "2 B"), oslo(2022, 12, 2, 12))
    assert panel.answers(KARI) == {"need": "Ja", "goods": ("Klær",), "satisfaction": 2,
                                   "location": "Sandvika sentrum ved stasjonen"}
    assert source_of(panel, KARI) == "read-back-corrected"
    assert row.status == InboundState.DONE and "corrects read-back" in (row.reason or "")
    assert [r.status for r in read_back_rows(panel)] == ["corrected"]
    panel.send(oslo(2022, 12, 2, 13))
    receipt = plain(panel.out.to(KARI)[-1])
    assert "Dette har vi registrert" in receipt and "Klær" in receipt


def test_a_plain_yes_by_reply_records_the_reading_as_read(panel: Panel, unsure: Unsure):
    mail = read_back_email(panel, KARI, unsure)
    row = panel.push(reply(mail, KARI, "Ja, det stemmer!\n\nHilsen Kari"), oslo(2022, 12, 2, 12))
    assert panel.answers(KARI) == {"need": "Ja", "goods": ("Møbler", "Bøker"), "satisfaction": 2,
                                   "location": "Sandvika sentrum ved stasjonen"}
    assert source_of(panel, KARI) == "read-back-confirmed"
    assert row.status == InboundState.DONE
    assert [r.status for r in read_back_rows(panel)] == ["confirmed"]


def test_a_plain_no_records_nothing_and_goes_to_a_person(panel: Panel, unsure: Unsure):
    mail = read_back_email(panel, KARI, unsure)
    row = panel.push(reply(mail, KARI, "Nei, det stemmer ikke."), oslo(2022, 12, 2, 12))
    assert panel.answers(KARI) == {}
    assert row.status == InboundState.NEEDS_HUMAN and "wrote no correction" in (row.reason or "")
    assert [r.status for r in read_back_rows(panel)] == ["rejected"]


def test_a_newer_reply_to_the_survey_supersedes_the_reading_that_waits(panel: Panel, unsure: Unsure):
    read_back_email(panel, KARI, unsure)
    row = panel.push(reply(panel.invitation(KARI), KARI, "1 B"), oslo(2022, 12, 3, 9))
    assert panel.answers(KARI) == {"need": "Nei"}  # newest reading wins, the older one is not recorded
    assert source_of(panel, KARI) == "reply"
    assert "replaces the reading" in (row.reason or "")
    assert [r.status for r in read_back_rows(panel)] == ["superseded"]


def test_a_second_unsure_reply_is_read_back_in_place_of_the_first(panel: Panel, unsure: Unsure):
    read_back_email(panel, KARI, unsure)
    read_back_email(panel, KARI, unsure, "1 C\n2 D", qids="goods")
    assert [r.status for r in read_back_rows(panel)] == ["superseded", "waiting"]
    assert "1 Vet ikke · 2 Elektronikk" in plain(panel.out.to(KARI)[-1])
    assert panel.answers(KARI) == {}


def test_an_unsure_correction_is_read_back_once_more_before_it_is_recorded(panel: Panel, unsure: Unsure):
    mail = read_back_email(panel, KARI, unsure)
    panel.push(reply(mail, KARI, "2 B", headers=unsure("goods")), oslo(2022, 12, 2, 12))
    assert panel.answers(KARI) == {}
    first, second = read_back_rows(panel)
    assert (first.status, second.status) == ("corrected", "waiting")
    assert second.source == "read-back-corrected"
    panel.send(oslo(2022, 12, 2, 13))
    assert "Vi leste rettelsen din slik: 1 Ja · 2 Klær · 3 2" in plain(panel.out.to(KARI)[-1])


@pytest.mark.parametrize(("policy", "recorded", "status", "inbound"), [
    ("human", {}, "to-human", InboundState.NEEDS_HUMAN),
    ("record", {"need": "Ja", "goods": ("Møbler", "Bøker"), "satisfaction": 2,
                "location": "Sandvika sentrum ved stasjonen"}, "recorded-at-close", InboundState.DONE),
    ("drop", {}, "dropped-at-close", InboundState.DONE),
])
def test_at_close_a_reading_never_confirmed_goes_where_the_config_says(tmp_path: Path, store: Store, unsure: Unsure,
                                                                        policy: str, recorded: dict, status: str,
                                                                        inbound: InboundState):
    panel = make_panel(tmp_path, store, f'[replies]\nunconfirmed_at_close = "{policy}"')
    panel.invite()
    row = panel.push(reply(panel.invitation(KARI), KARI, FULL, headers=unsure("goods")), LATER)
    panel.read(oslo(2022, 12, 15, 23, 58))  # still open: nothing happens to it
    assert [r.status for r in read_back_rows(panel)] == ["waiting"]
    report = panel.read(AFTER_CLOSE)
    assert panel.answers(KARI) == recorded
    assert [r.status for r in read_back_rows(panel)] == [status]
    after = panel.inbound(row.id)
    assert after.status == inbound
    assert "closed before read-back" in (after.reason or "")
    assert report.needs_human == (1 if policy == "human" else 0)
    if policy == "record":
        assert source_of(panel, KARI) == "read-back-unconfirmed"
    panel.read(oslo(2022, 12, 17, 9))  # settled once: a later round changes nothing
    assert panel.inbound(row.id).reason == after.reason


def test_the_config_value_is_checked_with_file_and_line(tmp_path: Path):
    from mailbot.panel.problems import ConfigError
    from mailbot.panel.settings import load_settings
    from tests.conftest import write_panel

    cfg = write_panel(tmp_path / "panel")
    cfg.write_text(cfg.read_text("utf-8") + '\n[replies]\nunconfirmed_at_close = "ask"\n', "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(cfg, load_env=False)
    (problem,) = caught.value.problems
    assert problem.file == cfg and problem.line == len(cfg.read_text("utf-8").splitlines())
    assert "unconfirmed_at_close" in str(problem) and "human, record, drop" in str(problem)


def test_the_read_back_counts_as_an_automatic_answer_under_the_daily_limit(tmp_path: Path, store: Store,
                                                                          unsure: Unsure):
    panel = make_panel(tmp_path, store, "[replies]\nmax_auto_answers_per_day = 0")
    panel.invite()
    row = panel.push(reply(panel.invitation(KARI), KARI, FULL, headers=unsure("goods")), LATER)
    assert panel.answers_queued() == []
    assert panel.answers(KARI) == {}
    assert row.status == InboundState.NEEDS_HUMAN and "no read-back could be sent" in (row.reason or "")
    assert read_back_rows(panel) == []


def test_bulk_mail_gets_no_read_back_and_waits_for_a_person(panel: Panel, unsure: Unsure):
    raw = reply(panel.invitation(KARI), KARI, FULL, headers={**unsure("goods"), "Precedence": "bulk"})
    row = panel.push(raw, LATER)
    assert panel.answers_queued() == [] and panel.answers(KARI) == {}
    assert row.status == InboundState.NEEDS_HUMAN


def test_a_reply_with_answers_and_a_pause_records_the_answers_and_pauses(panel: Panel, reads_as: Callable[..., None]):
    reads_as(kind="reply", text="1 A 2 B\nSett meg på pause til mars", answers={"need": "Ja", "goods": ("Klær",)},
             command="pause", command_value="2023-03-01")
    row = panel.push(reply(panel.invitation(KARI), KARI, "1 A 2 B\nSett meg på pause til mars"), LATER)
    assert panel.answers(KARI) == {"need": "Ja", "goods": ("Klær",)}
    kari = panel.member(KARI)
    assert kari.status == "paused" and kari.paused_until is not None
    assert kari.paused_until.astimezone(oslo(2023, 3, 1).tzinfo).date().isoformat() == "2023-03-01"
    assert row.status == InboundState.DONE
    assert "command pause" in (row.reason or "") and "recorded need, goods" in (row.reason or "")
    assert sorted(q.payload["kind"] for q in panel.answers_queued()) == ["pause", "receipt"]


def test_a_reading_of_an_erased_member_is_forgotten(panel: Panel, unsure: Unsure):
    from mailbot import membership

    read_back_email(panel, KARI, unsure)
    with panel.bot.store.transaction() as s:
        membership.erase(s, panel.member(KARI).id, oslo(2022, 12, 3, 9), actor="test")
    panel.read(oslo(2022, 12, 3, 10))
    (row,) = read_back_rows(panel)
    assert row.status == "erased" and row.member_id is None and json.loads(row.answers) == {}


def test_erasing_a_member_forgets_their_waiting_reading_at_once(panel: Panel, unsure: Unsure):
    from mailbot import membership

    read_back_email(panel, KARI, unsure)
    with panel.bot.store.transaction() as s:
        membership.erase(s, panel.member(KARI).id, oslo(2022, 12, 3, 9), actor="test")
    (row,) = read_back_rows(panel)  # no round of replies in between
    assert row.status == "erased" and row.member_id is None and json.loads(row.answers) == {}


def test_staff_counts_say_how_the_read_backs_ended(panel: Panel, unsure: Unsure):
    kari = read_back_email(panel, KARI, unsure)
    ole = read_back_email(panel, OLE, unsure, "1 B\n2 C")
    read_back_email(panel, ASTRID, unsure, "1 A\n2 A")
    panel.push(reply(kari, KARI, "Ja"), oslo(2022, 12, 3, 9))
    panel.push(reply(ole, OLE, "2 D"), oslo(2022, 12, 3, 9))
    with panel.bot.store.transaction() as s:
        running = read_back_store.counts(s, panel.survey.id)
    assert (running.sent, running.confirmed, running.corrected, running.never_answered, running.waiting) == \
        (3, 1, 1, 0, 1)
    panel.read(AFTER_CLOSE)
    with panel.bot.store.transaction() as s:
        closed = read_back_store.counts(s, panel.survey.id)
    assert (closed.never_answered, closed.waiting) == (1, 0)
    assert closed.line() == "read-backs sent 3, confirmed 1, corrected 1, never answered 1, waiting 0"


@pytest.mark.parametrize(("text", "verdict"), [
    ("Ja", "yes"), ("ja, det stemmer!", "yes"), ("Det stemmer 👍\n\nMvh\nKari", "yes"), ("Riktig.", "yes"),
    ("Yes, that's right. Thanks!", "yes"), ("Det er rett", "yes"), ("Ja takk", "yes"),
    ("Nei", "no"), ("Nei, det stemmer ikke", "no"), ("Det stemmer ikkje.", "no"), ("That's wrong", "no"),
    ("2 B", None), ("Ja, men 2 skal være Klær", None), ("Ja\nMøbler", None), ("", None), ("Takk!", None),
    ("Hvem står bak dette?", None),
])
def test_a_plain_yes_or_no_is_told_from_a_correction(text: str, verdict: str | None):
    assert read_back_verdict(text) == verdict


def test_a_read_back_that_no_longer_waits_is_not_recorded_again_by_a_late_yes(panel: Panel, unsure: Unsure):
    mail = read_back_email(panel, KARI, unsure)
    panel.push(reply(mail, KARI, "Ja"), oslo(2022, 12, 2, 12))
    with panel.bot.store.transaction() as s:
        (rb,) = s.scalars(select(ReadBack)).all()
        assert rb.status == ReadBackState.CONFIRMED.value
    row = panel.push(reply(mail, KARI, "Ja, det stemmer"), oslo(2022, 12, 2, 13))
    assert row.status == InboundState.DONE and "no longer waits" in (row.reason or "")
    assert panel.answers(KARI)["location"] == "Sandvika sentrum ved stasjonen"


def test_mailbot_status_and_results_show_the_read_back_counts_to_staff(tmp_path: Path, unsure: Unsure):
    import shutil

    from typer.testing import CliRunner

    from mailbot.cli import app
    from mailbot.panel.settings import load_settings
    from tests.conftest import ROOT, write_panel

    cfg = write_panel(tmp_path / "panel")
    shutil.copy(ROOT / "schedules" / "ombruk-2022.toml", cfg.parent / "schedules")
    store = Store(load_settings(cfg, load_env=False).database_url)
    store.upgrade()
    try:
        panel = make_panel(tmp_path, store)
        panel.invite()
        kari = read_back_email(panel, KARI, unsure)
        read_back_email(panel, OLE, unsure, "1 B\n2 C")
        panel.push(reply(kari, KARI, "Ja, det stemmer"), oslo(2022, 12, 3, 9))
    finally:
        store.dispose()
    runner = CliRunner()
    status = runner.invoke(app, ["status", "--config", str(cfg), "--now", "2022-12-06T12:00"],
                           env={"COLUMNS": "160"})
    assert status.exit_code == 0, status.output
    assert ("ombruk-2022: read-backs sent 2, confirmed 1, corrected 0, never answered 0, waiting 1"
            in status.output)
    results = runner.invoke(app, ["results", "ombruk-2022", "--config", str(cfg)], env={"COLUMNS": "160"})
    assert results.exit_code == 0, results.output
    assert "read back to the resident before recording: read-backs sent 2, confirmed 1" in results.output
