"""Course, recruitment and update files in schedules/: their shape, their meaning, their campaign.

The same three layers as surveys in `mailbot.campaigns.survey_file` (reading, shape with
pydantic, meaning), and the same `Problem`s with file and line. Lesson times
are worked out here, once, from the weekly rule, extra dates and skipped dates
(`mailbot.campaigns.course.lessons.lesson_times`), so the campaign holds every lesson.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field, field_validator

from mailbot.campaigns import (
    Cohort,
    Course,
    LateJoiners,
    Meeting,
    Recruitment,
    Selection,
    Update,
    UpdateAudience,
)
from mailbot.campaigns.audience_file import AudienceFile, audience_of, audience_value
from mailbot.campaigns.course import lessons
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

_URL = re.compile(r"https?://\S+")


def _a_date(value: Any) -> Any:
    if isinstance(value, datetime):
        raise ValueError(f"{value:%Y-%m-%dT%H:%M} has a time of day; write only the date, {value:%Y-%m-%d}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date; write for example 2020-09-15")


def _a_time(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*([01]?\d|2[0-3])[:.][0-5]\d\s*", value):
        hour, minute = re.split(r"[:.]", value.strip())
        return time(int(hour), int(minute))
    raise ValueError(f'{value!r} is not a time of day; write for example "18:00"')


def _capacity(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("unlimited", "ubegrenset", "uavgrensa"):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f'{value!r} is not a number of seats; write for example 30, or "unlimited"')
    if value < 1:
        raise ValueError(f'{value} seats is too few; write at least 1, or "unlimited"')
    return value


LocalDate = Annotated[date, BeforeValidator(_a_date)]
TimeOfDay = Annotated[time, BeforeValidator(_a_time)]
Capacity = Annotated[int | None, BeforeValidator(_capacity)]
AudienceField = Annotated[AudienceFile | None, BeforeValidator(audience_value)]


# ---------------------------------------------------------------- course


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
        if v and not _URL.fullmatch(v.strip()):
            raise ValueError(f'{v!r} is not a web address; write for example "https://teams.microsoft.com/l/…"')
        return v.strip()


def check_course(f: CourseFile, tz: ZoneInfo) -> list[Finding]:
    out: list[Finding] = []
    out += _dst_gaps((("enrolment_opens",), f.enrolment_opens), (("enrolment_closes",), f.enrolment_closes), tz=tz)
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


# ---------------------------------------------------------------- recruitment


class MeetingFile(StrictModel):
    id: str = Field(pattern=ID_PATTERN, max_length=30)
    title: str = Field(min_length=1)
    capacity: int = Field(ge=1)
    starts: LocalDateTime | None = None
    ends: LocalDateTime | None = None
    place: str = ""
    video_url: str = ""
    cancelled: bool = False


class RecruitmentFile(StrictModel):
    id: str = Field(pattern=ID_PATTERN)
    kind: Literal["recruitment"]
    title: str = Field(min_length=1)
    audience: AudienceField = None
    opens: LocalDateTime
    closes: LocalDateTime  # the sign-up deadline
    selection: Selection = Selection.FIRST_COME
    approval: bool = False
    seed: int = 0
    seats: int | None = Field(default=None, ge=1)  # a committee: one group of N seats, no meetings
    reminder: Duration = timedelta(days=1)
    offer_hours: int = Field(default=48, ge=1, le=24 * 14)
    language: Literal["nb", "nn", "en"] = "nb"
    intro: str = ""
    sessions: list[MeetingFile] = Field(default_factory=list)


def check_recruitment(f: RecruitmentFile, tz: ZoneInfo) -> list[Finding]:
    out = _dst_gaps((("opens",), f.opens), (("closes",), f.closes), tz=tz)
    opens, closes = as_local(f.opens, tz), as_local(f.closes, tz)
    if closes <= opens:
        out.append((("closes",), f"closes ({closes:%Y-%m-%d %H:%M}) is not after opens ({opens:%Y-%m-%d %H:%M})",
                    "write the sign-up deadline, after opens"))
    if not f.sessions and f.seats is None:
        out.append((("kind",), "a recruitment needs [[sessions]], or seats = N for a committee",
                    "add [[sessions]] with id, title, capacity and starts, or seats = 6"))
    if f.sessions and f.seats is not None:
        out.append((("seats",), "seats is for a committee without sessions; each session has its own capacity",
                    "remove seats"))
    seen: set[str] = set()
    for i, m in enumerate(f.sessions):
        at = ("sessions", i)
        if m.id in seen:
            out.append(((*at, "id"), f"session id {m.id!r} is used twice", "give each session its own id"))
        seen.add(m.id)
        out += _dst_gaps(((*at, "starts"), m.starts), ((*at, "ends"), m.ends), tz=tz)
        if m.ends is not None and m.starts is None:
            out.append(((*at, "ends"), f"session {m.id}: ends without starts", "add starts = 2020-06-16T17:00"))
        if m.starts is not None and m.ends is not None and as_local(m.ends, tz) <= as_local(m.starts, tz):
            out.append(((*at, "ends"), f"session {m.id}: ends is not after starts", "write when it ends"))
        if m.video_url and not _URL.fullmatch(m.video_url.strip()):
            out.append(((*at, "video_url"), f"session {m.id}: {m.video_url!r} is not a web address",
                        'write e.g. "https://teams.microsoft.com/l/…"'))
    return out


def recruitment(f: RecruitmentFile, file: Path, tz: ZoneInfo) -> Recruitment:
    if f.sessions:
        meetings = tuple(
            Meeting(id=m.id, number=i, title=m.title, capacity=m.capacity,
                    starts=as_local(m.starts, tz) if m.starts else None,
                    ends=as_local(m.ends, tz) if m.ends else (as_local(m.starts, tz) + timedelta(hours=2)
                                                           if m.starts else None),
                    place=m.place, video_url=m.video_url.strip(), cancelled=m.cancelled)
            for i, m in enumerate(f.sessions, start=1)
        )
    else:
        meetings = (Meeting(id="utvalg", number=1, title=f.title, capacity=f.seats or 1),)
    return Recruitment(
        id=f.id, title=f.title, opens=as_local(f.opens, tz), closes=as_local(f.closes, tz), meetings=meetings,
        selection=f.selection, approval=f.approval, seed=f.seed, audience=audience_of(f.audience),
        reminder_before=f.reminder, offer_hours=f.offer_hours, language=f.language, intro=f.intro, source=file,
    )


# ---------------------------------------------------------------- update


class UpdateFile(StrictModel):
    id: str = Field(pattern=ID_PATTERN)
    kind: Literal["update"]
    title: str = Field(min_length=1)
    audience: AudienceField = None
    participants: list[str] = Field(default_factory=list)  # course ids
    volunteers: list[str] = Field(default_factory=list)  # recruitment or course ids
    at: LocalDateTime
    body: str = Field(min_length=1)
    signature: str = ""
    language: Literal["nb", "nn", "en"] = "nb"


def check_update(f: UpdateFile, tz: ZoneInfo) -> list[Finding]:
    return _dst_gaps((("at",), f.at), tz=tz)


def update(f: UpdateFile, file: Path, tz: ZoneInfo) -> Update:
    return Update(id=f.id, title=f.title, opens=as_local(f.at, tz), body=f.body.strip(),
                  audience=audience_of(f.audience),
                  among=UpdateAudience(tuple(f.participants), tuple(f.volunteers)), signature=f.signature.strip(),
                  language=f.language, source=file)


# ---------------------------------------------------------------- shared


def _dst_gaps(*items: tuple[tuple[str | int, ...], datetime | None], tz: ZoneInfo) -> list[Finding]:
    out: list[Finding] = []
    for loc, value in items:
        gap = skipped_by_dst(value, tz) if value is not None else None
        if gap and value is not None:
            out.append((loc, f"{loc[-1]}: {value:%Y-%m-%d %H:%M} does not exist in {tz.key} "
                        "(clocks jump forward that night)", f"write {gap}"))
    return out


FILES: dict[str, Any] = {
    "course": (CourseFile, check_course, course),
    "recruitment": (RecruitmentFile, check_recruitment, recruitment),
    "update": (UpdateFile, check_update, update),
}
