"""The shipped population.toml: valid for the shipped config, every key explained, checked by `mailbot validate`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.cli import validate as validate_cli
from mailbot.panel.settings import load_settings
from mailbot.report.population import Population, load_population
from tests.conftest import ROOT, write_panel

runner = CliRunner()


@pytest.fixture
def no_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate_cli, "template_problems", lambda settings: ([], "templates not checked"))


def test_the_shipped_population_fits_the_shipped_config() -> None:
    settings = load_settings(ROOT / "config.toml", load_env=False)
    population = load_population(ROOT / "population.toml", settings)
    assert set(population.age_band) == set(settings.panel.age_bands)
    assert set(population.district) == set(settings.config.districts)
    assert set(population.gender) == {"kvinne", "mann"}
    # Bærum: about 130 000 inhabitants, some 106 000 of them 15 or older; the three tables describe them all.
    for dim in ("age_band", "gender", "district"):
        assert sum(population.margin(dim).values()) == pytest.approx(106_000, rel=0.02)
    assert population.weighting.enabled and population.balance.tolerance == 0.2


def test_every_key_of_the_shipped_population_is_explained() -> None:
    lines = (ROOT / "population.toml").read_text(encoding="utf-8").splitlines()
    for field in ("source", *Population.model_fields):
        assert any(re.match(rf"^#? ?\[?{field}\]?( =|$)", x) for x in lines), field
    settings_keys = re.compile(r"^(\[\w+\]|source =|enabled =|max_iterations =|tolerance =)")
    for i, line in enumerate(lines):
        if settings_keys.match(line):  # a table or a setting: the line just above says what it is
            assert lines[i - 1].startswith("#"), line


def test_validate_names_file_and_line_of_a_population_problem(tmp_path: Path, no_templates: None) -> None:
    cfg = write_panel(tmp_path / "panel")
    text = (ROOT / "population.toml").read_text(encoding="utf-8")
    (cfg.parent / "population.toml").write_text(text.replace("kvinne = 54000", "kvinner = 54000"),
                                                encoding="utf-8")
    line = text.splitlines().index("kvinne = 54000") + 1
    result = runner.invoke(app, ["validate", "--config", str(cfg)], env={"COLUMNS": "250"})
    assert result.exit_code == 2
    # The test panel has two districts only: the shipped file's other eight are named as unknown too.
    assert f"population.toml:{line}: unknown gender 'kvinner'" in result.output
    assert "unknown district 'Fornebu'" in result.output


def test_validate_checks_a_good_population_file_and_says_so(tmp_path: Path, no_templates: None) -> None:
    cfg = write_panel(tmp_path / "panel")
    shutil.copy(ROOT / "config.toml", cfg)  # the shipped districts
    (cfg.parent / "schedules").mkdir(exist_ok=True)
    shutil.copy(ROOT / "population.toml", cfg.parent / "population.toml")
    result = runner.invoke(app, ["validate", "--config", str(cfg)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "population.toml checked" in result.stdout
