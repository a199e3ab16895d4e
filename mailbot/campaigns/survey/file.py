"""A survey file in schedules/: its shape (pydantic), its meaning (times, reminders, questions), and the
`Survey` it becomes. Problems point at the file and line (`mailbot.panel.files`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field

from mailbot.campaigns import Question, QuestionType, ResultsPolicy, Survey
from mailbot.campaigns.audience_file import AudienceFile, audience_of, audience_value
from mailbot.campaigns.file_values import dst_gaps
from mailbot.panel.files import ID_PATTERN, Duration, Finding, LocalDateTime, StrictModel, as_local, iso_duration
from mailbot.panel.toml_lines import Path as KeyPath


class QuestionFile(StrictModel):
    id: str = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1)
    type: QuestionType
    options: list[str] = Field(default_factory=list)
    min: int | None = None
    max: int | None = None
    min_label: str | None = None
    max_label: str | None = None
    required: bool = True



class SurveyFile(StrictModel):
    id: str = Field(pattern=ID_PATTERN)
    kind: Literal["survey"]
    title: str = Field(min_length=1)
    audience: Annotated[AudienceFile | None, BeforeValidator(audience_value)] = None
    opens: LocalDateTime
    closes: LocalDateTime
    reminders: list[Duration] = Field(default_factory=list)
    results: ResultsPolicy = ResultsPolicy.AFTER_CLOSE
    language: Literal["nb", "nn", "en"] = "nb"
    intro: str = ""
    questions: list[QuestionFile] = Field(min_length=1)



def _check_question(q: QuestionFile, i: int) -> list[Finding]:
    at: KeyPath = ("questions", i)
    label = f"question {i + 1} ({q.id})"
    out: list[Finding] = []
    if q.type in (QuestionType.CHOICE, QuestionType.MULTI):
        if len(q.options) < 2:
            where = (*at, "options") if q.options else (*at, "type")
            out.append(
                (
                    where,
                    f"{label}: a {q.type} question needs at least two options",
                    'add options = ["Ja", "Nei", "Vet ikke"]',
                )
            )
        if len(q.options) > 26:
            out.append(
                (
                    (*at, "options"),
                    f"{label}: {len(q.options)} options; at most 26 (A to Z)",
                    "split the question in two",
                )
            )
        seen: dict[str, int] = {}
        for j, option in enumerate(q.options):
            if not option.strip():
                out.append(((*at, "options", j), f"{label}: option {j + 1} is empty", "write its text"))
            elif option.casefold() in seen:
                out.append(
                    (
                        (*at, "options", j),
                        f"{label}: option {option!r} is listed twice",
                        "give each option its own words",
                    )
                )
            seen.setdefault(option.casefold(), j)
    elif q.options:
        out.append(
            (
                (*at, "options"),
                f"{label}: a {q.type} question has no options",
                'remove options, or write type = "choice"',
            )
        )
    if q.type == QuestionType.SCALE:
        if q.min is None or q.max is None:
            missing = " and ".join(k for k, v in (("min", q.min), ("max", q.max)) if v is None)
            out.append(
                ((*at, "type"), f"{label}: a scale question needs {missing}", "add min = 1 and max = 5")
            )
        elif q.min >= q.max:
            out.append(
                (
                    (*at, "max"),
                    f"{label}: max ({q.max}) must be greater than min ({q.min})",
                    "write e.g. min = 1 and max = 5",
                )
            )
        elif q.max - q.min > 10:
            out.append(
                (
                    (*at, "max"),
                    f"{label}: a scale of {q.max - q.min + 1} steps; at most 11",
                    "write e.g. min = 0 and max = 10",
                )
            )
    else:
        for key, value in (
            ("min", q.min),
            ("max", q.max),
            ("min_label", q.min_label),
            ("max_label", q.max_label),
        ):
            if value is not None:
                out.append(
                    (
                        (*at, key),
                        f"{label}: {key} belongs to scale questions",
                        f'remove {key}, or write type = "scale"',
                    )
                )
    return out


def check_survey(f: SurveyFile, tz: ZoneInfo) -> list[Finding]:
    out: list[Finding] = dst_gaps((("opens",), f.opens), (("closes",), f.closes), tz=tz)
    opens, closes = as_local(f.opens, tz), as_local(f.closes, tz)
    if closes <= opens:
        out.append(
            (
                ("closes",),
                f"closes ({closes:%Y-%m-%d %H:%M}) is not after opens ({opens:%Y-%m-%d %H:%M})",
                "write a closing time after the opening time, e.g. closes = 2022-12-15T23:59",
            )
        )
    else:
        span = closes - opens
        seen: set[timedelta] = set()
        for i, r in enumerate(f.reminders):
            if r <= timedelta(0) or r >= span:
                out.append(
                    (
                        ("reminders", i),
                        f"reminder {iso_duration(r)} comes after closing (the survey is open {iso_duration(span)})",
                        f'use a duration shorter than {iso_duration(span)}, e.g. "P{max(1, span.days // 2)}D"',
                    )
                )
            elif r in seen:
                out.append((("reminders", i), f"reminder {iso_duration(r)} is listed twice", "remove one"))
            seen.add(r)
    first: dict[str, int] = {}
    for i, q in enumerate(f.questions):
        if q.id in first:
            out.append(
                (
                    ("questions", i, "id"),
                    f"question id {q.id!r} is also question {first[q.id] + 1}",
                    "give each question its own id",
                )
            )
        first.setdefault(q.id, i)
        out.extend(_check_question(q, i))
    return out



def survey(f: SurveyFile, file: Path, tz: ZoneInfo) -> Survey:
    questions = tuple(
        Question(
            id=q.id,
            number=i,
            text=q.text,
            type=q.type,
            options=tuple(q.options),
            min=q.min,
            max=q.max,
            min_label=q.min_label,
            max_label=q.max_label,
            required=q.required,
        )
        for i, q in enumerate(f.questions, start=1)
    )
    return Survey(
        id=f.id,
        title=f.title,
        opens=as_local(f.opens, tz),
        closes=as_local(f.closes, tz),
        questions=questions,
        audience=audience_of(f.audience),
        reminders=tuple(f.reminders),
        results=f.results,
        language=f.language,
        intro=f.intro,
        source=file,
    )


FILE = (SurveyFile, check_survey, survey)
