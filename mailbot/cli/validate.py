"""`mailbot validate`: check config.toml, every schedule, the templates they need and population.toml.

Each problem is printed as `FILE:LINE: what is wrong — what to write instead`
(the format editors and CI logs turn into links), and the exit code is 2. When
all is well, a short table of the campaigns shows what the panel will do.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from mailbot.campaigns import Audience, Campaign, CampaignForm
from mailbot.cli.app import EXIT_BAD_INPUT, app
from mailbot.cli.common import ConfigOption, print_problems, problem_line, shown  # noqa: F401  (re-exported)
from mailbot.panel.problems import ConfigError
from mailbot.panel.settings import Settings, load_settings
from mailbot.schedules import load_campaigns


def describe_audience(audience: Audience) -> str:
    if audience.is_everyone:
        return "all"
    parts = []
    if audience.tags:
        parts.append("tags " + " or ".join(audience.tags))
    if audience.age_bands:
        parts.append("age " + " or ".join(audience.age_bands))
    if audience.districts:
        parts.append("in " + " or ".join(audience.districts))
    if audience.languages:
        parts.append("language " + " or ".join(audience.languages))
    if audience.answered:
        parts.append(" or ".join(f"{e.campaign}.{e.question} = {e.answer}" for e in audience.answered))
    return "; ".join(parts)


def template_problems(settings: Settings) -> tuple[list[Any], str]:
    """Problems in the templates, and a note on what was checked."""
    try:
        from mailbot.compose import Templates  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        try:
            from mailbot.compose.templates import Templates
        except ModuleNotFoundError as exc:
            if (exc.name or "").startswith("mailbot.compose"):
                return [], "templates not checked (mailbot.compose is not available)"
            raise
    found: list[Any] = []
    try:
        found.extend(Templates(settings.templates_dir).check())
    except ConfigError as exc:
        found.extend(exc.problems)
    return found, "templates checked"


def population_problems(settings: Settings) -> tuple[list[Any], str | None]:
    """Problems in population.toml beside config.toml (if there is one), and a note on what was checked."""
    from mailbot.report.population import default_path, load_population

    path = default_path(settings)
    if not path.exists():
        return [], None
    try:
        load_population(path, settings)
    except ConfigError as exc:
        return list(exc.problems), None
    return [], f"{shown(path)} checked"


def check_all(settings: Settings) -> tuple[list[Campaign], list[Any], str]:
    problems: list[Any] = []
    campaigns: list[Campaign] = []
    try:
        campaigns = load_campaigns(settings)
    except ConfigError as exc:
        problems.extend(exc.problems)
    found, note = template_problems(settings)
    problems.extend(found)
    found, checked = population_problems(settings)
    problems.extend(found)
    return campaigns, problems, f"{note}, {checked}" if checked else note


def summary_table(campaigns: Iterable[Campaign], settings: Settings) -> Table:
    zone = settings.panel.zone
    table = Table(title="Campaigns")
    table.add_column("id", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("title")
    table.add_column("opens", no_wrap=True)
    table.add_column("closes", no_wrap=True)
    table.add_column("audience")
    # Forms derived from a course or recruitment (`<id>.svar`, one per lesson) are not staff's files.
    written = [c for c in campaigns if not isinstance(c, CampaignForm)]
    for c in sorted(written, key=lambda c: c.opens):
        table.add_row(
            c.id,
            c.kind,
            c.title,
            c.opens.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            c.closes.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            describe_audience(c.audience),
        )
    return table


@app.command()
def validate(config: ConfigOption = Path("config.toml")) -> None:
    """Check config.toml, schedules/ and templates; print FILE:LINE for each problem.

    Exit codes: 0 all is well, 2 something to fix (nothing was changed).
    """
    err = Console(stderr=True, soft_wrap=True)
    try:
        settings = load_settings(config, load_env=False)
    except ConfigError as exc:
        print_problems(exc.problems, err)
        err.print(
            f"{len(exc.problems)} problem(s) in {shown(config)}; nothing was changed.",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(EXIT_BAD_INPUT) from None
    campaigns, problems, note = check_all(settings)
    if problems:
        print_problems(problems, err)
        files = len({str(p.file) for p in problems})
        err.print(
            f"{len(problems)} problem(s) in {files} file(s); nothing was changed.",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    console = Console()
    console.print(summary_table(campaigns, settings))
    where = shown(settings.schedules_dir)
    console.print(
        f"{shown(config)}: OK, {sum(not isinstance(c, CampaignForm) for c in campaigns)} campaign(s) in {where}, "
        f"{note}.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
