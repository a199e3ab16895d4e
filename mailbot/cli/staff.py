"""Commands that run the panel: tick, run, plan, demo, results, status."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from mailbot.cli.app import EXIT_BAD_INPUT, EXIT_FAILED, app
from mailbot.cli.common import ConfigOption, campaigns_or_exit, open_store, settings_or_exit
from mailbot.panel.problems import ConfigError
from mailbot.panel.secrets import MissingSecret
from mailbot.panel.settings import Settings

if TYPE_CHECKING:
    from mailbot.bot import Bot

console = Console()
err = Console(stderr=True)


NowOption = Annotated[
    str | None,
    typer.Option("--now", help="Pretend it is this local time (2022-12-05T09:00), for trying things out."),
]


def setup_logging(verbose: bool) -> None:
    """One line per event, addresses masked at INFO (mailbot.logs); quiet unless --verbose."""
    from mailbot.logs import setup

    setup(verbose, level=None if verbose else logging.WARNING)




def parse_now(value: str | None, settings: Settings) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        err.print(f"--now {value!r} is not a time — write for example 2022-12-05T09:00", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    return dt.replace(tzinfo=settings.panel.zone) if dt.tzinfo is None else dt


def make_bot(settings: Settings) -> Bot:
    from mailbot.bot import Bot

    try:
        return Bot(settings).prepare()
    except ConfigError as exc:
        for p in exc.problems:
            err.print(str(p), markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except MissingSecret as exc:
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


@app.command()
def tick(config: ConfigOption = Path("config.toml"), now: NowOption = None,
         verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Do everything that is due now, once, and exit (for cron). Safe to run twice at once.

    Only one process plans at a time (the planner lock): while a daemon or
    another tick holds it, this tick only sends what is queued.

    Example: */5 * * * * cd /srv/panel && mailbot tick
    """
    from mailbot.workers import Leadership

    setup_logging(verbose)
    settings = settings_or_exit(config)
    bot = make_bot(settings)
    moment = parse_now(now, settings)
    try:
        with Leadership(bot.store) as lead, bot.transport() as transport:
            leading = lead.try_acquire()
            report = bot.tick(moment, transport, plan=leading)
    except OSError as exc:
        err.print(f"mail server not reachable: {exc}", markup=False)
        raise typer.Exit(EXIT_FAILED) from None
    if as_json:
        print(json.dumps({
            "steps": [{"campaign": d.campaign_id, "step": d.step, "queued": d.queued, "note": d.note}
                      for d in report.steps],
            "sent": report.sent.sent, "deferred": report.sent.deferred, "failed": report.sent.failed,
            "replies": report.inbound.replies, "needs_human": report.inbound.needs_human, "planned": leading,
        }))
        return
    if not leading:
        console.print("another mailbot process is planning (it holds the planner lock): this tick only sent")
    # Steps recorded without sending (a past course on first start has dozens) are summed per campaign.
    quiet: dict[tuple[str, str], int] = {}
    for d in report.steps:
        if d.queued == 0 and d.note:
            quiet[(d.campaign_id, d.note)] = quiet.get((d.campaign_id, d.note), 0) + 1
            continue
        console.print(f"{d.campaign_id}: {d.step} — {d.queued} queued" + (f" ({d.note})" if d.note else ""),
                      markup=False, highlight=False)
    for (campaign_id, note), n in sorted(quiet.items()):
        what = "1 step" if n == 1 else f"{n} steps"
        console.print(f"{campaign_id}: {what} recorded, nothing sent ({note})", markup=False, highlight=False)
    console.print(f"sent {report.sent.sent}, deferred {report.sent.deferred}, failed {report.sent.failed}; "
                  f"read {report.inbound.replies} replies, {report.inbound.needs_human} need a human")
    if report.sent.failed:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def plan(config: ConfigOption = Path("config.toml"), now: NowOption = None,
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show what will be sent when (local time), to how many, and what is held back (quiet hours, weekly budget)."""
    from mailbot.plan import timeline
    from mailbot.store import outbox as outbox_store

    settings = settings_or_exit(config)
    campaigns = campaigns_or_exit(settings)
    store = open_store(settings)
    with store.transaction() as s:
        done = outbox_store.done_steps(s)
    moment = parse_now(now, settings)
    from mailbot.campaign_steps import recipient_counts

    with store.transaction() as s:
        sizes = recipient_counts(settings, s, campaigns, moment)  # as if each step were due now
        held = outbox_store.held_back(s, moment)  # queued, deferred by the planner: never dropped
    rows = timeline(campaigns, done, moment, sizes)
    zone = settings.panel.zone
    if as_json:
        for row in rows:
            print(json.dumps({"campaign": row.campaign.id, "step": row.step,
                              "at": row.at.astimezone(zone).isoformat(), "sends": row.sends, "to": row.to,
                              "recipients": row.recipients if row.sends else 0, "waits_for": row.waits_for}))
        for h in held:
            print(json.dumps({"campaign": h.campaign_id, "step": h.step, "deferred": h.count, "why": h.why,
                              "from": h.first.astimezone(zone).isoformat(),
                              "until": h.until.astimezone(zone).isoformat()}))
        return
    table = Table(title="Coming up")
    for col in ("when (local time)", "campaign", "step", "to whom", "how many"):
        table.add_column(col, justify="right" if col == "how many" else "left")
    for row in rows:
        how_many = "-" if not row.sends else "?" if row.recipients is None else str(row.recipients)
        to = row.to if row.sends else "(no email)"
        table.add_row(row.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), row.campaign.id, row.step,
                      to + (f", after {row.waits_for}" if row.waits_for else ""), how_many)
    console.print(table)
    for h in held:
        console.print(f"{h.campaign_id} {h.step}: {h.count} deferred by {h.why}, going out from "
                      f"{h.first.astimezone(zone):%Y-%m-%d %H:%M} until {h.until.astimezone(zone):%Y-%m-%d %H:%M}",
                      markup=False, highlight=False, soft_wrap=True)


@app.command()
def demo(members: Annotated[int, typer.Option(help="How many synthetic residents.")] = 600,
         seed: Annotated[int, typer.Option(help="Same seed, same output.")] = 1,
         directory: Annotated[Path, typer.Option("--dir", help="Where the demo keeps its files.")] = Path("demo-out"),
         verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
         scenario: Annotated[str, typer.Option(help="survey, course (Hverdagsglede pilot) or workshop "
                                               "(committee and «Min side» user test).")] = "survey",
         serve: Annotated[bool, typer.Option("--serve", help="Stop the clock while the survey is still open "
                                             "and keep the pages and the mail server up until Ctrl-C, to "
                                             "click and reply by hand.")] = False,
         port: Annotated[int, typer.Option("--port", help="With --serve: the port of the resident pages.")] = 8080,
         ) -> None:
    """Run one real survey (or course, or recruitment) end to end on a simulated clock, on the embedded default.

    With --serve the survey opened five days ago and is still open: the demo then keeps running
    (`mailbot run` in the demo folder) and prints which email to open, which link to click and
    where to reply.
    """
    from mailbot.demo import run_demo
    from mailbot.demo.scenarios import SCENARIOS, run_scenario

    setup_logging(verbose)
    if members < 1:
        err.print("--members must be at least 1", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    if scenario not in SCENARIOS:
        err.print(f"--scenario {scenario!r} is not one of {', '.join(SCENARIOS)}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    directory.mkdir(parents=True, exist_ok=True)
    if scenario != "survey":
        said = run_scenario(scenario, members, seed, directory,
                            say=lambda s: console.print(s, markup=False, highlight=False, soft_wrap=True))
        for line in said.lines:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        return
    if serve and scenario != "survey":
        err.print("--serve runs the survey demo only", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    report = run_demo(members, seed, directory, say=lambda s: console.print(s, markup=False, highlight=False),
                      still_open_at=datetime.now(UTC) if serve else None, web_port=port)
    if serve:
        raise typer.Exit(_serve_demo(directory, report.survey.id, port, seed))
    s = report.survey
    console.print(f"\nSurvey: {s.title} ({s.id})", markup=False)
    for step, n in report.sent.items():
        console.print(f"  sent {step:<12} {n:>5}", markup=False)
    console.print(f"  replies sent by residents {report.replies_sent}", markup=False)
    console.print(f"  answered: {report.answered} of {report.invited} ({report.rate:.0%})", markup=False)
    console.print(f"  needs a human: {report.needs_human}", markup=False)
    console.print(f"  mailboxes: {report.mailboxes}", markup=False)
    console.print(f"  results email: {report.results_eml} and {report.results_html}", markup=False)
    if report.results_eml is None:
        raise typer.Exit(EXIT_FAILED)


def _serve_demo(directory: Path, survey_id: str, port: int, seed: int) -> int:
    """`mailbot run` on the demo folder, with the key its .env holds, after saying what to try."""
    from mailbot import daemon
    from mailbot.bot import Bot
    from mailbot.campaigns import Survey
    from mailbot.demo import demo_key, something_to_try
    from mailbot.tokens import Keys

    settings = settings_or_exit(directory / "config.toml")
    # The demo's own key, even when the shell has another MAILBOT_TOKEN_KEY (.env does not override it).
    bot = Bot(settings, keys=Keys((demo_key(seed),))).prepare()
    survey = bot.by_id[survey_id]
    assert isinstance(survey, Survey)
    t = settings.config.transport
    closes = survey.closes.astimezone(settings.panel.zone)

    def ready(d: daemon.Daemon) -> None:
        console.print(f"\nThe survey is open until {closes:%Y-%m-%d %H:%M}; the demo panel is running "
                      f"(pages on http://127.0.0.1:{d.http_port}, mail on 127.0.0.1:{t.port}).", markup=False,
                      soft_wrap=True)
        tryit = something_to_try(bot, survey)
        if tryit is not None:
            console.print(f"Open the invitation to {tryit.resident}:\n  {tryit.mailbox_file}\n"
                          f"Click its answer link:\n  {tryit.link}\n"
                          f"or reply to {tryit.reply_to} through 127.0.0.1:{t.port} (SMTP); the receipt lands in "
                          f"{tryit.mailbox_file.parent}.", markup=False, soft_wrap=True)
        console.print(f"Same again later: cd {directory} && mailbot run --every 10. Ctrl-C stops.",
                      markup=False, soft_wrap=True)
        console.file.flush()

    try:
        return daemon.run(bot, daemon.DaemonOptions(every=10, port=port), ready=ready)
    except daemon.DaemonError as exc:
        err.print(str(exc), markup=False, highlight=False)
        return EXIT_FAILED

