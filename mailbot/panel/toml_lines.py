"""Find the line in a TOML file that a validation error points at.

tomllib gives values without positions, so we scan the source once and map
each key path (("questions", 2, "type"), ("reminders", 1),
("audience", "answered", 0, "answer")) to the line that sets it: tables,
arrays of tables, dotted keys, multi-line strings, array elements and keys of
inline tables. The scan only points at lines; tomllib decides what the values
are, and a line the scan cannot read is skipped, never an error.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

Path = tuple[str | int, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = re.compile(r"[,\]}\n#]")


class _Unreadable(Exception):
    """The scanner met something it does not understand; skip to the next line."""


class _Scanner:
    def __init__(self, text: str):
        self.text = text
        self.i = 0
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.lines: dict[Path, int] = {}
        self.counts: dict[tuple[str, ...], int] = {}
        self.unreadable: list[int] = []  # lines of statements the scan could not read
        self.repeated: list[tuple[Path, int, int]] = []  # (key, first line, second line)

    # -- positions

    def line(self) -> int:
        return bisect.bisect_right(self.starts, self.i)

    def peek(self, n: int = 1) -> str:
        return self.text[self.i : self.i + n]

    def at_end(self) -> bool:
        return self.i >= len(self.text)

    def record(self, path: Path, line: int) -> None:
        first = self.lines.setdefault(path, line)
        if first != line:
            self.repeated.append((path, first, line))

    def skip_blank(self, newlines: bool) -> None:
        while not self.at_end():
            c = self.text[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.i += 1
            elif c == "#":
                end = self.text.find("\n", self.i)
                self.i = len(self.text) if end < 0 else end
            else:
                return

    def skip_line(self) -> None:
        end = self.text.find("\n", self.i)
        self.i = len(self.text) if end < 0 else end + 1

    # -- statements

    def document(self) -> dict[Path, int]:
        table: Path = ()
        while True:
            self.skip_blank(newlines=True)
            if self.at_end():
                return self.lines
            start = self.i
            try:
                if self.peek() == "[":
                    table = self.header()
                else:
                    line = self.line()
                    key = self.key()
                    self.expect("=")
                    self.record((*table, *key), line)
                    self.value((*table, *key))
            except _Unreadable:
                self.i = start
                self.unreadable.append(self.line())
                self.skip_line()

    def header(self) -> Path:
        line = self.line()
        double = self.peek(2) == "[["
        self.i += 2 if double else 1
        names = self.key()
        self.expect("]]" if double else "]")
        if double:
            index = self.counts.get(names, 0)
            self.counts[names] = index + 1
            table: Path = (*_with_indices(names[:-1], self.counts), names[-1], index)
        else:
            table = _with_indices(names, self.counts)
        self.record(table, line)
        return table

    def key(self) -> tuple[str, ...]:
        parts: list[str] = []
        while True:
            self.skip_blank(newlines=False)
            c = self.peek()
            if c in ('"', "'"):
                end = self.text.find(c, self.i + 1)
                if end < 0 or "\n" in self.text[self.i : end]:
                    raise _Unreadable
                parts.append(self.text[self.i + 1 : end])
                self.i = end + 1
            else:
                m = _BARE.match(self.text, self.i)
                if not m:
                    raise _Unreadable
                parts.append(m.group())
                self.i = m.end()
            self.skip_blank(newlines=False)
            if self.peek() != ".":
                return tuple(parts)
            self.i += 1

    def expect(self, token: str) -> None:
        self.skip_blank(newlines=False)
        if not self.text.startswith(token, self.i):
            raise _Unreadable
        self.i += len(token)

    # -- values

    def value(self, path: Path) -> None:
        self.skip_blank(newlines=False)
        c = self.peek()
        if self.peek(3) in ('"""', "'''"):
            self.string(self.peek(3))
        elif c in ('"', "'"):
            self.string(c)
        elif c == "[":
            self.array(path)
        elif c == "{":
            self.inline_table(path)
        else:
            m = _SCALAR_END.search(self.text, self.i)
            end = len(self.text) if m is None else m.start()
            if end == self.i:
                raise _Unreadable
            self.i = end

    def string(self, quote: str) -> None:
        self.i += len(quote)
        escapes = quote[0] == '"'
        while not self.at_end():
            if escapes and self.text[self.i] == "\\":
                self.i += 2
                continue
            if self.text.startswith(quote, self.i):
                self.i += len(quote)
                # """a"""" is legal: up to two more quotes belong to the string.
                while len(quote) == 3 and self.peek() == quote[0]:
                    self.i += 1
                return
            if len(quote) == 1 and self.text[self.i] == "\n":
                raise _Unreadable
            self.i += 1
        raise _Unreadable

    def array(self, path: Path) -> None:
        self.i += 1
        index = 0
        while True:
            self.skip_blank(newlines=True)
            if self.at_end():
                raise _Unreadable
            if self.peek() == "]":
                self.i += 1
                return
            self.record((*path, index), self.line())
            self.value((*path, index))
            self.skip_blank(newlines=True)
            if self.peek() == ",":
                self.i += 1
                index += 1
            elif self.peek() != "]":
                raise _Unreadable

    def inline_table(self, path: Path) -> None:
        self.i += 1
        while True:
            self.skip_blank(newlines=True)
            if self.at_end():
                raise _Unreadable
            if self.peek() == "}":
                self.i += 1
                return
            line = self.line()
            key = self.key()
            self.expect("=")
            self.record((*path, *key), line)
            self.value((*path, *key))
            self.skip_blank(newlines=True)
            if self.peek() == ",":
                self.i += 1
            elif self.peek() != "}":
                raise _Unreadable


def key_lines(text: str) -> dict[Path, int]:
    """Map every key path, table path and array element in `text` to its 1-based line."""
    return _Scanner(text).document()


@dataclass(frozen=True)
class Scan:
    lines: dict[Path, int]
    unreadable: list[int]  # lines where a statement could not be read (e.g. an unclosed string)
    repeated: list[tuple[Path, int, int]]  # keys set twice: (key, first line, second line)


def scan(text: str) -> Scan:
    """key_lines, plus the lines that explain TOML errors tomllib reports "at end of document"."""
    s = _Scanner(text)
    lines = s.document()
    return Scan(lines, s.unreadable, s.repeated)


def _with_indices(names: Sequence[str], counts: dict[tuple[str, ...], int]) -> Path:
    """[questions.extra] inside the 3rd [[questions]] is questions.2.extra."""
    path: list[str | int] = []
    for i, name in enumerate(names):
        path.append(name)
        prefix = tuple(names[: i + 1])
        if prefix in counts:
            path.append(counts[prefix] - 1)
    return tuple(path)


def line_of(lines: dict[Path, int], loc: Sequence[str | int]) -> int:
    """The line of the longest prefix of `loc` that the file sets; 1 if none."""
    loc = tuple(loc)
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1
