"""The one `mailbot` entry point; command modules register themselves on `app`.

Exit codes (documented in `mailbot --help` and docs/staff-guide.md):
0 done, 1 something failed at run time (a send, a server), 2 the input is
wrong (config, schedule, CSV, arguments) and nothing was changed.
"""

from __future__ import annotations

import typer

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

app = typer.Typer(
    name="mailbot",
    help=(
        "Email-first citizen panel: surveys, courses, workshops and results by email.\n\n"
        "Examples:\n\n"
        "  mailbot demo                      run a whole survey on a simulated clock\n\n"
        "  mailbot validate                  check config.toml, schedules/ and templates\n\n"
        "  mailbot members import panel.csv  add residents\n\n"
        "  mailbot preview ombruk-2022 invitation --lang nn --open   see an email as a resident will\n\n"
        "  mailbot send-test ombruk-2022 invitation --to me@example.no   send it to yourself, marked [TEST]\n\n"
        "  mailbot templates check           render every email in nb, nn and en\n\n"
        "  mailbot tick                      do everything that is due now, once\n\n"
        "  mailbot run                       the daemon: ticks, mail servers, web pages, /healthz\n\n"
        "Exit codes: 0 done, 1 failed at run time, 2 bad input (nothing changed)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

members_app = typer.Typer(help="Residents on the panel: import, list, export, erase.", no_args_is_help=True)
app.add_typer(members_app, name="members")
