"""What most commands need first: the panel's settings, its campaigns and its store — or exit 2.

Every command reads `--config`, prints staff's mistakes as FILE:LINE lines on
stderr and exits with EXIT_BAD_INPUT without changing anything; this is the
one place that does it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from mailbot.campaigns import Campaign
from mailbot.cli.app import EXIT_BAD_INPUT
from mailbot.panel.problems import ConfigError
from mailbot.panel.settings import Settings, load_settings
from mailbot.schedules import load_campaigns
from mailbot.store import Store

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The panel's config.toml.")]

err = Console(stderr=True, soft_wrap=True)


def shown(path: Path) -> str:
    """A path as staff typed it: relative to the current folder when inside it."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:  # another drive on Windows
        return str(path)


def problem_line(p: Any) -> str:
    """FILE:LINE: what — instead, for config problems and template problems alike."""
    tail = f" — {p.instead}" if getattr(p, "instead", "") else ""
    return f"{shown(Path(p.file))}:{max(1, int(p.line or 1))}: {p.what}{tail}"


def print_problems(problems: Sequence[Any], out: Console | None = None) -> None:
    for p in problems:
        (out or err).print(problem_line(p), markup=False, highlight=False, soft_wrap=True)


def settings_or_exit(config: Path) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        print_problems(exc.problems)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def campaigns_or_exit(settings: Settings) -> list[Campaign]:
    try:
        return load_campaigns(settings)
    except ConfigError as exc:
        print_problems(exc.problems)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def open_store(settings: Settings) -> Store:
    """The panel's database, its schema brought up to date."""
    store = Store(settings.database_url)
    store.upgrade()
    return store
