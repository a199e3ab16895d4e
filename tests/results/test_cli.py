"""`mailbot results` and `mailbot status` on a panel folder with a seeded SQLite database."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.panel.settings import load_settings
from mailbot.store import Store
from tests.conftest import ROOT, make_survey, write_panel
from tests.results.seed import ANSWERS, seed

runner = CliRunner()

POPULATION = """
source = "SSB tabell 07459 (test)"
[gender]
kvinne = 3
mann = 1
"""


def make_panel(tmp_path: Path, population: bool = True) -> Path:
    cfg = write_panel(tmp_path / "panel")
    shutil.copy(ROOT / "schedules" / "ombruk-2022.toml", cfg.parent / "schedules")
    if population:
        (cfg.parent / "population.toml").write_text(POPULATION, encoding="utf-8")
    store = Store(load_settings(cfg, load_env=False).database_url)
    store.upgrade()
    with store.transaction() as s:
        seed(s, make_survey())
    store.dispose()
    return cfg


def test_report_files_show_figures_and_hide_free_text(tmp_path: Path) -> None:
    cfg = make_panel(tmp_path)
    quotes = cfg.parent / "results" / "ombruk-2022-quotes.toml"
    quotes.parent.mkdir()
    quotes.write_text('[[quote]]\nquestion = "location"\ntext = "Et sted nær bussen"\n', encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["results", "ombruk-2022", "--out", str(out), "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    html = (out / "ombruk-2022-report.html").read_text(encoding="utf-8")
    assert '<html lang="nb">' in html and "<svg" in html and '<th scope="col">' in html
    assert "12 av 20" in html and "60\u00a0%" in html
    # free text written by residents never appears; with 3 answers < k = 5 not even the curated quote
    for words in ("Sandvika", "Fornebu", "Bekkestua"):
        assert f"<blockquote><p>{words}" not in html
    assert "Et sted nær bussen" not in html
    assert "Vektet prosent" in html and "raking" in html
    with (out / "ombruk-2022-figures.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter=";"))
    need = {r[2]: r for r in rows if r[1].startswith("1.")}
    assert need["Ja"][3:5] == ["7", "58,3"] and need["Ja"][5] == "62,5"  # weighted: 7.5 / 12
    assert need["Nei"][3] == "" and "skjult" in need["Nei"][6]  # 4 < 5 hidden, blank with a note
    assert need["Vet ikke"][3] == ""


def test_raw_export_is_pseudonymised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = make_panel(tmp_path, population=False)
    monkeypatch.setenv("MAILBOT_PSEUDONYM_KEY", "test-key")
    out = tmp_path / "raw"
    result = runner.invoke(app, ["results", "ombruk-2022", "--raw", "--out", str(out), "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    with (out / "ombruk-2022-raw-answers.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert rows[0][:4] == ["pseudonym", "svarte_med", "svarte_etter", "første_svar"]
    assert len(rows) == 1 + len(ANSWERS)
    assert all(r[0].startswith("p-") and len(r[0]) == 18 for r in rows[1:])
    assert len({r[0] for r in rows[1:]}) == 12
    assert rows[1][4:] == ["Ja", "Møbler | Klær", "5", "Sandvika"]
    assert "beboer0" not in (out / "ombruk-2022-raw-answers.csv").read_text(encoding="utf-8-sig")


def test_raw_export_without_a_key_says_what_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = make_panel(tmp_path, population=False)
    monkeypatch.delenv("MAILBOT_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("MAILBOT_TOKEN_KEY", raising=False)
    result = runner.invoke(app, ["results", "ombruk-2022", "--raw", "--config", str(cfg)])
    assert result.exit_code == 2 and "MAILBOT_PSEUDONYM_KEY" in result.output


def test_balance_names_the_under_represented(tmp_path: Path) -> None:
    cfg = make_panel(tmp_path)
    result = runner.invoke(app, ["results", "ombruk-2022", "--balance", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "kvinne" in x)
    assert "UNDER" in line


def test_unknown_campaign_is_bad_input(tmp_path: Path) -> None:
    cfg = make_panel(tmp_path, population=False)
    result = runner.invoke(app, ["results", "ombruk-2023", "--config", str(cfg)])
    assert result.exit_code == 2 and "ombruk-2022" in result.output


def test_status_shows_running_surveys_with_a_sparkline(tmp_path: Path) -> None:
    cfg = make_panel(tmp_path, population=False)
    result = runner.invoke(app, ["status", "--config", str(cfg), "--now", "2022-12-06T12:00"],
                           env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    row = next(x for x in result.output.splitlines() if "ombruk-2022" in x and "│" in x)
    # invited 20, delivered 20, reminded 0, bounced 0, answered 12, rate 60 %
    cells = [c.strip() for c in row.split("│")[1:-1]]
    assert cells[:7] == ["ombruk-2022", "20", "20", "0", "0", "12", "60 %"]
    # all 12 answered on 5 December (seed.NOW); the survey opened 1 December: ▁▁▁▁█▁
    assert "▁▁▁▁█▁" in result.output
    assert "60 %" in result.output
