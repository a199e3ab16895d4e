"""Command line: one `mailbot` entry point; each module in COMMANDS adds its commands to `app`."""

from __future__ import annotations

import importlib

from mailbot.cli.app import app

# One module per command group, in the order `mailbot --help` lists them.
# A new command group adds its module name here.
COMMANDS = (
    "validate",  # validate
    "staff",  # tick, plan, demo
    "preview",  # preview, send-test, templates check, run
    "members",  # members import, list
    "membership",  # members export, erase
    "inbox",  # inbox: the human queue
    "results",  # results, status
    "ledger",  # ledger: who was sent what and when, with the server's answer
    "selection",  # selection show|approve
    "parse",  # parse
)

for _name in COMMANDS:
    importlib.import_module(f"mailbot.cli.{_name}")


def main() -> None:
    app()
