"""Structured logging: one line per event, `key=value` (or JSON), never an email body or address at INFO.

Log calls in mailbot name what happened and the ids involved
(`log.info("sent outbox=%s campaign=%s step=%s member=%s", …)`); this module
prints each record as one line:

    2026-09-15T09:00:01+02:00 level=info logger=mailbot.sending event="sent" outbox=12 campaign=ombruk-2022 …

or, with `json_lines=True`, as one JSON object per line for a log shipper.

Residents' addresses are personal data: at INFO and above every address in a
message is replaced by `<address>` before it is written, whatever the caller
passed (a library logging a peer, an exception text quoting a recipient).
DEBUG lines (`--verbose`) are not masked: they are for a developer on a test panel.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any

# No "=" in the local part: "rcpt=kari@x" must keep its key.
ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
MASK = "<address>"

# `key=value` pairs inside a message, as mailbot's log calls write them.
_PAIR = re.compile(r"(?:^|\s)([a-z_][a-z0-9_]*)=(\S+)")

# Libraries that log addresses or chatter at INFO: quiet unless --verbose.
_NOISY = ("mail.log", "aiosmtpd", "apscheduler", "uvicorn.access", "imapclient", "alembic", "httpx")


def mask_addresses(text: str) -> str:
    return ADDRESS.sub(MASK, text)


def split_event(message: str) -> tuple[str, dict[str, str]]:
    """"sent outbox=3 campaign=x" -> ("sent", {"outbox": "3", "campaign": "x"})."""
    first = _PAIR.search(message)
    if first is None:
        return message.strip(), {}
    event = message[: first.start()].strip()
    fields = {m.group(1): m.group(2) for m in _PAIR.finditer(message, first.start())}
    return event, fields


def _quoted(value: str) -> str:
    if value and not any(c in value for c in ' "=\\\n\t'):
        return value
    return json.dumps(value, ensure_ascii=False)


class EventFormatter(logging.Formatter):
    """One line per record: time, level, logger, event, then the record's key=value fields."""

    def __init__(self, *, json_lines: bool = False, mask_from: int = logging.INFO):
        super().__init__()
        self.json_lines = json_lines
        self.mask_from = mask_from

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            # The type and message only: a traceback's locals and lines may quote an email.
            exc = record.exc_info[1]
            message += f" error={type(exc).__name__}:{_quoted(str(exc))}" if exc else ""
        if record.levelno >= self.mask_from:
            message = mask_addresses(message)
        event, fields = split_event(message)
        when = datetime.fromtimestamp(record.created, UTC).astimezone().isoformat(timespec="seconds")
        base: dict[str, Any] = {"time": when, "level": record.levelname.lower(), "logger": record.name,
                                "event": event}
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            fields.update({str(k): str(v) for k, v in extra.items()})
        if self.json_lines:
            return json.dumps({**base, **fields}, ensure_ascii=False)
        head = f"{when} level={base['level']} logger={record.name} event={_quoted(event)}"
        tail = "".join(f" {k}={_quoted(v)}" for k, v in fields.items())
        return head + tail


def setup(verbose: bool = False, *, json_lines: bool = False, stream: IO[str] | None = None,
          level: int | None = None) -> logging.Handler:
    """Route every logger through one EventFormatter handler on stderr (or `stream`); returns the handler.

    INFO by default, DEBUG with `verbose`. Calling it again replaces the handler.
    """
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_mailbot", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(EventFormatter(json_lines=json_lines))
    handler._mailbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level if level is not None else logging.DEBUG if verbose else logging.INFO)
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)
    return handler
