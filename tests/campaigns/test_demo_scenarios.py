"""`mailbot demo --scenario course|workshop` on a small panel: consistent numbers, and the same seed prints the same."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.demo.scenarios import run_scenario


def _demo(directory: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["demo", "--dir", str(directory), *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def _figure(output: str, label: str) -> int:
    found = re.search(rf"^\s*{re.escape(label)}\s+(\d+)", output, re.MULTILINE)
    assert found, f"{label!r} not in:\n{output}"
    return int(found.group(1))


def test_the_workshop_scenario_prints_the_same_twice_and_never_seats_more_than_there_are_seats(tmp_path):
    first = _demo(tmp_path / "demo", "--scenario", "workshop", "--members", "150", "--seed", "4")
    second = _demo(tmp_path / "demo", "--scenario", "workshop", "--members", "150", "--seed", "4")
    assert first == second
    assert "same as `selection show`       yes" in first
    assert _figure(first, "invited") == 150
    seated_at_end = {m: (int(a), int(b)) for m, a, b in re.findall(r"(workshop-\d) (\d+)/(\d+)", first)}
    assert set(seated_at_end) == {"workshop-1", "workshop-2"}
    assert all(a <= b for a, b in seated_at_end.values())
    drawn, waiting = _figure(first, "drawn (seated)"), _figure(first, "waitlisted by the draw")
    assert drawn <= 20 and (waiting == 0 or drawn == 20)
    offers = re.search(r"offers of a freed seat\s+(\d+)\s+\(taken (\d+), expired (\d+)\)", first)
    assert offers and int(offers[2]) + int(offers[3]) <= int(offers[1])
    committee = re.search(r"Committee:.*?drawn \(seated\)\s+(\d+)", first, re.DOTALL)
    assert committee and int(committee[1]) <= 6


def test_the_course_scenario_keeps_within_its_seats_and_counts_add_up(tmp_path):
    report = run_scenario("course", 80, 3, tmp_path / "demo")
    f = report.figures
    assert f["invited"] == 80 and f["lessons"] == 13
    assert f["seated"] <= f["capacity"] and f["max_lesson_sent"] <= f["capacity"]
    assert f["accepted"] + f["expired"] <= f["offers"]
    assert f["resumed"] <= f["paused"]
    assert f["ratings"] <= f["attended"]
    text = "\n".join(report.lines)
    assert "tirsdag 15. september kl. 18.00" in text and "tirsdag 15. desember kl. 18.00" in text
    assert f"seated at the end              {f['seated']:>4}  of 30" in text


def test_an_unknown_scenario_is_refused_with_the_ones_there_are(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--dir", str(tmp_path), "--scenario", "kurs"])
    assert result.exit_code == 2
    assert "survey, course, workshop" in result.output
