"""Find the line in a TOML file that a validation error points at.

tomllib gives values without positions, so we scan the source once and map
each key path (("questions", 2, "type")) to the line that sets it. The scan
understands tables, arrays of tables, dotted keys and multi-line arrays well
enough for pointing at lines; it never decides what the values are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Path = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


def _split_key(raw: str) -> tuple[str, ...]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", raw)
    return tuple(p.strip("\"'") for p in parts)


def key_lines(text: str) -> dict[Path, int]:
    """Map every key path and table path in `text` to its 1-based line."""
    lines: dict[Path, int] = {}
    counts: dict[tuple[str, ...], int] = {}
    table: Path = ()
    depth = 0  # open brackets of a multi-line value: keys inside are not keys
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if depth > 0:
            depth += _bracket_balance(stripped)
            continue
        if not stripped or stripped.startswith("#"):
            continue
        header = _HEADER.match(line)
        if header and "=" not in header.group(2):
            names = _split_key(header.group(2))
            if header.group(1) == "[[":
                index = counts.get(names, 0)
                counts[names] = index + 1
                table = (*_with_indices(names[:-1], counts), names[-1], index)
            else:
                table = _with_indices(names, counts)
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            path = (*table, *_split_key(key.group(1)))
            lines.setdefault(path, number)
            depth = max(0, _bracket_balance(line[key.end():]))
    return lines


def _with_indices(names: Sequence[str], counts: dict[tuple[str, ...], int]) -> Path:
    """[questions.extra] inside the 3rd [[questions]] is questions.2.extra."""
    path: list[str | int] = []
    for i, name in enumerate(names):
        path.append(name)
        prefix = tuple(names[: i + 1])
        if prefix in counts:
            path.append(counts[prefix] - 1)
    return tuple(path)


def _bracket_balance(s: str) -> int:
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'', "", s)
    s = s.split("#", 1)[0]
    return s.count("[") + s.count("{") - s.count("]") - s.count("}")


def line_of(lines: dict[Path, int], loc: Sequence[str | int]) -> int:
    """The line of the longest prefix of `loc` that the file sets; 1 if none."""
    loc = tuple(loc)
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1
