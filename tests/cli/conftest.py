"""A staff member's panel folder: a copy of the repo's config.toml and schedules/, on a free port.

Templates come from the repo (`paths.templates = "templates"` is missing in the
copy, so the built-in ones are used, as on a fresh install).
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mailbot
from mailbot.transport.local import free_port

ROOT = Path(mailbot.__file__).resolve().parents[1]  # the checkout under test
TOKEN_KEY = "cli-test-key-not-secret"

# The command line as a new user runs it, in a subprocess (the daemon tests).
MAILBOT = [sys.executable, "-c", "import sys; from mailbot.cli import main; sys.argv[0] = 'mailbot'; main()"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def panel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The panel folder, also the current directory; MAILBOT_TOKEN_KEY set."""
    folder = tmp_path / "panel"
    folder.mkdir()
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^port = \d+", f"port = {free_port()}", text)
    # Tests run at any hour: the shipped quiet hours (21–08) would hold every campaign email at night.
    text = re.sub(r'(?m)^quiet_hours = ".*"', 'quiet_hours = ""', text)
    (folder / "config.toml").write_text(text, encoding="utf-8")
    shutil.copytree(ROOT / "schedules", folder / "schedules")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("MAILBOT_TOKEN_KEY", TOKEN_KEY)
    monkeypatch.delenv("MAILBOT_DATABASE_URL", raising=False)
    yield folder


def write_open_survey(folder: Path, id: str = "na-2026", *, language: str = "nb", alone: bool = False) -> Path:
    """A survey that opened an hour ago (panel local time) and closes in ten days; `alone`: the only campaign."""
    if alone:
        for other in (folder / "schedules").glob("*.toml"):
            other.unlink()
    now = datetime.now()
    opens = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    closes = (now + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    path = folder / "schedules" / f"{id}.toml"
    path.write_text(f"""id = "{id}"
kind = "survey"
title = "Behov for flere benker langs Lysakerelva"
opens = {opens}
closes = {closes}
reminders = ["P4D"]
language = "{language}"

[[questions]]
id = "benker"
text = "Trengs det flere benker langs Lysakerelva?"
type = "choice"
options = ["Ja", "Nei", "Vet ikke"]

[[questions]]
id = "hvor"
text = "Hvor bør de stå?"
type = "text"
required = false
""", encoding="utf-8")
    return path


def write_members(folder: Path, n: int, *, languages: tuple[str, ...] = ("nb", "nn", "en")) -> Path:
    path = folder / "panel.csv"
    lines = ["email,name,language,birth_year,postcode"]
    lines += [f"person{i}@example.org,Person {i},{languages[i % len(languages)]},1970,1337" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
