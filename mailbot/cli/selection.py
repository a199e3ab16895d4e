"""`mailbot selection show|approve CAMPAIGN`: look at the draw of a recruitment before it happens, then allow it.

The draw is seeded, so what `show` prints is exactly who `approve` (and the
next tick) will seat; nobody is told anything until then.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from mailbot.campaigns import Recruitment
from mailbot.cli.app import EXIT_BAD_INPUT, app
from mailbot.cli.common import ConfigOption, campaigns_or_exit, settings_or_exit
from mailbot.cli.staff import parse_now
from mailbot.panel.settings import Settings

if TYPE_CHECKING:
    from mailbot.store import Store

selection_app = typer.Typer(help="The draw of a recruitment (lottery, stratified): show it, approve it.")
app.add_typer(selection_app, name="selection")
console = Console()
err = Console(stderr=True)



def _recruitment(config: Path, campaign_id: str) -> tuple[Settings, Recruitment, Store]:
    from mailbot.store import Store  # noqa: F811 - imported when needed: the CLI starts fast

    settings = settings_or_exit(config)
    campaigns = campaigns_or_exit(settings)
    found = next((c for c in campaigns if c.id == campaign_id), None)
    if not isinstance(found, Recruitment):
        known = ", ".join(c.id for c in campaigns if isinstance(c, Recruitment)) or "none"
        err.print(f"no recruitment {campaign_id!r} in {settings.schedules_dir} — recruitments: {known}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    store = Store(settings.database_url)
    store.upgrade()
    return settings, found, store


@selection_app.command("show")
def show(campaign: str, config: ConfigOption = Path("config.toml"),
         now: Annotated[str | None, typer.Option("--now")] = None) -> None:
    """Who the draw seats in which session, and who waits, with age band and district."""
    from mailbot import recruitment as seats
    from mailbot.campaign_steps import _stratum_of
    from mailbot.store.models import Member

    settings, r, store = _recruitment(config, campaign)
    moment = parse_now(now, settings)
    with store.transaction() as s:
        stratum = _stratum_of(settings, s, r.closes)  # as the draw will see them: ages at the deadline
        people = seats.volunteers(s, r, stratum)
        drawn = seats.draw(people, seats.seats_of(r), r.selection, f"{r.seed}:{r.id}")
        emails = {m.id: m.email for m in s.query(Member).filter(Member.id.in_([d.member_id for d in drawn]))}
    still_open = f"; sign-up open until {r.closes.astimezone(settings.panel.zone):%Y-%m-%d %H:%M}, more may " \
        "volunteer" if moment < r.closes else ""
    table = Table(title=f"{r.title}: {len(people)} volunteers, {sum(seats.seats_of(r).values())} seats "
                  f"({r.selection}, seed {r.seed}{still_open})")
    for col in ("rank", "member", "age band", "district", "wants", "gets"):
        table.add_column(col)
    wants = {v.member_id: v for v in people}
    for d in sorted(drawn, key=lambda x: x.rank):
        v = wants[d.member_id]
        table.add_row(str(d.rank + 1), emails.get(d.member_id) or str(d.member_id), v.stratum[0] or "?",
                      v.stratum[1] or "?", v.wants or "any", d.meeting or "waitlist")
    console.print(table)


@selection_app.command("approve")
def approve(campaign: str, config: ConfigOption = Path("config.toml"),
            now: Annotated[str | None, typer.Option("--now")] = None) -> None:
    """Allow the draw: it happens at the next tick after the sign-up deadline, exactly as `show` printed it."""
    from mailbot.plan import APPROVED
    from mailbot.store import outbox as outbox_store

    settings, r, store = _recruitment(config, campaign)
    moment = parse_now(now, settings)
    with store.transaction() as s:
        if outbox_store.step_is_done(s, r.id, APPROVED):
            console.print(f"{r.id}: the draw was already approved", markup=False)
            return
        outbox_store.record_step(s, r.id, APPROVED, moment, note="approved by staff")
    console.print(f"{r.id}: draw approved; it runs at the next tick after {r.closes:%Y-%m-%d %H:%M}", markup=False)
