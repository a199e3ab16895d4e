"""`mailbot results CAMPAIGN` (summary, --out report, --raw, --balance), `mailbot remind CAMPAIGN
--underrepresented` (an extra reminder while a survey runs) and `mailbot status`."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mailbot.campaigns import Survey
from mailbot.cli.app import EXIT_BAD_INPUT, app
from mailbot.cli.common import ConfigOption, open_store
from mailbot.panel.problems import ConfigError
from mailbot.panel.settings import Settings, load_settings
from mailbot.report.build import Balance, Report
from mailbot.report.population import Population, default_path, load_population
from mailbot.schedules import load_campaigns
from mailbot.store import Store
from mailbot.store import read_backs as read_back_store

console = Console()
err = Console(stderr=True)


PopulationOption = Annotated[
    Path | None,
    typer.Option("--population", help="Population figures (default: population.toml beside config.toml)."),
]


def _problems(exc: ConfigError) -> typer.Exit:
    for p in exc.problems:
        err.print(str(p), markup=False, highlight=False)
    return typer.Exit(EXIT_BAD_INPUT)


def _load(config: Path, campaign_id: str | None) -> tuple[Settings, list[Survey]]:
    try:
        settings = load_settings(config)
        campaigns = load_campaigns(settings)
    except ConfigError as exc:
        raise _problems(exc) from None
    if campaign_id is not None and not any(c.id == campaign_id for c in campaigns):
        known = ", ".join(c.id for c in campaigns) or "none"
        err.print(f"no campaign {campaign_id!r} in {settings.schedules_dir} — known: {known}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    return settings, [c for c in campaigns if isinstance(c, Survey)]  # courses, recruitments: no results yet


def _population(settings: Settings, path: Path | None) -> Population | None:
    p = path or default_path(settings)
    if path is None and not p.exists():
        return None
    try:
        return load_population(p, settings)
    except ConfigError as exc:
        raise _problems(exc) from None




@app.command()
def results(
    campaign: Annotated[str, typer.Argument(help="The campaign id, e.g. ombruk-2022.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write report.html and CSV files here.")] = None,
    raw: Annotated[bool, typer.Option("--raw", help="Staff only: every answer, pseudonymised.")] = False,
    show_balance: Annotated[bool, typer.Option("--balance", help="Under-represented groups now.")] = False,
    config: ConfigOption = Path("config.toml"),
    population: PopulationOption = None,
) -> None:
    """A survey's results, with the minimum group size applied everywhere.

    Examples:

      mailbot results ombruk-2022                  summary in the terminal

      mailbot results ombruk-2022 --out var/report HTML report and CSV of the figures

      mailbot results ombruk-2022 --balance        under-represented groups while it runs

      mailbot results ombruk-2022 --raw --out dir  pseudonymised raw answers (staff only)
    """
    from mailbot.report.build import balance, build_report, cell_scheme, load_quotes, quotes_path
    from mailbot.store import report_cells

    settings, campaigns = _load(config, campaign)
    survey = next(c for c in campaigns if c.id == campaign)
    pop = _population(settings, population)
    store = open_store(settings)
    try:
        if raw:
            _raw(store, survey, settings, out)
            return
        if show_balance:
            with store.transaction() as s:
                rows = balance(s, survey, settings, pop)
            _print_balance(rows, pop)
            return
        try:
            quotes = load_quotes(quotes_path(settings, survey.id), survey)
        except ConfigError as exc:
            raise _problems(exc) from None
        # The counts per report cell, built once if config.toml or population.toml changed since the last report.
        report_cells.prepare(store, survey.id, cell_scheme(survey, settings, pop), datetime.now(UTC))
        with store.reading() as s:  # on SQLite, replies and clicks are not held up meanwhile
            report = build_report(s, survey, settings, pop, quotes)
            read_backs = read_back_store.counts(s, survey.id)
    finally:
        store.dispose()
    if out is not None:
        _write_report(report, out)
    _print_summary(report)
    if read_backs.any:
        console.print(f"Replies read back to the resident before recording: {read_backs.line()}", markup=False)


def _raw(store: Store, survey: Survey, settings: Settings, out: Path | None) -> None:
    from mailbot.report.export import write_raw

    key = os.environ.get("MAILBOT_PSEUDONYM_KEY") or os.environ.get("MAILBOT_TOKEN_KEY")
    if not key:
        err.print("--raw needs a key for the pseudonyms: set MAILBOT_PSEUDONYM_KEY (or MAILBOT_TOKEN_KEY) "
                  "in the environment or .env", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    folder = out or settings.data_dir / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{survey.id}-raw-answers.csv"
    with store.transaction() as s:
        n = write_raw(s, survey, key, path)
    console.print(f"{n} responses written to {path} — staff only: it holds free text; do not share it.",
                  markup=False)


def _write_report(report: Report, out: Path) -> None:
    from mailbot.report.export import write_aggregates
    from mailbot.report.html import render_html

    out.mkdir(parents=True, exist_ok=True)
    sid = report.survey.id
    (out / f"{sid}-report.html").write_text(render_html(report, datetime.now(UTC).date()), encoding="utf-8")
    with (out / f"{sid}-figures.csv").open("w", encoding="utf-8-sig", newline="") as f:
        write_aggregates(report, f)
    console.print(f"report: {out / (sid + '-report.html')}\nfigures: {out / (sid + '-figures.csv')}",
                  markup=False)


def _print_summary(report: Report) -> None:
    from mailbot.report.html import num, pct

    r = report.results
    console.print(f"{report.survey.title}: {r.answered} of {r.invited} answered ({pct(100 * r.rate)}); "
                  f"groups under {r.min_group_size} hidden.", markup=False)
    for qr in r.questions:
        q = qr.question
        if qr.suppressed:
            console.print(f"{q.number}. {q.text}: fewer than {r.min_group_size} answers, hidden",
                          markup=False)
            continue
        table = Table(title=f"{q.number}. {q.text} ({qr.answered} answered)", title_justify="left")
        table.add_column("answer")
        table.add_column("count", justify="right")
        table.add_column("percent", justify="right")
        if r.weighted:
            table.add_column("weighted", justify="right")
        for o in qr.options:
            cells = ["hidden", "hidden"] if o.suppressed else [str(o.count), pct(o.percent)]
            if r.weighted:
                cells.append("hidden" if o.suppressed else pct(o.weighted_percent))
            table.add_row(o.label, *cells)
        if qr.mean is not None:
            table.add_row("mean / median", "", f"{num(qr.mean, 2)} / {num(qr.median)}")
        if q.type == "text":
            table.add_row("free text", str(qr.answered), f"{len(qr.quotes)} curated quotes")
        console.print(table)


def _print_balance(rows: list[Balance], pop: Population | None) -> None:
    from mailbot.report.html import pct

    target = "population" if pop else "invited"
    table = Table(title=f"Respondents against the {target} (under: below target × (1 − tolerance))",
                  title_justify="left")
    for col in ("group", "value", f"{target} share", "answered share", "answered", "invited", ""):
        table.add_column(col, justify="right" if "share" in col or col in ("answered", "invited") else "left")
    for b in rows:
        table.add_row(b.dimension, b.category, pct(100 * b.target_share), pct(100 * b.answered_share),
                      str(b.answered), str(b.invited), "UNDER" if b.under else "")
    console.print(table)


@app.command()
def remind(
    campaign: Annotated[str, typer.Argument(help="The running survey, e.g. ombruk-2022.")],
    underrepresented: Annotated[bool, typer.Option(
        "--underrepresented", help="Remind the non-responders of the groups that are under-represented now.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say how many, per group; queue nothing.")] = False,
    dimension: Annotated[list[str] | None, typer.Option(
        "--dimension", help="Only this kind of group: age_band, gender or district (repeatable).")] = None,
    again: Annotated[bool, typer.Option(
        "--again", help="Also those who already had an extra reminder for this survey.")] = False,
    config: ConfigOption = Path("config.toml"),
    population: PopulationOption = None,
    now: Annotated[str | None, typer.Option("--now", help="Pretend it is this local time.")] = None,
) -> None:
    """An extra reminder, while a survey runs, to exactly the non-responders of under-represented groups.

    Each run is its own step (reminder-extra-1, -2, …); members who had one are left
    out unless --again. Unsubscribed, paused and erased members are never mailed.

    Examples:

      mailbot remind ombruk-2022 --underrepresented --dry-run   how many, per group

      mailbot remind ombruk-2022 --underrepresented             queue it (tick or run sends it)
    """
    from mailbot.report.population import DIMENSIONS
    from mailbot.report.reminders import plan_extra_reminder, queue_extra_reminder

    if not underrepresented:
        err.print("say who to remind: --underrepresented (the non-responders of under-represented groups)",
                  markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    unknown = [d for d in dimension or [] if d not in DIMENSIONS]
    if unknown:
        err.print(f"unknown --dimension {', '.join(unknown)}: use {', '.join(DIMENSIONS)}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    settings, campaigns = _load(config, campaign)
    survey = next((c for c in campaigns if c.id == campaign), None)
    if survey is None:
        err.print(f"{campaign} is not a survey: only surveys have reminders to answer", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    zone = settings.panel.zone
    moment = datetime.fromisoformat(now).replace(tzinfo=zone) if now else datetime.now(UTC)
    if not survey.is_open(moment):
        err.print(f"{campaign} is not running now (it runs {survey.opens.astimezone(zone):%Y-%m-%d %H:%M} to "
                  f"{survey.closes.astimezone(zone):%Y-%m-%d %H:%M}): an extra reminder only makes sense "
                  "while it runs", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    pop = _population(settings, population)
    store = open_store(settings)
    try:
        with store.transaction() as s:
            plan = plan_extra_reminder(s, survey, settings, pop, dimensions=dimension or None, again=again)
            queued = 0 if dry_run else queue_extra_reminder(s, survey, plan, moment)
    finally:
        store.dispose()
    target = "population" if pop else "invited"
    if not plan.groups:
        console.print(f"No group is under-represented against the {target} now: nothing to send.", markup=False)
        return
    table = Table(title=f"Non-responders in under-represented groups (against the {target})", title_justify="left")
    for col in ("group", "value", "to remind"):
        table.add_column(col, justify="right" if col == "to remind" else "left")
    for g in plan.groups:
        table.add_row(g.dimension, g.category, str(g.members))
    console.print(table)
    left_out = (f"; {plan.already_reminded} left out: they had an extra reminder already (--again to include them)"
                if plan.already_reminded else "")
    if dry_run:
        console.print(f"{len(plan.member_ids)} member(s) would get {plan.step}{left_out}. Nothing was queued "
                      "(--dry-run).", markup=False)
    else:
        console.print(f"{queued} email(s) queued as {plan.step}{left_out}; `mailbot tick` or `mailbot run` sends "
                      "them.", markup=False)


@app.command()
def status(config: ConfigOption = Path("config.toml"),
           now: Annotated[str | None, typer.Option("--now", help="Pretend it is this local time.")] = None,
           ) -> None:
    """Each running survey: invited, delivered, bounced, answered, the response rate by day, and read-backs."""
    from mailbot.report.progress import progress, sparkline

    settings, campaigns = _load(config, None)
    console = Console()  # made here so COLUMNS set by the caller counts
    zone = settings.panel.zone
    moment = datetime.fromisoformat(now).replace(tzinfo=zone) if now else datetime.now(UTC)
    running = [c for c in campaigns if c.is_open(moment)]
    if not running:
        console.print("No survey is running now.", markup=False)
        return
    store = open_store(settings)
    try:
        with store.transaction() as s:
            rows = [progress(s, c, zone, moment.astimezone(zone).date()) for c in running]
            read_backs = {c.id: read_back_store.counts(s, c.id) for c in running}
    finally:
        store.dispose()
    table = Table(title=f"Running surveys, {moment.astimezone(zone):%Y-%m-%d %H:%M}", title_justify="left")
    for col in ("campaign", "invited", "delivered", "reminded", "bounced", "answered", "rate", "by day"):
        table.add_column(col, justify="left" if col in ("campaign", "by day") else "right")
    for p in rows:
        reminded = sum(n for step, n in p.delivered.items() if step.startswith("reminder"))
        daily = [n for _, n in p.per_day]
        table.add_row(p.campaign_id, str(p.invited), str(p.delivered.get("invitation", 0)), str(reminded),
                      str(p.bounced), str(p.answered), f"{100 * p.rate:.0f} %", sparkline(daily))
    console.print(table)
    for campaign_id, counts in read_backs.items():
        if counts.any:  # replies read back to the resident ("Stemmer det?") instead of recorded
            console.print(f"{campaign_id}: {counts.line()}", markup=False)
    for p in rows:
        rates = p.cumulative_rates()
        if rates:
            days = zip(p.per_day, rates, strict=True)
            console.print(f"{p.campaign_id}: response rate by day "
                          + " ".join(f"{d:%d.%m} {100 * x:.0f}%" for (d, _), x in days), markup=False)
