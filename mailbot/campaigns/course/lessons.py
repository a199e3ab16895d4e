"""Courses: when the lessons are, which steps they make, and the ids of a course's answer forms.

The lesson times are pure: a weekly rule (APScheduler 3's `CronTrigger`, in
the panel's zone, so a lesson at 18:00 stays at 18:00 across the October and
March clock changes) plus explicit extra dates, minus skipped dates (holiday
weeks). Enrolment uses the seats of `mailbot.recruitment` (one seat group per
cohort), so a full cohort waitlists exactly as a full workshop does; who is seated, and so
gets a lesson email, is asked of the store (`mailbot.store.seats.lesson_recipients`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from mailbot.campaigns import Cohort, Course, LateJoiners, Lesson

# What staff may write for a weekday, in Norwegian (both forms) and English.
WEEKDAYS: dict[str, str] = {}
for _cron, _names in {
    "mon": ("mon", "monday", "mandag", "måndag"),
    "tue": ("tue", "tuesday", "tirsdag", "tysdag"),
    "wed": ("wed", "wednesday", "onsdag"),
    "thu": ("thu", "thursday", "torsdag"),
    "fri": ("fri", "friday", "fredag"),
    "sat": ("sat", "saturday", "lørdag", "laurdag"),
    "sun": ("sun", "sunday", "søndag", "sundag"),
}.items():
    for _name in _names:
        WEEKDAYS[_name] = _cron


def weekday_code(name: str) -> str | None:
    """ "tirsdag", "Tuesday", "tue" -> "tue" (CronTrigger's name); None if unknown."""
    return WEEKDAYS.get(name.strip().lower())


def lesson_times(weekdays: Iterable[str], at: time, first: date, last: date, zone: ZoneInfo,
                 extra: Iterable[datetime] = (), skip: Iterable[date] = ()) -> list[datetime]:
    """Every lesson start: the weekly rule from `first` to `last` (inclusive), plus `extra`, minus `skip`.

    Wall-clock times in `zone`: 18:00 is 18:00 in summer and in winter time.
    """
    days = ",".join(weekday_code(d) or d for d in weekdays)
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(last, time(23, 59, 59), zone)
    trigger = CronTrigger(day_of_week=days, hour=at.hour, minute=at.minute, start_date=start, end_date=end,
                          timezone=zone)
    skipped = set(skip)
    found: set[datetime] = set()
    previous: datetime | None = None
    moment = start
    while True:
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        local = fire.astimezone(zone)
        if local.date() not in skipped:
            found.add(local)
        previous, moment = fire, fire + timedelta(seconds=1)
    found |= {e.astimezone(zone) for e in extra if e.astimezone(zone).date() not in skipped}
    return sorted(found)


def rule_dates(weekdays: Iterable[str], first: date, last: date) -> set[date]:
    """The dates the weekly rule falls on (for checking that a skipped date is a lesson day)."""
    codes = {weekday_code(d) for d in weekdays}
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    out = set()
    d = first
    while d <= last:
        if names[d.weekday()] in codes:
            out.add(d)
        d += timedelta(days=1)
    return out


def make_lessons(starts: Iterable[datetime], length: timedelta, titles: Iterable[str] = ()) -> tuple[Lesson, ...]:
    names = list(titles)
    return tuple(Lesson(i, s, s + length, names[i - 1] if i <= len(names) else "")
                 for i, s in enumerate(sorted(starts), start=1))


# ---------------------------------------------------------------- steps


def lesson_step(cohort: str, n: int) -> str:
    return f"lesson-{cohort}-{n}"


def reminder_step(cohort: str, n: int) -> str:
    return f"reminder-{cohort}-{n}"


def feedback_step(cohort: str, n: int) -> str:
    return f"feedback-{cohort}-{n}"


def answer_form_id(course_id: str) -> str:
    return f"{course_id}.svar"


def feedback_form_id(course_id: str, cohort: str, n: int) -> str:
    return f"{course_id}.{cohort}.{n}"


@dataclass(frozen=True)
class LessonStep:
    step: str
    what: str  # lesson | reminder | feedback
    cohort: Cohort
    lesson: Lesson
    at: datetime
    latest: datetime  # after this it is no longer worth sending (recorded as missed)


def lesson_steps(course: Course) -> Iterator[LessonStep]:
    """The lesson, reminder and feedback steps of every cohort, each with when it is due and its last chance."""
    for cohort in course.cohorts:
        for lesson in cohort.lessons:
            email_at = max(course.opens, lesson.starts - course.lesson_email_before)
            yield LessonStep(lesson_step(cohort.id, lesson.number), "lesson", cohort, lesson, email_at,
                             lesson.starts)
            reminder_at = lesson.starts - course.reminder_before
            if reminder_at > email_at:
                yield LessonStep(reminder_step(cohort.id, lesson.number), "reminder", cohort, lesson, reminder_at,
                                 lesson.starts)
            feedback_at = lesson.ends + course.feedback_after
            yield LessonStep(feedback_step(cohort.id, lesson.number), "feedback", cohort, lesson, feedback_at,
                             feedback_at + timedelta(days=7))


def next_lesson(cohort: Cohort, now: datetime) -> Lesson | None:
    return next((x for x in cohort.lessons if x.starts > now), None)


def given_lessons(cohort: Cohort, now: datetime) -> list[Lesson]:
    return [x for x in cohort.lessons if x.starts <= now]


def catch_up_wanted(course: Course, cohort: Cohort, now: datetime) -> bool:
    """A member seated now gets a digest of earlier lessons if staff chose so and some were given."""
    return course.late_joiners == LateJoiners.CATCH_UP and bool(given_lessons(cohort, now))
