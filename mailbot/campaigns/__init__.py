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



# ---------------------------------------------------------------- courses, recruitment, updates
#
# A course or a recruitment is answered through small surveys derived from it
# (`CampaignForm`): the resident's "ja", "2", "pause" or "4" is read by the one
# reply parser, recorded as a response, and acted on (a seat, a pause) by
# `mailbot.forms`. The same forms give the web one-click links.


class Selection(StrEnum):
    FIRST_COME = "first-come"  # a seat at the moment of answering, while seats last
    LOTTERY = "lottery"  # volunteers drawn at the sign-up deadline (seeded: reproducible)
    STRATIFIED = "stratified"  # drawn so age bands and districts are represented in proportion


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


@dataclass(frozen=True)
class Meeting:
    """One workshop (or, for a committee, the one session-less group) with its seats."""

    id: str
    number: int  # 1-based: what residents type
    title: str
    capacity: int
    starts: datetime | None = None  # None: a committee, a group without a meeting time
    ends: datetime | None = None
    place: str = ""
    video_url: str = ""
    cancelled: bool = False
    sequence: int = 0  # raised by staff when the session moves: calendars update the event


@dataclass(frozen=True)
class Recruitment:
    """An invitation to volunteer for sessions with limited seats; selection, waitlist and calendar invites."""

    id: str
    title: str
    opens: datetime
    closes: datetime  # the sign-up deadline (lottery and stratified draw then)
    meetings: tuple[Meeting, ...]
    selection: Selection = Selection.FIRST_COME
    approval: bool = False  # the draw waits for `mailbot selection approve`
    seed: int = 0  # lottery seed: the same seed draws the same people
    audience: Audience = field(default_factory=Audience)
    reminder_before: timedelta = timedelta(days=1)
    offer_hours: int = 48
    language: str = "nb"
    intro: str = ""
    source: Path | None = None

    kind = "recruitment"

    @property
    def is_committee(self) -> bool:
        return len(self.meetings) == 1 and self.meetings[0].starts is None

    def meeting(self, meeting_id: str) -> Meeting | None:
        return next((x for x in self.meetings if x.id == meeting_id), None)

    def meeting_by_number(self, number: int) -> Meeting | None:
        return next((x for x in self.meetings if x.number == number), None)


@dataclass(frozen=True)
class UpdateAudience:
    """Who gets a status update, beyond the panel audience filters: participants or volunteers of campaigns."""

    participants: tuple[str, ...] = ()  # course ids: everyone enrolled (seated or paused)
    volunteers: tuple[str, ...] = ()  # recruitment or course ids: everyone who said yes, seated or not


@dataclass(frozen=True)
class Update:
    """A one-off email ("Oppdatering om Hverdagsgledeprosjektet") to an audience at a time."""

    id: str
    title: str
    opens: datetime  # when it is sent
    body: str
    audience: Audience = field(default_factory=Audience)
    among: UpdateAudience = field(default_factory=UpdateAudience)
    signature: str = ""
    language: str = "nb"
    source: Path | None = None

    kind = "update"

    @property
    def closes(self) -> datetime:
        return self.opens


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


Campaign = Survey | Course | Recruitment | Update
