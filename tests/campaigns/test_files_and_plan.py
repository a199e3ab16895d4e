"""The real example files load and validate; mistakes point at their line; the plan of each kind."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from mailbot.campaigns import CampaignForm, Course, Recruitment, Selection, Update
from mailbot.panel.problems import ConfigError
from mailbot.panel.settings import load_settings
from mailbot.plan import APPROVED, DRAW, INVITATION, StepKind, due_steps, timeline
from mailbot.schedules import load_campaign_file, load_campaigns
from tests.campaigns.conftest import make_course, make_recruitment
from tests.conftest import OSLO, ROOT, oslo


def test_the_example_schedules_load():
    campaigns = {c.id: c for c in load_campaigns(load_settings(ROOT / "config.toml", load_env=False))}
    pilot = campaigns["hverdagsglede-pilot-2020"]
    assert isinstance(pilot, Course) and pilot.cohorts[0].capacity == 30 and len(pilot.cohorts[0].lessons) == 13
    study = campaigns["hverdagsglede-2021"]
    assert isinstance(study, Course) and [c.id for c in study.cohorts] == ["januar", "april"]
    assert all(c.capacity is None for c in study.cohorts)
    assert study.cohorts[1].lessons[-1].starts.date().isoformat() == "2021-06-17"
    min_side = campaigns["min-side-2020"]
    assert isinstance(min_side, Recruitment) and min_side.selection == Selection.STRATIFIED and min_side.approval
    assert [m.capacity for m in min_side.meetings] == [10, 10]
    committee = campaigns["hverdagsglede-utvalg-2020"]
    assert isinstance(committee, Recruitment) and committee.is_committee and committee.meetings[0].capacity == 6
    assert isinstance(campaigns["hverdagsglede-status-2020-06"], Update)
    assert isinstance(campaigns["hverdagsglede-pilot-2020.svar"], CampaignForm)
    assert isinstance(campaigns["hverdagsglede-pilot-2020.host-2020.1"], CampaignForm)


def _problems(tmp_path: Path, text: str) -> list[str]:
    f = tmp_path / "kurs.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_campaign_file(f, OSLO)
    return [f"{p.line}: {p.what} — {p.instead}" for p in info.value.problems]


COURSE = """id = "kurs"
kind = "course"
title = "Kurs"
enrolment_opens = 2020-08-17T09:00
enrolment_closes = 2020-09-14T12:00
capacity = 30

[[cohorts]]
id = "host"
title = "Høst"
weekdays = ["tirsdag"]
time = "18:00"
first = 2020-09-15
last = 2020-12-15
skip = [2020-10-07]
"""


def test_a_skipped_date_that_is_not_a_lesson_day_is_named_with_its_line(tmp_path):
    assert _problems(tmp_path, COURSE) == [
        "15: cohort host: 2020-10-07 is not a lesson day of the weekly rule — skip only dates the rule falls on, "
        "or remove it"]


def test_an_unknown_weekday_and_a_wrong_capacity_are_named(tmp_path):
    text = COURSE.replace('"tirsdag"', '"tirsdagg"').replace("capacity = 30", 'capacity = "mange"')
    got = _problems(tmp_path, text)
    assert any(p.startswith("6: capacity") for p in got), got


def test_a_misspelt_kind_gets_a_suggestion(tmp_path):
    got = _problems(tmp_path, COURSE.replace('kind = "course"', 'kind = "cours"'))
    assert got == ["2: unknown campaign kind 'cours' — did you mean \"course\"?"]


def test_a_recruitment_without_sessions_or_seats_is_explained(tmp_path):
    text = 'id = "r"\nkind = "recruitment"\ntitle = "R"\nopens = 2020-06-02T09:00\ncloses = 2020-06-09T12:00\n'
    assert _problems(tmp_path, text) == [
        "2: a recruitment needs [[sessions]], or seats = N for a committee — add [[sessions]] with id, title, "
        "capacity and starts, or seats = 6"]


# ---------------------------------------------------------------- plan


def _steps(campaigns, done, now):
    return [(d.step, d.kind) for d in due_steps(campaigns, done, now)]


def test_the_course_invitation_goes_when_enrolment_opens():
    c = make_course()
    assert _steps([c], {}, oslo(2020, 8, 17, 8)) == []
    assert _steps([c], {}, oslo(2020, 8, 17, 9)) == [(INVITATION, StepKind.SEND)]


def test_the_lesson_email_reminder_and_feedback_of_the_first_lesson():
    c = make_course()
    done = {c.id: {INVITATION}}
    assert _steps([c], done, oslo(2020, 9, 9, 18)) == [("lesson-host-2020-1", StepKind.SEND)]
    done[c.id].add("lesson-host-2020-1")
    assert _steps([c], done, oslo(2020, 9, 14, 18)) == [("reminder-host-2020-1", StepKind.SEND)]
    done[c.id].add("reminder-host-2020-1")
    assert _steps([c], done, oslo(2020, 9, 15, 20)) == [("feedback-host-2020-1", StepKind.SEND)]


def test_a_lesson_whose_time_has_passed_is_recorded_as_missed_not_sent():
    c = make_course()
    done = {c.id: {INVITATION}}
    got = _steps([c], done, oslo(2020, 9, 15, 18, 30))
    assert ("lesson-host-2020-1", StepKind.MARK) in got and ("reminder-host-2020-1", StepKind.MARK) in got


def test_the_october_lesson_after_the_clock_change_is_planned_at_18():
    c = make_course()
    plan = {p.step: p.at for p in timeline([c], {}, oslo(2020, 8, 1))}
    assert plan["reminder-host-2020-6"].astimezone(OSLO).hour == 18  # Monday 26 October, 18:00 winter time
    assert plan["lesson-host-2020-6"] == oslo(2020, 10, 21, 18)


def test_the_draw_waits_for_staff_approval():
    r = make_recruitment(Selection.STRATIFIED, approval=True)
    done = {r.id: {INVITATION}}
    assert DRAW not in [s for s, _ in _steps([r], done, r.closes + timedelta(hours=1))]
    done[r.id].add(APPROVED)
    assert (DRAW, StepKind.SEND) in _steps([r], done, r.closes + timedelta(hours=1))


def test_the_day_before_reminder_of_each_workshop():
    r = make_recruitment()
    got = _steps([r], {r.id: {INVITATION}}, oslo(2020, 6, 15, 17))
    assert got == [("reminder-workshop-1", StepKind.SEND)]


def test_forms_are_not_planned_as_surveys():
    from mailbot.campaigns.forms import forms_of

    assert _steps(forms_of(make_course()), {}, oslo(2020, 9, 16)) == []


def test_the_timeline_says_who_gets_what_and_how_many():
    c = make_course()
    rows = timeline([c], {}, oslo(2020, 8, 1), {(c.id, "lesson-host-2020-1"): 30})
    first = next(p for p in rows if p.step == "lesson-host-2020-1")
    assert (first.to, first.recipients) == ("enrolled (host-2020)", 30)
