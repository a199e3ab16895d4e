"""Answers by reply or click, read by the one survey parser, acted on: enrol, pause, skip, leave, cancel."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mailbot import forms
from mailbot.campaign_steps import keep_seats
from mailbot.campaigns import forms as campaign_forms
from mailbot.campaigns.course.lessons import answer_form_id
from mailbot.reading import parse_answers
from mailbot.steps import carry_out_due
from mailbot.store import responses as response_store
from mailbot.store import seats as seat_store
from mailbot.store.models import Outbox
from tests.campaigns.conftest import make_course, make_recruitment
from tests.conftest import oslo
from tests.factories import create_members


def _form(campaign, purpose="svar"):
    return next(f for f in campaign_forms.forms_of(campaign) if f.id == f"{campaign.id}.{purpose}")


def test_the_one_parser_reads_session_numbers_yes_no_and_course_words():
    r = make_recruitment()
    form = _form(r)
    assert [parse_answers(t, form).answers for t in ("ja", "2", "Nei takk", "1 B")] == [
        {"svar": "Ja"}, {"svar": "2"}, {"svar": "Nei"}, {"svar": "1"}]
    course = _form(make_course())
    assert [parse_answers(t, course).answers.get("svar") for t in ("JA!", "pause", "Hopp over neste", "slutt")] == [
        "Ja", "Pause", "Hopp over neste", "Slutt"]


def _answer(store, campaign, member_id, text, now, purpose="svar"):
    form = _form(campaign, purpose)
    answers = parse_answers(text, form).answers
    with store.transaction() as s:
        response_store.record(s, form, member_id, answers, source="reply", after_step=None, now=now)
        changes = forms.act_on(s, campaign, form, member_id, answers, now)
        forms.queue_emails(s, campaign, changes, now, answering=member_id)
    return [(c.member_id, c.what) for c in changes]


def _rows(store, campaign_id, step_prefix):
    with store.transaction() as s:
        return sorted(s.execute(select(Outbox.member_id, Outbox.step).where(
            Outbox.campaign_id == campaign_id, Outbox.step.like(f"{step_prefix}%"))).all())


def test_a_member_pausing_mid_course_gets_no_lesson_until_they_say_yes(settings, store):
    course = make_course(capacity=2)
    with store.transaction() as s:
        a, b, c = (m.id for m in create_members(s, 3))
    enrol = oslo(2020, 9, 1, 12)
    assert _answer(store, course, a, "ja", enrol) == [(a, "seated")]
    assert _answer(store, course, b, "ja", enrol) == [(b, "seated")]
    assert _answer(store, course, c, "ja", enrol) == [(c, "waitlisted")]
    carry_out_due(settings, store, [course], oslo(2020, 9, 9, 18))  # the first lesson email
    assert [m for m, _ in _rows(store, answer_form_id(course.id), "lesson-host-2020-1")] == [a, b]
    assert _answer(store, course, b, "pause", oslo(2020, 9, 16, 9)) == [(b, "paused")]
    carry_out_due(settings, store, [course], oslo(2020, 9, 16, 18))
    assert [m for m, _ in _rows(store, answer_form_id(course.id), "lesson-host-2020-2")] == [a]
    assert _answer(store, course, b, "ja", oslo(2020, 9, 20, 9)) == [(b, "resumed")]
    carry_out_due(settings, store, [course], oslo(2020, 9, 23, 18))
    assert [m for m, _ in _rows(store, answer_form_id(course.id), "lesson-host-2020-3")] == [a, b]


def test_skipping_one_lesson_then_back_for_the_next(settings, store):
    course = make_course()
    with store.transaction() as s:
        a = create_members(s, 1)[0].id
    _answer(store, course, a, "ja", oslo(2020, 9, 1))
    assert _answer(store, course, a, "hopp over neste", oslo(2020, 9, 2)) == [(a, "skipping")]
    carry_out_due(settings, store, [course], oslo(2020, 9, 9, 18))
    assert _rows(store, answer_form_id(course.id), "lesson-host-2020-1") == []
    carry_out_due(settings, store, [course], oslo(2020, 9, 16, 18))
    assert [m for m, _ in _rows(store, answer_form_id(course.id), "lesson-host-2020-2")] == [a]


def test_leaving_the_course_offers_the_seat_to_the_waitlist_and_the_offer_expires(settings, store):
    course = make_course(capacity=1)
    with store.transaction() as s:
        a, b, c = (m.id for m in create_members(s, 3))
    t = oslo(2020, 9, 1)
    for i, m in enumerate((a, b, c)):
        _answer(store, course, m, "ja", t + timedelta(minutes=i))
    assert _answer(store, course, a, "slutt", t + timedelta(hours=1)) == [(a, "declined"), (b, "offered")]
    assert [m for m, step in _rows(store, campaign_forms.offer_form_id(course.id), "seat-offered")] == [b]
    keep_seats(store, [course, *campaign_forms.forms_of(course)], t + timedelta(hours=50))  # 48 hours passed
    with store.transaction() as s:
        states = {r.member_id: r.status for r in seat_store.all_enrolments(s, course.id)}
    assert states == {a: "declined", b: "expired", c: "offered"}


def test_cancelling_a_workshop_by_reply_frees_the_seat_for_the_next(store):
    r = make_recruitment(seats=(1, 1))
    with store.transaction() as s:
        a, b = (m.id for m in create_members(s, 2))
    t = oslo(2020, 6, 3)
    assert _answer(store, r, a, "1", t) == [(a, "seated")]
    assert _answer(store, r, b, "1", t + timedelta(minutes=1)) == [(b, "waitlisted")]
    assert _answer(store, r, a, "nei", t + timedelta(hours=1)) == [(a, "declined"), (b, "offered")]
    assert _answer(store, r, b, "ja", t + timedelta(hours=2), purpose="tilbud") == [(b, "seated")]


def test_a_click_recorded_by_the_web_is_acted_on_at_the_next_tick(store):
    r = make_recruitment(seats=(1, 1))
    form = _form(r)
    with store.transaction() as s:
        a = create_members(s, 1)[0].id
        response_store.record(s, form, a, {"svar": "2"}, source="click", after_step=None, now=oslo(2020, 6, 3))
    keep_seats(store, [r, *campaign_forms.forms_of(r)], oslo(2020, 6, 3, 0, 5))
    keep_seats(store, [r, *campaign_forms.forms_of(r)], oslo(2020, 6, 3, 0, 10))  # once only
    with store.transaction() as s:
        assert seat_store.enrolment(s, r.id, a).group_id == "workshop-2"
    assert len(_rows(store, answer_form_id(r.id), "receipt-seated")) == 1
