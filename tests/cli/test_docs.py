"""The docs stay true: every campaign example validates, every `mailbot …` command they name exists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.panel.settings import load_settings
from mailbot.schedules import load_campaign_file, load_campaigns
from tests.cli.conftest import ROOT

DOCS = [ROOT / "docs" / "staff-guide.md", ROOT / "docs" / "operations.md", ROOT / "docs" / "privacy.md",
        ROOT / "docs" / "architecture.md", ROOT / "README.md"]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`([^`\n]+)`")
COMMAND = re.compile(r"(?<![\w./-])mailbot ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?")


def key(body: str, name: str) -> str:
    # Not tomllib: staff write times without seconds (2022-12-01T09:00), which mailbot accepts.
    found = re.search(rf'^{name} = "([^"]+)"', body, re.MULTILINE)
    assert found, f"no {name} in example:\n{body}"
    return found.group(1)


def toml_examples() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "staff-guide.md").read_text(encoding="utf-8")
    return [(m.group(2).splitlines()[0], m.group(2)) for m in FENCE.finditer(text) if m.group(1) == "toml"]


def test_the_staff_guide_has_an_example_of_every_kind() -> None:
    kinds = {key(body, "kind") for _, body in toml_examples()}
    assert kinds >= {"survey", "course", "recruitment", "update"}


@pytest.mark.parametrize(("first_line", "body"), toml_examples(), ids=lambda v: v[:60] if "\n" not in v else "")
def test_each_staff_guide_example_is_a_valid_campaign(first_line: str, body: str, tmp_path: Path) -> None:
    path = tmp_path / f"{key(body, 'id')}.toml"
    path.write_text(body, encoding="utf-8")
    campaign = load_campaign_file(path)
    assert campaign.id == key(body, "id")


def test_the_examples_also_pass_with_the_shipped_panel(panel: Path) -> None:
    """Checked together with config.toml and the other schedules: districts, earlier answers, ids."""
    for _, body in toml_examples():
        (panel / "schedules" / f"{key(body, 'id')}.toml").write_text(body, encoding="utf-8")
    campaigns = load_campaigns(load_settings(panel / "config.toml", load_env=False))
    assert {key(body, "id") for _, body in toml_examples()} <= {c.id for c in campaigns}


def commands_in(path: Path) -> set[tuple[str, str | None]]:
    text = path.read_text(encoding="utf-8")
    code = [m.group(2) for m in FENCE.finditer(text)] + INLINE.findall(text)
    return {(m.group(1), m.group(2)) for chunk in code for m in COMMAND.finditer(chunk)}


def test_every_command_in_the_docs_exists() -> None:
    top: Any = typer.main.get_command(app)
    assert hasattr(top, "commands")
    listed = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).stdout
    missing = []
    for doc in DOCS:
        for name, sub in sorted(commands_in(doc), key=str):
            command = top.commands.get(name)
            if command is None or not re.search(rf"^\s+{re.escape(name)}\s", listed, re.MULTILINE):
                missing.append(f"{doc.name}: mailbot {name}")
            elif hasattr(command, "commands") and sub is not None and sub not in command.commands:
                missing.append(f"{doc.name}: mailbot {name} {sub}")
    assert not missing, missing


def test_the_docs_name_the_commands_staff_need() -> None:
    named = {name for doc in DOCS for name, _ in commands_in(doc)}
    assert {"validate", "plan", "preview", "send-test", "templates", "run", "tick", "status", "results",
            "inbox", "members"} <= named
