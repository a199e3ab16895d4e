"""`mailbot parse`: show how inbound messages are read, touching no database.

For staff checking a puzzling reply and for measuring the reader on a folder of
.eml files: one JSON object per line per file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mailbot.campaigns import Survey
from mailbot.cli.app import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, app
from mailbot.reading import Reading, read_message


@app.command()
def parse(
    messages: Annotated[list[Path], typer.Argument(help="Message files (.eml) to read.", show_default=False)],
    survey: Annotated[
        Path | None,
        typer.Option("--survey", help="A schedule file (schedules/X.toml) whose questions to read."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line per file.")] = False,
) -> None:
    """Read messages as the bot would: kind, typed text, answers, command, bounce.

    Example: mailbot parse reply.eml --survey schedules/ombruk-2022.toml --json
    """
    questions = _load_survey(survey) if survey else None
    failed = False
    for path in messages:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            failed = True
            why = f"could not read the file: {exc.strerror or exc}"
            _emit({"file": str(path), "kind": None, "error": why, "needs_human": why}, as_json)
            continue
        _emit(_as_dict(path, read_message(raw, questions)), as_json)
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


def _load_survey(path: Path) -> Survey:
    from mailbot.panel.problems import ConfigError
    from mailbot.schedules import load_campaign_file

    try:
        campaign = load_campaign_file(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except OSError as exc:
        print(f"{path}: {exc.strerror or exc}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if not isinstance(campaign, Survey):
        print(f"{path}: not a survey, so it has no questions to read answers for", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT)
    return campaign


def _as_dict(path: Path, reading: Reading) -> dict[str, Any]:
    bounce = None
    if reading.bounce is not None:
        bounce = {
            "addresses": list(reading.bounce.addresses),
            "permanent": reading.bounce.permanent,
            "token": reading.bounce.token,
        }
    return {
        "file": str(path),
        "kind": reading.kind,
        "text": reading.text,
        "answers": {q: list(v) if isinstance(v, tuple) else v for q, v in reading.answers.items()},
        "unsure": reading.unsure,
        "command": reading.command,
        "command_value": reading.command_value,
        "bounce": bounce,
        "needs_human": reading.needs_human,
        # Added to the contract above, which stays as it was: how sure each answer is, whether the
        # resident is asked to confirm the reading first, and who acts on the reply.
        "confidence": reading.confidence,
        "confirm": {"send": bool(reading.confirm), "questions": list(reading.confirm)},
        "route": reading.route.value,
    }


def _emit(row: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(row, ensure_ascii=False))
        return
    print(f"{row['file']}: {row.get('kind', 'unreadable')}")
    for key in ("error", "command", "command_value", "bounce", "answers", "unsure", "needs_human", "route"):
        if row.get(key):
            print(f"  {key}: {row[key]}")
    if row.get("text"):
        print("  text: " + row["text"].replace("\n", "\n        "))
