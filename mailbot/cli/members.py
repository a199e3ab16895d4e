"""`mailbot members import FILE.csv` and `mailbot members list`.

An import is all or nothing: any invalid row refuses the whole file (exit 2,
nothing stored) unless `--skip-invalid` is given, and the rows are written in
one transaction. Existing members (same address) are updated, never doubled.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mailbot import membership
from mailbot.cli.app import EXIT_BAD_INPUT, members_app
from mailbot.cli.common import open_store, settings_or_exit
from mailbot.cli.validate import ConfigOption, print_problems, shown
from mailbot.roster import RosterRow, read_roster

IMPORT_CHUNK = 5000  # rows per progress step; all in one transaction





@members_app.command("import")
def import_members(
    file: Annotated[Path, typer.Argument(help="A CSV file: email,name,language,birth_year,postcode,tags")],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Import the valid rows and report the others.")
    ] = False,
    config: ConfigOption = Path("config.toml"),
) -> None:
    """Add residents from a CSV file, or update the ones already on the panel.

    The first line names the columns (email is required; name, language,
    birth_year, postcode, tags are optional; tags separated by ; or ,). UTF-8
    and Excel's files (windows-1252, ; between fields) are both read.

    Example: mailbot members import panel.csv
    """
    err = Console(stderr=True, soft_wrap=True)
    settings = settings_or_exit(config)
    now = datetime.now(UTC)
    today = now.astimezone(settings.panel.zone).date()
    panel = settings.panel
    roster = read_roster(file, today=today, min_age=panel.min_age, postcodes=panel.postcodes)
    if roster.problems:
        print_problems(roster.problems, err)
    if roster.unreadable:
        err.print(f"{shown(file)} cannot be imported; nothing was changed.", markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    if roster.problems and not skip_invalid:
        err.print(
            f"{len(roster.bad_lines)} row(s) have problems; nothing was imported. Fix them, "
            "or import the valid rows with --skip-invalid.",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(EXIT_BAD_INPUT)

    from mailbot.store import members as member_store

    store = open_store(settings)
    added = updated = 0
    try:
        with (
            store.transaction() as session,
            Progress(
                TextColumn("Importing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=False,
            ) as progress,
        ):
            task = progress.add_task("import", total=len(roster.rows))
            for chunk in _chunks(roster.rows, IMPORT_CHUNK):
                a, u = member_store.upsert_members(session, chunk, now, default_language=panel.language)
                added, updated = added + a, updated + u
                progress.advance(task, len(chunk))
            # Staff actions on personal data are audited, apart from the data (no addresses here).
            membership.audit(session, getpass.getuser(), "import", None, now,
                             f"{file.name}: {added} added, {updated} updated")
    finally:
        store.dispose()
    unchanged = len(roster.rows) - added - updated
    skipped = f", {len(roster.bad_lines)} skipped" if roster.problems else ""
    Console(soft_wrap=True).print(
        f"{shown(file)}: {added} added, {updated} updated, {unchanged} unchanged{skipped}.",
        markup=False,
        highlight=False,
    )


def _chunks(rows: list[RosterRow], size: int) -> Iterator[list[RosterRow]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


@members_app.command("list")
def list_members(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for scripts.")] = False,
    config: ConfigOption = Path("config.toml"),
) -> None:
    """Show the residents on the panel: id, email, name, language, status, tags."""
    from mailbot.store import members as member_store

    settings = settings_or_exit(config)
    store = open_store(settings)
    console = Console()
    table = Table(title="Members")
    for column in ("id", "email", "name", "language", "status", "why", "tags"):
        table.add_column(column, no_wrap=column in ("id", "email", "status"))
    first = True
    if as_json:
        print("[", end="")
    try:
        after = 0
        while True:
            with store.transaction() as session:
                page = member_store.list_members(session, after_id=after, limit=1000)
            if not page:
                break
            after = page[-1].id
            for m in page:
                if as_json:
                    row = {
                        "id": m.id,
                        "email": m.email,
                        "name": m.name,
                        "language": m.language,
                        "status": m.status.value,
                        "status_reason": m.status_reason,
                        "tags": list(m.tags),
                    }
                    print(("" if first else ",") + "\n" + json.dumps(row, ensure_ascii=False), end="")
                    first = False
                else:
                    table.add_row(
                        str(m.id),
                        m.email or "(erased)",
                        m.name or "",
                        m.language,
                        m.status.value,
                        m.status_reason or "",
                        ", ".join(m.tags),
                    )
    finally:
        store.dispose()
    if as_json:
        print("\n]")
    else:
        console.print(table)
