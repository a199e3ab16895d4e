"""`mailbot selection show|approve`: staff see the draw before it happens, approve it; the tick draws exactly that."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailbot import recruitment as seats
from mailbot.campaigns import Recruitment
from mailbot.cli import app
from mailbot.panel.settings import load_settings
from mailbot.plan import APPROVED, DRAW
from mailbot.schedules import load_campaigns
from mailbot.steps import carry_out_due
from mailbot.store import Store
from mailbot.store import outbox as outbox_store
from mailbot.store import seats as seat_store
from tests.conftest import ROOT, oslo, write_panel
from tests.factories import create_member

POSTCODES = ["1300", "1338", "1356", "1360"]


@pytest.fixture
def panel(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The «Min side» file in schedules/, 26 volunteers of mixed age and district, before the deadline."""
    cfg = write_panel(tmp_path / "panel")
    shutil.copy(ROOT / "schedules" / "min-side-2020.toml", cfg.parent / "schedules")
    settings = load_settings(cfg, load_env=False)
    r = next(c for c in load_campaigns(settings) if c.id == "min-side-2020")
    assert isinstance(r, Recruitment)
    store = Store(settings.database_url)
    store.upgrade()
    with store.transaction() as s:
        seat_store.ensure_groups(s, r.id, seats.capacities(r))
        for i in range(26):
            m = create_member(s, f"frivillig{i}@example.no", name=f"Frivillig {i}", birth_year=1940 + (i * 7) % 70,
                              postcode=POSTCODES[i % 4])
            seats.volunteer(s, r, m.id, ("", "workshop-1", "workshop-2")[i % 3], oslo(2020, 6, 3, 10))
    yield cfg, settings, store, r
    store.dispose()


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def _gets(output: str) -> dict[str, str]:
    """member -> what the table says they get (a workshop or the waitlist)."""
    rows = re.findall(r"│\s*\d+\s*│\s*(\S+@example\.no)\s*│.*?│.*?│.*?│\s*(\S+)\s*│", output)
    return dict(rows)


def test_show_lists_every_volunteer_with_what_they_get(panel):
    cfg, _, _, r = panel
    result = _run("selection", "show", r.id, "-c", str(cfg), "--now", "2020-06-09T13:00")
    assert result.exit_code == 0, result.output
    assert "26 volunteers, 20 seats (stratified, seed 2020)" in result.output
    gets = _gets(result.output)
    assert len(gets) == 26
    assert sorted(v for v in gets.values() if v != "waitlist").count("workshop-1") == 10
    assert list(gets.values()).count("waitlist") == 6


def test_show_prints_the_same_twice_and_changes_nothing(panel):
    cfg, _, store, r = panel
    first = _run("selection", "show", r.id, "-c", str(cfg)).output
    assert _run("selection", "show", r.id, "-c", str(cfg)).output == first
    with store.transaction() as s:
        assert {e.status for e in seat_store.all_enrolments(s, r.id)} == {"volunteered"}
        assert not outbox_store.step_is_done(s, r.id, APPROVED)


def test_the_draw_waits_for_approval_then_seats_exactly_who_show_listed(panel):
    cfg, settings, store, r = panel
    campaigns = load_campaigns(settings)
    shown = _gets(_run("selection", "show", r.id, "-c", str(cfg)).output)
    after_deadline = oslo(2020, 6, 9, 13)
    carry_out_due(settings, store, campaigns, after_deadline)
    with store.transaction() as s:
        assert not outbox_store.step_is_done(s, r.id, DRAW)  # not without approval

    result = _run("selection", "approve", r.id, "-c", str(cfg), "--now", "2020-06-09T13:00")
    assert result.exit_code == 0 and "draw approved" in result.output
    again = _run("selection", "approve", r.id, "-c", str(cfg))
    assert again.exit_code == 0 and "already approved" in again.output

    carry_out_due(settings, store, campaigns, oslo(2020, 6, 9, 13, 5))
    with store.transaction() as s:
        assert outbox_store.step_is_done(s, r.id, DRAW)
        from mailbot.store.models import Member

        email = {m.id: m.email for m in s.query(Member)}
        got = {email[e.member_id]: (e.group_id if e.status == "seated" else "waitlist")
               for e in seat_store.all_enrolments(s, r.id) if e.member_id is not None}
    assert got == shown


def test_an_unknown_or_wrong_kind_of_campaign_is_named_with_the_recruitments_there_are(panel):
    cfg, _, _, _ = panel
    result = _run("selection", "show", "min-sida", "-c", str(cfg))
    assert result.exit_code == 2
    assert "no recruitment 'min-sida'" in result.output and "min-side-2020" in result.output
