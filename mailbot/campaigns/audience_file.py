"""The [audience] table of any campaign file: who it is for (tags, age bands, districts, languages,
earlier answers), and the `Audience` it becomes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mailbot.campaigns import Audience, EarlierAnswer
from mailbot.panel.files import StrictModel


class EarlierAnswerFile(StrictModel):
    campaign: str
    question: str
    answer: str | int


class AudienceFile(StrictModel):
    tags: list[str] = Field(default_factory=list)
    age_bands: list[str] = Field(default_factory=list)
    districts: list[str] = Field(default_factory=list)
    languages: list[Literal["nb", "nn", "en"]] = Field(default_factory=list)
    answered: list[EarlierAnswerFile] = Field(default_factory=list)


def audience_value(value: Any) -> Any:
    # "all" or a table; one error message for both instead of pydantic's two union branches.
    if value == "all" or value is None:
        return None
    if isinstance(value, dict):
        return value
    raise ValueError(f"{value!r} is not an audience")


def audience_of(a: AudienceFile | None) -> Audience:
    """The audience a file's [audience] table (or "all", None) describes."""
    if a is None:
        return Audience()
    return Audience(tags=tuple(a.tags), age_bands=tuple(a.age_bands), districts=tuple(a.districts),
                    languages=tuple(a.languages),
                    answered=tuple(EarlierAnswer(e.campaign, e.question, e.answer) for e in a.answered))
