"""Command line. Each module below adds its commands to `app`."""

from __future__ import annotations

# Importing registers the commands; one module per command group.
from mailbot.cli import (
    inbox,  # noqa: E402,F401  mailbot inbox (the human queue)
    members,  # noqa: E402,F401
    membership,  # noqa: E402,F401
    parse,  # noqa: E402,F401
    results,  # noqa: E402,F401
    staff,  # noqa: E402,F401  validate, plan, tick, run, members, demo, results
    validate,  # noqa: E402,F401
)
from mailbot.cli import preview  # noqa: E402,F401  preview, send-test, templates check, run
from mailbot.cli import selection  # noqa: E402,F401  mailbot selection show|approve CAMPAIGN
from mailbot.cli.app import app


def main() -> None:
    app()
