"""`mailbot plan`: each course and recruitment email, to whom and how many; `mailbot validate` lists staff's files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.panel.settings import load_settings
from mailbot.store import Store
from tests.conftest import ROOT, write_panel
from tests.factories import create_members


@pytest.fixture
def panel(tmp_path: Path) -> Path:
    """The Hverdagsglede pilot and the «Min side» user test in schedules/, five members."""
    cfg = write_panel(tmp_path / "panel")
    for name in ("hverdagsglede-pilot-2020", "min-side-2020"):
        shutil.copy(ROOT / "schedules" / f"{name}.toml", cfg.parent / "schedules")
    store = Store(load_settings(cfg, load_env=False).database_url)
    store.upgrade()
    with store.transaction() as s:
        create_members(s, 5)
    store.dispose()
    return cfg


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_plan_says_to_whom_and_how_many_for_each_course_and_recruitment_email(panel):
    rows = [json.loads(line) for line in _run("plan", "-c", str(panel), "--now", "2020-05-01T09:00",
                                              "--json").splitlines()]
    by_step = {(r["campaign"], r["step"]): r for r in rows}
    invitation = by_step[("hverdagsglede-pilot-2020", "invitation")]
    assert (invitation["to"], invitation["recipients"]) == ("audience", 5)
    lesson = by_step[("hverdagsglede-pilot-2020", "lesson-host-2020-1")]
    assert (lesson["to"], lesson["recipients"]) == ("enrolled (host-2020)", 0)
    assert lesson["at"] == "2020-09-09T18:00:00+02:00"
    draw = by_step[("min-side-2020", "draw")]
    assert draw["waits_for"] == "approved"
    assert sum(1 for r in rows if r["campaign"] == "hverdagsglede-pilot-2020" and r["step"].startswith("lesson-")) == 13


def test_plan_table_has_the_to_whom_and_how_many_columns(panel):
    out = _run("plan", "-c", str(panel), "--now", "2020-05-01T09:00")
    assert "to whom" in out and "how many" in out
    assert "enrolled (host-2020)" in out and "after approved" in out


def test_validate_lists_the_campaigns_staff_wrote_not_their_derived_forms(panel):
    out = _run("validate", "-c", str(panel))
    assert "hverdagsglede-pilot-2020" in out and "min-side-2020" in out
    assert ".svar" not in out and "host-2020.1" not in out
    assert "OK, 2 campaign(s)" in out
