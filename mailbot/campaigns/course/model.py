"""A course: a series of lessons (webinar + email) in one or more cohorts, with enrolment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from mailbot.campaigns.questions import Audience


class LateJoiners(StrEnum):
    NEXT_LESSON = "next-lesson"  # starts with the next lesson email
    CATCH_UP = "catch-up"  # also gets one digest of the lessons already given


@dataclass(frozen=True)
class Lesson:
    number: int  # 1-based within its cohort
    starts: datetime
    ends: datetime
    title: str = ""


@dataclass(frozen=True)
class Cohort:
    id: str
    title: str
    lessons: tuple[Lesson, ...]
    capacity: int | None = None  # None: unlimited

    @property
    def starts(self) -> datetime:
        return self.lessons[0].starts

    @property
    def ends(self) -> datetime:
        return self.lessons[-1].ends

    def lesson(self, number: int) -> Lesson | None:
        return next((x for x in self.lessons if x.number == number), None)


@dataclass(frozen=True)
class Course:
    """A series of lessons (webinar + email) in one or more cohorts, with enrolment by reply or link."""

    id: str
    title: str
    opens: datetime  # enrolment opens: the invitation goes out
    enrolment_closes: datetime
    cohorts: tuple[Cohort, ...]
    webinar_url: str = ""
    audience: Audience = field(default_factory=Audience)
    late_joiners: LateJoiners = LateJoiners.NEXT_LESSON
    lesson_email_before: timedelta = timedelta(days=6)  # the lesson email, this long before it starts
    reminder_before: timedelta = timedelta(days=1)  # the day-before reminder
    feedback_after: timedelta = timedelta(hours=1)  # "Var du med?" this long after the lesson ends
    offer_hours: int = 48  # a waitlisted member offered a freed seat has this long to answer
    language: str = "nb"
    intro: str = ""
    source: Path | None = None

    kind = "course"

    @property
    def closes(self) -> datetime:
        """The end of the last lesson of the last cohort: nothing is sent after it."""
        return max(c.ends for c in self.cohorts)

    def cohort(self, cohort_id: str) -> Cohort | None:
        return next((c for c in self.cohorts if c.id == cohort_id), None)
