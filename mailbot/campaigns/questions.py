"""What every campaign is made of: questions, the answers they take, and audiences.

A survey asks these questions; a course or recruitment is answered through small surveys of the
same questions (`mailbot.campaigns.forms`), so one reply parser and one set of one-click pages
serve every kind.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import StrEnum


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
