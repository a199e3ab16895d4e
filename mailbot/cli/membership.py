"""`mailbot members export EMAIL` and `mailbot members erase EMAIL`: a resident's GDPR requests, done by staff.

Both are written to the staff audit log (who, when, which member id; never
the address). Export prints JSON (or writes it to --output); erasure asks
for confirmation unless --yes is given, and keeps the member's answers in the
results with nobody behind them.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mailbot import membership
from mailbot.cli.app import EXIT_BAD_INPUT, members_app
from mailbot.cli.common import open_store, settings_or_exit
from mailbot.cli.validate import ConfigOption
from mailbot.store.members import member_by_email

ByOption = Annotated[str, typer.Option("--by", help="Who does this (for the audit log); default: your login.")]



def _actor(by: str) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "staff"


@members_app.command("export")
def export(
    email: Annotated[str, typer.Argument(help="The member's email address.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the JSON here instead.")] = None,
    by: ByOption = "",
    config: ConfigOption = Path("config.toml"),
) -> None:
    """Everything stored about one member, as JSON (GDPR access and portability).

    Example: mailbot members export kari@example.no -o kari.json
    """
    err = Console(stderr=True, soft_wrap=True)
    settings = settings_or_exit(config)
    store = open_store(settings)
    now = datetime.now(UTC)
    with store.transaction() as s:
        member = member_by_email(s, email)
        data = membership.export_member(s, settings, member.id) if member else None
        if member is None or data is None:
            err.print(f"No member has the address {email!r}; nothing exported. Check the spelling, "
                      "or list members with: mailbot members list")
            raise typer.Exit(EXIT_BAD_INPUT)
        membership.audit(s, _actor(by), "export", member.id, now, "command line")
    text = membership.export_json(data)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        err.print(f"Wrote {output}")


@members_app.command("erase")
def erase(
    email: Annotated[str, typer.Argument(help="The member's email address.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    by: ByOption = "",
    config: ConfigOption = Path("config.toml"),
) -> None:
    """Erase a member's personal data; their answers keep counting, detached from them.

    Example: mailbot members erase kari@example.no --yes
    """
    err = Console(stderr=True, soft_wrap=True)
    settings = settings_or_exit(config)
    store = open_store(settings)
    with store.transaction() as s:
        member = member_by_email(s, email)
    if member is None:
        err.print(f"No member has the address {email!r}; nothing erased. Check the spelling, "
                  "or list members with: mailbot members list")
        raise typer.Exit(EXIT_BAD_INPUT)
    if not yes and not typer.confirm(f"Erase member {member.id} ({email})? This cannot be undone.", err=True):
        err.print("Nothing erased.")
        raise typer.Exit(EXIT_BAD_INPUT)
    with store.transaction() as s:
        done = membership.erase(s, member.id, datetime.now(UTC), actor=_actor(by))
    assert done is not None
    err.print(f"Erased member {done.member_id}: {done.responses_kept} response(s) kept anonymously, "
              f"{done.outbox_anonymised} email record(s) anonymised, {done.inbound_forgotten} message(s) forgotten.")
