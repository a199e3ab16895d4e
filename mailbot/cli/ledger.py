"""`mailbot ledger`: who was sent what and when, with the mail server's answer.

Read straight from the outbox, a page at a time (`mailbot.store.outbox.ledger`),
so a panel of 100 000 prints as it goes and never sits in memory whole.
"""

from __future__ import annotations

import json
from datetime import datetime, time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mailbot.cli.app import EXIT_BAD_INPUT, app
from mailbot.cli.common import ConfigOption, settings_or_exit
from mailbot.panel.problems import ConfigError
from mailbot.panel.settings import Settings
from mailbot.schedules import load_campaigns

err = Console(stderr=True, soft_wrap=True)


def _bad(message: str) -> typer.Exit:
    err.print(message, markup=False, highlight=False)
    return typer.Exit(EXIT_BAD_INPUT)


def _since(value: str, settings: Settings) -> datetime:
    """A date (from its midnight) or a date and time, in the panel's local time unless an offset is given."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _bad(f"--since {value!r} is not a date — write for example 2022-12-01 or 2022-12-01T09:00") from None
    if len(value.strip()) == 10:  # a bare date: from the start of that day
        moment = datetime.combine(moment.date(), time())
    return moment.replace(tzinfo=settings.panel.zone) if moment.tzinfo is None else moment


@app.command()
def ledger(
    campaign: Annotated[str | None, typer.Option("--campaign", help="Only this campaign (its id).")] = None,
    member: Annotated[str | None, typer.Option("--member", help="Only this member (by address).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only from this date or time on "
                                                              "(local time), e.g. 2022-12-01.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    config: ConfigOption = Path("config.toml"),
) -> None:
    """The send ledger: each email sent, failed, deferred or skipped, when, and the mail server's answer.

    Examples:

      mailbot ledger --campaign ombruk-2022

      mailbot ledger --member kari@example.no --since 2022-12-01

      mailbot ledger --since 2022-12-01T09:00 --json

    Exit codes: 0 listed (perhaps nothing), 2 unknown campaign or member, or a bad date.
    """
    from mailbot.store import Store
    from mailbot.store import members as member_store
    from mailbot.store import outbox as outbox_store

    settings = settings_or_exit(config)
    start = _since(since, settings) if since else None
    store = Store(settings.database_url)
    store.upgrade()
    member_id = None
    with store.transaction() as s:
        if campaign is not None and not outbox_store.has_campaign(s, campaign):
            try:
                known = sorted(c.id for c in load_campaigns(settings))
            except ConfigError:
                known = []
            if campaign not in known:
                listed = ", ".join(known) or "none"
                raise _bad(f"no campaign {campaign!r}: nothing was sent for it and no file in schedules/ has that "
                           f"id — the campaigns are: {listed}")
        if member is not None:
            record = member_store.member_by_email(s, member)
            if record is None:
                raise _bad(f"no member with the address {member!r} — `mailbot members list` shows who is on the "
                           "panel")
            member_id = record.id
    zone = settings.panel.zone
    out = Console(soft_wrap=True, highlight=False)
    shown = 0
    for e in outbox_store.ledger(store.transaction, campaign_id=campaign, member_id=member_id, since=start):
        shown += 1
        if as_json:
            print(json.dumps({"at": e.at.astimezone(zone).isoformat(), "campaign": e.campaign_id, "step": e.step,
                              "member": e.email, "status": e.status, "attempts": e.attempts,
                              "response": e.response, "message_id": e.message_id,
                              "retry_at": e.retry_at.astimezone(zone).isoformat() if e.retry_at else None},
                             ensure_ascii=False))
            continue
        retry = f" (again {e.retry_at.astimezone(zone):%Y-%m-%d %H:%M})" if e.retry_at else ""
        out.print(f"{e.at.astimezone(zone):%Y-%m-%d %H:%M:%S}  {e.campaign_id}  {e.step}  "
                  f"{e.email or '(erased)'}  {e.status}{retry}  {e.response or ''}", markup=False)
    if not as_json:
        out.print(f"{shown} email(s)" + ("" if shown else " — nothing sent yet that matches"), markup=False)
    store.dispose()
