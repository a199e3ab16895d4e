"""Command line. Each module below adds its commands to `app`."""

from __future__ import annotations

from mailbot.cli.app import app

# Importing registers the commands; one module per command group.
from mailbot.cli import staff  # noqa: E402,F401  validate, plan, tick, run, members, demo, results
from mailbot.cli import members  # noqa: E402,F401
from mailbot.cli import membership  # noqa: E402,F401
from mailbot.cli import validate  # noqa: E402,F401
from mailbot.cli import parse  # noqa: E402,F401
from mailbot.cli import results  # noqa: E402,F401
from mailbot.cli import inbox  # noqa: E402,F401  mailbot inbox (the human queue)
from mailbot.cli import selection  # noqa: E402,F401  mailbot selection show|approve CAMPAIGN
from mailbot.cli import preview  # noqa: E402,F401  preview, send-test, templates check, run


def main() -> None:
    app()
