"""The planner decides what is due from campaigns, what happened, and the time it is given."""

from __future__ import annotations

from datetime import timedelta

from mailbot.campaigns import ResultsPolicy
from mailbot.plan import CLOSE, INVITATION, RESULTS, StepKind, due_steps, reminder_step, timeline
from tests.conftest import make_survey, oslo


def steps(campaigns, done, now):
    return [(d.step, d.kind, d.skip_reason) for d in due_steps(campaigns, done, now)]


def test_nothing_is_due_before_the_survey_opens():
    assert steps([make_survey()], {}, oslo(2022, 12, 1, 8, 59)) == []


def test_invitation_is_due_at_opening():
    assert steps([make_survey()], {}, oslo(2022, 12, 1, 9)) == [(INVITATION, StepKind.SEND, None)]


def test_a_step_done_is_not_due_again():
    assert steps([make_survey()], {"ombruk-2022": {INVITATION}}, oslo(2022, 12, 2)) == []


def test_reminder_is_due_four_days_after_opening():
    s = make_survey()
    assert steps([s], {s.id: {INVITATION}}, oslo(2022, 12, 5, 9)) == [(reminder_step(1), StepKind.SEND, None)]


def test_after_downtime_only_the_latest_reminder_is_sent():
    s = make_survey()
    got = steps([s], {s.id: {INVITATION}}, oslo(2022, 12, 11))
    assert got == [(reminder_step(1), StepKind.MARK, "superseded"), (reminder_step(2), StepKind.SEND, None)]


def test_close_and_results_follow_the_closing_time():
    s = make_survey()
    done = {s.id: {INVITATION, reminder_step(1), reminder_step(2)}}
    assert steps([s], done, oslo(2022, 12, 15, 23, 59)) == [(CLOSE, StepKind.MARK, None),
                                                          (RESULTS, StepKind.SEND, None)]


def test_reminders_not_sent_before_close_are_recorded_never_sent_late():
    s = make_survey()
    got = steps([s], {s.id: {INVITATION}}, oslo(2022, 12, 16))
    assert (reminder_step(1), StepKind.MARK, "closed before it was sent") in got
    assert (RESULTS, StepKind.SEND, None) in got


def test_a_survey_that_never_opened_sends_nothing_after_its_close():
    assert steps([make_survey()], {}, oslo(2023, 1, 10)) == [(CLOSE, StepKind.MARK, "never opened")]


def test_results_none_records_the_step_without_sending():
    from dataclasses import replace

    s = replace(make_survey(), results=ResultsPolicy.NONE)
    got = steps([s], {s.id: {INVITATION, CLOSE, "reminder-1", "reminder-2"}}, oslo(2022, 12, 16))
    assert got == [(RESULTS, StepKind.MARK, "results = none")]


def test_timeline_lists_coming_steps_in_time_order():
    s = make_survey()
    rows = timeline([s], {}, oslo(2022, 11, 20))
    assert [r.step for r in rows] == [INVITATION, "reminder-1", "reminder-2", CLOSE, RESULTS]
    assert rows[1].at - rows[0].at == timedelta(days=4)
    assert [r.sends for r in rows] == [True, True, True, False, True]
