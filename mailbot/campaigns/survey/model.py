"""A survey, and the small surveys derived from a course or recruitment to answer it by (`CampaignForm`).

A course or a recruitment is answered through such forms: the resident's "ja", "2", "pause" or "4"
is read by the one reply parser, recorded as a response, and acted on (a seat, a pause) by
`mailbot.forms`. The same forms give the web one-click links.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from mailbot.campaigns.questions import Audience, Question, ResultsPolicy


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


class FormPurpose(StrEnum):
    ANSWER = "answer"  # yes / a session / no / pause / skip / leave: acted on by mailbot.forms
    OFFER = "offer"  # JA/NEI to a seat offered from the waitlist
    FEEDBACK = "feedback"  # "Var du med?" and "Hvor nyttig var det?" after one lesson: a plain survey


@dataclass(frozen=True)
class CampaignForm(Survey):
    """A small survey derived from a course or recruitment; its answers are read by the one parser."""

    parent: str = ""  # the course or recruitment id
    purpose: FormPurpose = FormPurpose.ANSWER
    cohort: str = ""  # feedback: which cohort and lesson
    lesson: int = 0

    kind = "form"

    @property
    def acts(self) -> bool:
        """Answers change seats or enrolment (not only recorded)."""
        return self.purpose != FormPurpose.FEEDBACK
