"""Courses and recruitments built in code, the way their schedule files describe them."""

from __future__ import annotations

from datetime import date, time, timedelta

from mailbot.campaigns import Cohort, Course, LateJoiners, Meeting, Recruitment, Selection
from mailbot.campaigns.course.lessons import lesson_times, make_lessons
from tests.conftest import OSLO, oslo


def make_course(capacity: int | None = 30, *, late: LateJoiners = LateJoiners.NEXT_LESSON,
                closes_enrolment=None) -> Course:
    """The Hverdagsglede pilot: Tuesdays 18:00 from 15 September to 15 December 2020, not in the autumn holiday."""
    starts = lesson_times(["tirsdag"], time(18), date(2020, 9, 15), date(2020, 12, 15), OSLO, skip=[date(2020, 10, 6)])
    cohort = Cohort("host-2020", "Høsten 2020", make_lessons(starts, timedelta(hours=1)), capacity)
    return Course(id="hverdagsglede-pilot-2020", title="Hverdagsglede – pilot", opens=oslo(2020, 8, 17),
                  enrolment_closes=closes_enrolment or oslo(2020, 11, 1, 12), cohorts=(cohort,),
                  webinar_url="https://teams.example/hverdagsglede", late_joiners=late)


def make_recruitment(selection: Selection = Selection.FIRST_COME, *, seats: tuple[int, ...] = (10, 10),
                     approval: bool = False) -> Recruitment:
    meetings = tuple(Meeting(f"workshop-{i}", i, f"Workshop {i}", n, oslo(2020, 6, 14 + 2 * i, 17),
                             oslo(2020, 6, 14 + 2 * i, 19), place="Bærum rådhus")
                     for i, n in enumerate(seats, start=1))
    return Recruitment(id="min-side-2020", title="Brukertest av «Min side»", opens=oslo(2020, 6, 2),
                       closes=oslo(2020, 6, 9, 12), meetings=meetings, selection=selection, approval=approval,
                       seed=2020)
