"""The campaigns staff define, as plain immutable data.

Loaded and validated from `schedules/*.toml` by `mailbot.config`; everything
else (planner, composer, reply parser, results) reads these types only.
Times are timezone-aware (the panel's zone); the planner compares them with
an aware `now` it is given.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path


class QuestionType(StrEnum):
    CHOICE = "choice"  # one option
    MULTI = "multi"  # one or more options
    SCALE = "scale"  # an integer from min to max
    TEXT = "text"  # the resident's own words


OPTION_KEYS = string.ascii_uppercase  # options are shown as A) B) C) … in emails


@dataclass(frozen=True)
class Question:
    id: str
    number: int  # 1-based position, the number residents type
    text: str
    type: QuestionType
    options: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None
    min_label: str | None = None
    max_label: str | None = None
    required: bool = True

    @property
    def keyed_options(self) -> tuple[tuple[str, str], ...]:
        """(letter, option text) pairs: (("A", "Ja"), ("B", "Nei"), …)."""
        return tuple(zip(OPTION_KEYS, self.options, strict=False))

    def option_for_key(self, key: str) -> str | None:
        idx = OPTION_KEYS.find(key.upper()) if len(key) == 1 else -1
        return self.options[idx] if 0 <= idx < len(self.options) else None

    @property
    def scale_values(self) -> range:
        assert self.min is not None and self.max is not None
        return range(self.min, self.max + 1)


# An answer as recorded: choice -> option text, multi -> option texts in
# survey order, scale -> int, text -> the resident's words.
AnswerValue = str | int | tuple[str, ...]


@dataclass(frozen=True)
class EarlierAnswer:
    """Audience filter on an answer given in an earlier campaign."""

    campaign: str
    question: str
    answer: str | int


@dataclass(frozen=True)
class Audience:
    """Who a campaign is for. Empty filters mean "all".

    Filters of different kinds must all hold (AND); the values listed for one
    kind are alternatives (OR).
    """

    tags: tuple[str, ...] = ()
    age_bands: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    answered: tuple[EarlierAnswer, ...] = ()

    @property
    def is_everyone(self) -> bool:
        return not (self.tags or self.age_bands or self.districts or self.languages or self.answered)


class ResultsPolicy(StrEnum):
    AFTER_CLOSE = "after-close"
    NONE = "none"


@dataclass(frozen=True)
class Survey:
    id: str
    title: str
    opens: datetime
    closes: datetime
    questions: tuple[Question, ...]
    audience: Audience = field(default_factory=Audience)
    reminders: tuple[timedelta, ...] = ()
    results: ResultsPolicy = ResultsPolicy.AFTER_CLOSE
    language: str = "nb"
    intro: str = ""  # a short paragraph above the questions
    source: Path | None = None  # the schedule file, for messages to staff

    kind = "survey"

    def question(self, qid: str) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)

    def question_by_number(self, number: int) -> Question | None:
        return next((q for q in self.questions if q.number == number), None)

    def is_open(self, now: datetime) -> bool:
        return self.opens <= now < self.closes


Campaign = Survey  # later kinds (course, recruitment, update) join this union
