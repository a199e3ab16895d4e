"""A course file in schedules/: cohorts with a weekly rule, extra and skipped dates, lesson titles,
enrolment times; checked in the same three layers as every staff file (`mailbot.panel.files`).
The lesson times are worked out here, once (`mailbot.campaigns.course.lessons.lesson_times`), so
the `Course` holds every lesson."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from mailbot.campaigns.audience_file import audience_of
from mailbot.campaigns.course import lessons
from mailbot.campaigns.course.model import Cohort, Course, LateJoiners
from mailbot.campaigns.file_values import URL, AudienceField, Capacity, LocalDate, TimeOfDay, dst_gaps
from mailbot.panel.files import (
    ID_PATTERN,
    Duration,
    Finding,
    LocalDateTime,
    StrictModel,
    as_local,
    iso_duration,
    skipped_by_dst,
)


class CohortFile(StrictModel):
    id: str = Field(pattern=ID_PATTERN, max_length=30)
    title: str = Field(min_length=1)
    capacity: Capacity = None  # default: the course's capacity
    weekdays: list[str] = Field(default_factory=list)  # ["tirsdag"]: the weekly rule
    time: TimeOfDay | None = None  # "18:00"
    first: LocalDate | None = None
    last: LocalDate | None = None
    extra: list[LocalDateTime] = Field(default_factory=list)  # lessons outside the rule
    skip: list[LocalDate] = Field(default_factory=list)  # holiday weeks


class CourseFile(StrictModel):
    id: str = Field(pattern=ID_PATTERN)
    kind: Literal["course"]
    title: str = Field(min_length=1)
    audience: AudienceField = None
    enrolment_opens: LocalDateTime
    enrolment_closes: LocalDateTime
    capacity: Capacity = None
    webinar_url: str = ""
    lesson_minutes: int = Field(default=60, ge=5, le=600)
    lesson_titles: list[str] = Field(default_factory=list)
    late_joiners: LateJoiners = LateJoiners.NEXT_LESSON
    lesson_email: Duration = timedelta(days=6)  # before the lesson
    reminder: Duration = timedelta(days=1)  # before the lesson
    feedback: Duration = timedelta(hours=1)  # after the lesson ends
    offer_hours: int = Field(default=48, ge=1, le=24 * 14)
    language: Literal["nb", "nn", "en"] = "nb"
    intro: str = ""
    cohorts: list[CohortFile] = Field(min_length=1)

    @field_validator("webinar_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v and not URL.fullmatch(v.strip()):
            raise ValueError(f'{v!r} is not a web address; write for example "https://teams.microsoft.com/l/…"')
        return v.strip()


def check_course(f: CourseFile, tz: ZoneInfo) -> list[Finding]:
    out: list[Finding] = []
    out += dst_gaps((("enrolment_opens",), f.enrolment_opens), (("enrolment_closes",), f.enrolment_closes), tz=tz)
    opens, closes = as_local(f.enrolment_opens, tz), as_local(f.enrolment_closes, tz)
    if closes <= opens:
        out.append((("enrolment_closes",), f"enrolment_closes ({closes:%Y-%m-%d %H:%M}) is not after "
                    f"enrolment_opens ({opens:%Y-%m-%d %H:%M})", "write a later time"))
    seen: set[str] = set()
    for i, c in enumerate(f.cohorts):
        at = ("cohorts", i)
        if c.id in seen:
            out.append(((*at, "id"), f"cohort id {c.id!r} is used twice", "give each cohort its own id"))
        seen.add(c.id)
        rule = [c.weekdays, c.time, c.first, c.last]
        if any(x for x in rule) and not all(x for x in rule):
            missing = [k for k, v in zip(("weekdays", "time", "first", "last"), rule, strict=True) if not v]
            out.append((at, f"cohort {c.id}: a weekly rule needs weekdays, time, first and last; "
                        f"{', '.join(missing)} missing", 'write e.g. weekdays = ["tirsdag"], time = "18:00", '
                        "first = 2020-09-15, last = 2020-12-15"))
            continue
        for j, day in enumerate(c.weekdays):
            if lessons.weekday_code(day) is None:
                out.append(((*at, "weekdays", j), f"cohort {c.id}: {day!r} is not a weekday",
                            'write e.g. "tirsdag" or "tuesday"'))
        if c.first and c.last and c.last < c.first:
            out.append(((*at, "last"), f"cohort {c.id}: last ({c.last}) is before first ({c.first})",
                        "write the date of the last lesson"))
        if c.time is not None:
            for d in (c.first, c.last):
                if d is not None:
                    gap = skipped_by_dst(datetime.combine(d, c.time), tz)
                    if gap:
                        out.append(((*at, "time"), f"cohort {c.id}: {c.time:%H:%M} does not exist on {d}",
                                    f"write another time (clocks jump forward that night), e.g. {gap}"))
        if c.first and c.last and all(lessons.weekday_code(d) for d in c.weekdays):
            days = lessons.rule_dates(c.weekdays, c.first, c.last)
            for j, d in enumerate(c.skip):
                if d not in days:
                    out.append(((*at, "skip", j), f"cohort {c.id}: {d} is not a lesson day of the weekly rule",
                                "skip only dates the rule falls on, or remove it"))
        for j, e in enumerate(c.extra):
            gap = skipped_by_dst(e, tz)
            if gap:
                out.append(((*at, "extra", j), f"cohort {c.id}: {e:%Y-%m-%d %H:%M} does not exist in {tz.key}",
                            f"write {gap}"))
        if not c.weekdays and not c.extra:
            out.append((at, f"cohort {c.id} has no lessons",
                        'add a weekly rule (weekdays, time, first, last) or extra = [2021-01-12T18:00]'))
            continue
        if not out and not _lesson_starts(c, tz):
            out.append((at, f"cohort {c.id}: the rule and skipped dates leave no lessons", "check first, last, skip"))
    if len(f.lesson_titles) > 0:
        most = max((len(_lesson_starts(c, tz)) for c in f.cohorts if not _rule_broken(c)), default=0)
        if len(f.lesson_titles) < most:
            out.append((("lesson_titles",), f"{len(f.lesson_titles)} lesson titles for {most} lessons",
                        "give every lesson a title, or remove lesson_titles"))
    if f.reminder >= f.lesson_email:
        out.append((("reminder",), f"the reminder ({iso_duration(f.reminder)} before) would come before the "
                    f"lesson email ({iso_duration(f.lesson_email)} before)",
                    'write e.g. reminder = "P1D" and lesson_email = "P6D"'))
    return out


def _rule_broken(c: CohortFile) -> bool:
    rule = [c.weekdays, c.time, c.first, c.last]
    return (any(rule) and not all(rule)) or any(lessons.weekday_code(d) is None for d in c.weekdays)


def _lesson_starts(c: CohortFile, tz: ZoneInfo) -> list[datetime]:
    extra = [as_local(e, tz) for e in c.extra]
    if c.weekdays and c.time and c.first and c.last:
        return lessons.lesson_times(c.weekdays, c.time, c.first, c.last, tz, extra, c.skip)
    return sorted(e for e in extra if e.date() not in set(c.skip))


def course(f: CourseFile, file: Path, tz: ZoneInfo) -> Course:
    length = timedelta(minutes=f.lesson_minutes)
    cohorts = tuple(
        Cohort(id=c.id, title=c.title, capacity=c.capacity if "capacity" in c.model_fields_set else f.capacity,
               lessons=lessons.make_lessons(_lesson_starts(c, tz), length, f.lesson_titles))
        for c in f.cohorts
    )
    return Course(
        id=f.id, title=f.title, opens=as_local(f.enrolment_opens, tz),
        enrolment_closes=as_local(f.enrolment_closes, tz),
        cohorts=cohorts, webinar_url=f.webinar_url, audience=audience_of(f.audience), late_joiners=f.late_joiners,
        lesson_email_before=f.lesson_email, reminder_before=f.reminder, feedback_after=f.feedback,
        offer_hours=f.offer_hours, language=f.language, intro=f.intro, source=file,
    )


FILE = (CourseFile, check_course, course)
