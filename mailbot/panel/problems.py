"""What is wrong in a file staff wrote: a `Problem` names the file, the line, what is wrong and what
to write instead; `ConfigError` carries all of them at once so staff can fix a file in one go."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    what: str
    instead: str = ""

    def __str__(self) -> str:
        tail = f" — {self.instead}" if self.instead else ""
        return f"{self.file}:{self.line}: {self.what}{tail}"


ProblemT = TypeVar("ProblemT", bound=Problem)


class ConfigError(Exception):
    """One or more problems in files staff wrote; nothing was changed."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems, key=lambda p: (str(p.file), p.line))
        super().__init__("\n".join(str(p) for p in self.problems))



def unique_problems(problems: Iterable[ProblemT]) -> list[ProblemT]:
    """Each (file, line, what) once, in the order first seen."""
    seen: set[tuple[Path, int, str]] = set()
    out: list[ProblemT] = []
    for p in problems:
        if (p.file, p.line, p.what) not in seen:
            seen.add((p.file, p.line, p.what))
            out.append(p)
    return out
