"""`mailbot validate` and `mailbot members …` as staff run them: output lines and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mailbot.cli.validate as validate_cli
from mailbot.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def panel(tmp_path: Path) -> Path:
    """A copy of the shipped config.toml and schedules/, with the database in the copy."""
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    shutil.copytree(ROOT / "schedules", tmp_path / "schedules")
    return tmp_path


@pytest.fixture
def no_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Config and schedules only; the templates are mailbot.compose's to check (tested there)."""
    monkeypatch.setattr(validate_cli, "template_problems", lambda settings: ([], "templates not checked"))


def test_the_shipped_config_and_schedules_validate(no_templates: None) -> None:
    result = runner.invoke(app, ["validate", "--config", str(ROOT / "config.toml")], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for campaign in (
        "ombruk-2022",
        "glass-metall-2022",
        "klima-2019",
        "nettsider-2020",
        "sandvika-byrom-2020",
        "innspillkart-2020",
        "aldersvennlig-2021",
    ):
        assert campaign in result.stdout
    shipped = len(list((ROOT / "schedules").glob("*.toml")))
    assert f"OK, {shipped} campaign(s)" in result.stdout
    assert "sandvika-byrom-2020.used_map = Ja" in result.stdout


def test_a_broken_schedule_fails_with_file_and_line(panel: Path, no_templates: None) -> None:
    schedule = panel / "schedules" / "ombruk-2022.toml"
    text = schedule.read_text(encoding="utf-8")
    line = (
        text.splitlines().index(
            'reminders = ["P4D", "P9D"]   # etter åpning, bare til dem som ikke har svart'
        )
        + 1
    )
    schedule.write_text(
        text.replace('reminders = ["P4D", "P9D"]', 'reminder = ["P4D", "P9D"]'), encoding="utf-8"
    )
    result = runner.invoke(app, ["validate", "--config", str(panel / "config.toml")])
    assert result.exit_code == 2
    assert (
        f"{schedule}:{line}: unknown key 'reminder' — did you mean 'reminders'?" in result.stderr.splitlines()
    )
    assert "1 problem(s) in 1 file(s); nothing was changed." in result.stderr
    assert "Traceback" not in result.output


def test_problems_in_several_files_are_all_listed(panel: Path, no_templates: None) -> None:
    klima = panel / "schedules" / "klima-2019.toml"
    klima.write_text(
        klima.read_text(encoding="utf-8").replace('type = "scale"', 'type = "skala"'), encoding="utf-8"
    )
    copy = panel / "schedules" / "zz-copy.toml"
    shutil.copy(panel / "schedules" / "ombruk-2022.toml", copy)
    result = runner.invoke(app, ["validate", "--config", str(panel / "config.toml")])
    assert result.exit_code == 2
    errors = result.stderr.splitlines()
    assert any(e.startswith(f"{klima}:") and "'skala' is not allowed here" in e for e in errors)
    assert any(e.startswith(f"{copy}:4: campaign id 'ombruk-2022' is also used in") for e in errors)


def test_a_broken_config_fails_with_file_and_line(panel: Path) -> None:
    config = panel / "config.toml"
    text = config.read_text(encoding="utf-8")
    line = text.splitlines().index('timezone = "Europe/Oslo"') + 1
    config.write_text(text.replace('timezone = "Europe/Oslo"', 'tidssone = "Europe/Oslo"'), encoding="utf-8")
    result = runner.invoke(app, ["validate", "--config", str(config)])
    assert result.exit_code == 2
    assert (
        f"{config}:{line}: unknown key 'panel.tidssone' — did you mean 'timezone'?"
        in result.stderr.splitlines()
    )


def test_a_missing_config_file_is_a_user_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.toml'}:1: cannot read the file" in result.stderr


def test_template_problems_are_listed_too(panel: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mailbot.panel.problems import Problem

    broken = Problem(
        panel / "templates" / "nb" / "survey.txt", 3, "uses 'navn', which it is not given", "use name"
    )
    monkeypatch.setattr(validate_cli, "template_problems", lambda settings: ([broken], "templates checked"))
    result = runner.invoke(app, ["validate", "--config", str(panel / "config.toml")])
    assert result.exit_code == 2
    assert f"{broken.file}:3: uses 'navn', which it is not given — use name" in result.stderr.splitlines()


# ------------------------------------------------------------------ members

GOOD = (
    "email,name,language,birth_year,postcode,tags\n"
    "Ola.Nordmann@Example.no,Ola Nordmann,nb,1956,1338,frivillig;innspillkart\n"
    "kari@example.no,Kari Ås,nn,1990,1368,\n"
)


def csv(folder: Path, text: str, name: str = "panel.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def members(panel: Path) -> list[dict[str, object]]:
    result = runner.invoke(app, ["members", "list", "--json", "--config", str(panel / "config.toml")])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_import_then_list(panel: Path) -> None:
    file = csv(panel, GOOD)
    result = runner.invoke(app, ["members", "import", str(file), "--config", str(panel / "config.toml")])
    assert result.exit_code == 0, result.output
    assert f"{file}: 2 added, 0 updated, 0 unchanged." in result.stdout
    assert members(panel) == [
        {
            "id": 1,
            "email": "ola.nordmann@example.no",
            "name": "Ola Nordmann",
            "language": "nb",
            "status": "active",
            "status_reason": None,
            "tags": ["frivillig", "innspillkart"],
        },
        {
            "id": 2,
            "email": "kari@example.no",
            "name": "Kari Ås",
            "language": "nn",
            "status": "active",
            "status_reason": None,
            "tags": [],
        },
    ]
    table = runner.invoke(app, ["members", "list", "--config", str(panel / "config.toml")])
    assert table.exit_code == 0 and "ola.nordmann@example.no" in table.stdout and "active" in table.stdout


def test_importing_again_updates_existing_members(panel: Path) -> None:
    config = str(panel / "config.toml")
    runner.invoke(app, ["members", "import", str(csv(panel, GOOD)), "--config", config])
    again = csv(panel, "email,name\nOLA.NORDMANN@example.no,Ola N.\nper@example.no,Per\n", "again.csv")
    result = runner.invoke(app, ["members", "import", str(again), "--config", config])
    assert result.exit_code == 0, result.output
    assert f"{again}: 1 added, 1 updated, 0 unchanged." in result.stdout
    listed = members(panel)
    assert [m["email"] for m in listed] == ["ola.nordmann@example.no", "kari@example.no", "per@example.no"]
    assert listed[0]["name"] == "Ola N."


def test_an_invalid_row_refuses_the_whole_import(panel: Path) -> None:
    file = csv(panel, GOOD + "not-an-address,X,nb,1990,1338,\nkari@example.no,Kari igjen,,,,\n")
    result = runner.invoke(app, ["members", "import", str(file), "--config", str(panel / "config.toml")])
    assert result.exit_code == 2
    errors = result.stderr.splitlines()
    assert (
        f"{file}:4: 'not-an-address' is not an email address — write it like ola.nordmann@example.no"
        in errors
    )
    assert f"{file}:5: kari@example.no is also on line 3 — keep one row per person" in errors
    assert "2 row(s) have problems; nothing was imported." in result.stderr
    assert members(panel) == []


def test_skip_invalid_imports_the_valid_rows(panel: Path) -> None:
    file = csv(panel, GOOD + "not-an-address,X,nb,1990,1338,\n")
    result = runner.invoke(
        app, ["members", "import", str(file), "--skip-invalid", "--config", str(panel / "config.toml")]
    )
    assert result.exit_code == 0, result.output
    assert f"{file}:4: 'not-an-address' is not an email address" in result.stderr
    assert f"{file}: 2 added, 0 updated, 0 unchanged, 1 skipped." in result.stdout
    assert len(members(panel)) == 2


def test_a_file_without_a_header_is_refused_even_with_skip_invalid(panel: Path) -> None:
    file = csv(panel, "ola@example.no,Ola\n")
    result = runner.invoke(
        app, ["members", "import", str(file), "--skip-invalid", "--config", str(panel / "config.toml")]
    )
    assert result.exit_code == 2
    assert f"{file}:1: unknown column 'ola@example.no'" in result.stderr
    assert "cannot be imported; nothing was changed." in result.stderr


def test_an_excel_file_imports(panel: Path) -> None:
    file = panel / "excel.csv"
    file.write_bytes("E-post;Navn;Postnummer\r\nåse@example.no;Åse Ås;1353\r\n".encode("windows-1252"))
    result = runner.invoke(app, ["members", "import", str(file), "--config", str(panel / "config.toml")])
    assert result.exit_code == 0, result.output
    assert members(panel)[0]["name"] == "Åse Ås"


def test_a_postcode_outside_baerum_is_refused(panel: Path) -> None:
    file = csv(panel, "email,postcode\nola@example.no,0150\n")
    result = runner.invoke(app, ["members", "import", str(file), "--config", str(panel / "config.toml")])
    assert result.exit_code == 2
    assert f"{file}:2: postcode 0150 is outside the panel's area — the panel takes 1300-1369" in result.stderr
