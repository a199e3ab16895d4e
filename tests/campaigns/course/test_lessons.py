"""Lesson times: a weekly rule in Oslo wall-clock time, holiday weeks skipped, extra dates added."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from mailbot.campaigns.course.lessons import lesson_times
from tests.campaigns.conftest import make_course
from tests.conftest import OSLO


def test_the_pilot_has_a_lesson_every_tuesday_but_the_autumn_holiday():
    lessons = make_course().cohorts[0].lessons
    assert len(lessons) == 13
    assert lessons[0].starts == datetime(2020, 9, 15, 18, tzinfo=OSLO)
    assert lessons[-1].starts == datetime(2020, 12, 15, 18, tzinfo=OSLO)
    assert date(2020, 10, 6) not in {x.starts.date() for x in lessons}
    assert all(x.starts.weekday() == 1 for x in lessons)


def test_a_lesson_at_18_stays_at_18_across_the_october_clock_change():
    lessons = make_course().cohorts[0].lessons
    before = next(x for x in lessons if x.starts.date() == date(2020, 10, 20))
    after = next(x for x in lessons if x.starts.date() == date(2020, 10, 27))
    assert (before.starts.hour, after.starts.hour) == (18, 18)
    assert before.starts.utcoffset() == timedelta(hours=2)
    assert after.starts.utcoffset() == timedelta(hours=1)
    elapsed = after.starts.astimezone(UTC) - before.starts.astimezone(UTC)
    assert elapsed == timedelta(days=7, hours=1)  # a week plus the hour given back


def test_a_lesson_at_18_stays_at_18_across_the_march_clock_change():
    got = lesson_times(["tuesday"], time(18), date(2021, 3, 23), date(2021, 4, 6), OSLO)
    assert [x.hour for x in got] == [18, 18, 18]
    assert [x.utcoffset() for x in got] == [timedelta(hours=1), timedelta(hours=2), timedelta(hours=2)]


def test_extra_dates_join_and_skipped_dates_leave_the_series():
    got = lesson_times(["tirsdag"], time(18), date(2021, 6, 1), date(2021, 6, 15), OSLO,
                       extra=[datetime(2021, 6, 17, 18, tzinfo=OSLO)], skip=[date(2021, 6, 8)])
    assert [x.date() for x in got] == [date(2021, 6, 1), date(2021, 6, 15), date(2021, 6, 17)]


def test_several_weekdays_and_norwegian_names():
    got = lesson_times(["mandag", "torsdag"], time(9, 30), date(2020, 9, 14), date(2020, 9, 20), OSLO)
    assert [(x.strftime("%a"), x.hour, x.minute) for x in got] == [("Mon", 9, 30), ("Thu", 9, 30)]
