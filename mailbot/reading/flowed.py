"""RFC 3676 format=flowed text/plain, as Thunderbird and Apple Mail send it, joined back into the
lines the resident typed: a line ending in a space goes on in the next line of the same quote depth.

Without this a free-text answer wrapped at 72 characters reads as two answers, and a quoted question
wrapped over two lines is not recognised as the question.
"""

from __future__ import annotations

import re

_QUOTES = re.compile(r"^>+")
SIGNATURE = "-- "


def unflow(text: str, delsp: bool = False) -> str:
    """The text with soft line breaks removed (and space-stuffing undone)."""
    out: list[str] = []
    current: str | None = None
    depth_of_current = -1
    for raw in text.split("\n")[:20000]:
        line = raw.rstrip("\r")
        depth_match = _QUOTES.match(line)
        depth = len(depth_match.group(0)) if depth_match else 0
        body = line[depth:]
        if body.startswith(" "):
            body = body[1:]  # space-stuffing (and the space after ">")
        flowed = body.endswith(" ") and body != SIGNATURE
        if delsp and flowed:
            body = body[:-1]
        if current is not None and depth == depth_of_current:
            current += body
        else:
            if current is not None:
                out.append(current)
            current = (">" * depth + " " if depth else "") + body
            depth_of_current = depth
        if not flowed:
            out.append(current)
            current, depth_of_current = None, -1
    if current is not None:
        out.append(current)
    return "\n".join(out)
