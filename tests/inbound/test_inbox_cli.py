"""`mailbot inbox`: staff list, read, resolve and dismiss what needs a person; exit 2 changes nothing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.panel.settings import load_settings
from mailbot.schedules import load_campaigns
from mailbot.states import InboundState
from mailbot.store import Store
from tests.conftest import ROOT, oslo
from tests.inbound.conftest import KARI, OLE, Panel, make_panel, reply
from tests.inbound.test_bounces_and_loops import dsn

runner = CliRunner()
LATER = oslo(2022, 12, 2, 10)


@pytest.fixture
def staff(tmp_path: Path) -> Iterator[tuple[Panel, Path]]:
    """A panel on the SQLite file its config.toml names, with the survey in schedules/."""
    folder = tmp_path / "panel"
    (folder / "schedules").mkdir(parents=True)
    shutil.copy(ROOT / "tests/data/ombruk-survey.toml", folder / "schedules/ombruk-2022.toml")
    config = folder / "config.toml"
    from tests.conftest import write_panel

    write_panel(folder)
    settings = load_settings(config, load_env=False)
    store = Store(settings.database_url)
    store.upgrade()
    (survey,) = load_campaigns(settings)
    panel = make_panel(tmp_path, store, survey=survey)
    panel.invite()
    yield panel, config
    store.dispose()


def inbox(config: Path, *args: str):
    return runner.invoke(app, ["inbox", *args, "--config", str(config)], env={"COLUMNS": "200", "USER": "test"})


def test_the_queue_lists_what_needs_a_person_with_reason_and_typed_text(staff):
    panel, config = staff
    row = panel.push(reply(panel.invitation(KARI), KARI, "Hvem står bak dette?"), LATER)
    panel.push(reply(panel.invitation(OLE), OLE, "1 A"), LATER)  # done: not listed
    result = inbox(config, "--json")
    assert result.exit_code == 0, result.output
    (listed,) = json.loads(result.stdout)
    assert listed["id"] == row.id and listed["member"] == KARI and listed["campaign"] == "ombruk-2022"
    assert listed["reason"] and listed["text"] == "Hvem står bak dette?"
    assert listed["received"] == "2022-12-02 10:00"
    table = inbox(config)
    assert table.exit_code == 0 and "Hvem står bak dette?" in table.stdout


def test_show_prints_the_text_part(staff):
    panel, config = staff
    row = panel.push(reply(panel.invitation(KARI), KARI, "Hvem står bak dette?"), LATER)
    result = inbox(config, "show", str(row.id))
    assert result.exit_code == 0
    assert "Hvem står bak dette?" in result.stdout and "> " in result.stdout  # the whole text part
    assert f"From: {KARI}" in result.stdout


def test_resolve_records_answers_as_staff_marks_the_message_done_and_says_what(staff):
    panel, config = staff
    row = panel.push(reply(panel.invitation(KARI), KARI, "Hvem står bak dette?"), LATER)
    assert row.status == InboundState.NEEDS_HUMAN
    result = inbox(config, "resolve", str(row.id), "--answers", "1 A 2 A 3 3")
    assert result.exit_code == 0, result.output
    assert "Er det behov for en ombruksbutikk i Bærum?: Ja" in result.stdout
    assert panel.answers(KARI) == {"q1": "Ja", "q2": ("Møbler",), "q3": 3}
    done = panel.inbound(row.id)
    assert done.status == InboundState.DONE and "resolved by test" in (done.reason or "")
    assert json.loads(inbox(config, "--json").stdout) == []


def test_resolve_with_unreadable_answers_changes_nothing(staff):
    panel, config = staff
    row = panel.push(reply(panel.invitation(KARI), KARI, "Hvem står bak dette?"), LATER)
    result = inbox(config, "resolve", str(row.id), "--answers", "kanskje")
    assert result.exit_code == 2
    assert "Nothing was changed" in result.stderr
    assert panel.inbound(row.id).status == InboundState.NEEDS_HUMAN
    assert panel.answers(KARI) == {}


def test_a_bad_id_exits_2(staff):
    _, config = staff
    for args in (["show", "999"], ["resolve", "999", "--answers", "1 A"], ["dismiss", "999", "--reason", "x"]):
        result = inbox(config, *args)
        assert result.exit_code == 2, args
        assert "no message with id 999" in result.stderr


def test_dismiss_takes_it_off_the_queue_with_the_reason(staff):
    panel, config = staff
    row = panel.push(reply(panel.invitation(KARI), KARI, "Hvem står bak dette?"), LATER)
    result = inbox(config, "dismiss", str(row.id), "--reason", "question forwarded to the planning office")
    assert result.exit_code == 0
    gone = panel.inbound(row.id)
    assert gone.status == InboundState.IGNORED
    assert "dismissed by test: question forwarded to the planning office" in (gone.reason or "")
    assert json.loads(inbox(config, "--json").stdout) == []
    assert json.loads(inbox(config, "--json", "--all").stdout)[0]["id"] == row.id


def test_undeliverable_members_are_listed_with_the_reason(staff):
    panel, config = staff
    raw, verp = dsn(panel, KARI)
    panel.push(raw, LATER, envelope_to=[verp])
    result = inbox(config, "undeliverable", "--json")
    assert result.exit_code == 0
    (member,) = json.loads(result.stdout)
    assert member["email"] == KARI and "hard bounce" in member["reason"]
    members = runner.invoke(app, ["members", "list", "--json", "--config", str(config)])
    assert any(m["email"] == KARI and m["status"] == "undeliverable" for m in json.loads(members.stdout))
