"""Answers to courses and recruitments: what an answer does (a seat, a waitlist place, a pause).

A course or recruitment is answered with the survey machinery (the forms themselves, and what an
answer means, are pure and live in `mailbot.campaigns.forms`): each has an
answer form (`<id>.svar`: "Ja", a session number, "Nei", "Pause", "Hopp over
neste", "Slutt"), an offer form (`<id>.tilbud`: JA/NEI to a freed seat), and
a course has a feedback form per lesson (`<id>.<cohort>.<n>`: "Var du med?",
"Hvor nyttig var det?"). Replies are read by the one parser and clicks go
through the one-click pages; both record a response, and `apply_answer` acts
on it (a seat, a waitlist place, a pause) and queues the email that says so.
A reply is acted on at once (`handle_reply`); a click at the next tick
(`act_on_new_answers`), which finds responses newer than the last one acted on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from mailbot import recruitment as seats
from mailbot.campaigns import (
    AnswerValue,
    CampaignForm,
    Course,
    FormPurpose,
    Recruitment,
    Selection,
)
from mailbot.campaigns.course.lessons import answer_form_id, next_lesson
from mailbot.campaigns.forms import Intent, intent, offer_form_id, words
from mailbot.plan import DRAW
from mailbot.recruitment import Change
from mailbot.states import InboundState
from mailbot.store import outbox as outbox_store
from mailbot.store import responses as response_store
from mailbot.store import seats as seat_store
from mailbot.store.models import Response
from mailbot.store.seats import Enrolment, SeatState


def apply_answer(session: Session, campaign: Course | Recruitment, form: CampaignForm, member_id: int,
                 answers: Mapping[str, AnswerValue], now: datetime) -> list[Change]:
    """Act on the member's current answer to an answer or offer form; the changes made, for the emails."""
    wish = intent(campaign, form, answers)
    if wish is None:
        return []
    seat_store.ensure_groups(session, campaign.id, seats.capacities(campaign))
    if form.purpose == FormPurpose.OFFER:
        if wish.what == "yes":
            return seats.accept_offer(session, campaign, member_id, now)
        current = seat_store.enrolment(session, campaign.id, member_id)
        if current is not None and current.status == SeatState.OFFERED.value:
            return seats.release(session, campaign, member_id, now)
        return [Change(member_id, "no-offer", current.group_id if current else "")]
    if isinstance(campaign, Course):
        return _course_answer(session, campaign, member_id, wish, now)
    return _recruitment_answer(session, campaign, member_id, wish, now)


def _course_answer(session: Session, c: Course, member_id: int, wish: Intent, now: datetime) -> list[Change]:
    current = seat_store.enrolment(session, c.id, member_id)
    state = SeatState(current.status) if current else None
    if wish.what in ("no", "leave"):
        if current is None:
            return [Change(member_id, "declined", "")]
        return seats.release(session, c, member_id, now)
    if wish.what == "pause":
        if state == SeatState.SEATED and current is not None:
            current.status, current.changed_at = SeatState.PAUSED.value, now
            return [Change(member_id, "paused", current.group_id)]
        return [_nothing(member_id, current)]
    if wish.what == "skip":
        cohort = c.cohort(current.group_id) if current else None
        lesson = next_lesson(cohort, now) if cohort else None
        if state == SeatState.SEATED and current is not None and lesson is not None:
            current.skip_lesson, current.changed_at = lesson.number, now
            return [Change(member_id, "skipping", current.group_id)]
        return [_nothing(member_id, current)]
    if state == SeatState.PAUSED and current is not None and wish.what == "yes":
        current.status, current.changed_at = SeatState.SEATED.value, now
        return [Change(member_id, "resumed", current.group_id)]
    group = wish.group or _open_cohort(c, now)
    if group is None or now >= c.enrolment_closes:
        if state is not None and state.holds_seat:
            return [Change(member_id, "unchanged", current.group_id if current else "")]
        return [Change(member_id, "closed", group or "")]
    if state is not None and state.holds_seat:
        return seats.move(session, c, group, member_id, now)
    return [seats.take_seat(session, c, group, member_id, now)]


def _nothing(member_id: int, current: Enrolment | None) -> Change:
    return Change(member_id, "not-enrolled" if current is None else "unchanged", current.group_id if current else "")


def _open_cohort(c: Course, now: datetime) -> str | None:
    """ "Ja" means the first cohort that has not started, else the first one still running."""
    waiting = [x for x in c.cohorts if x.starts > now]
    running = [x for x in c.cohorts if x.ends > now]
    picks = waiting or running
    return picks[0].id if picks else None


def _recruitment_answer(session: Session, r: Recruitment, member_id: int, wish: Intent, now: datetime
                        ) -> list[Change]:
    current = seat_store.enrolment(session, r.id, member_id)
    if wish.what in ("no", "leave"):
        if current is None:
            return [Change(member_id, "declined", "")]
        return seats.release(session, r, member_id, now)
    if wish.what not in ("yes", "group"):
        return []
    open_meetings = [m for m in r.meetings if not m.cancelled and (m.starts is None or m.starts > now)]
    if not open_meetings:
        return [Change(member_id, "closed", wish.group)]
    drawing = r.selection != Selection.FIRST_COME and not outbox_store.step_is_done(session, r.id, DRAW)
    if drawing:
        if now >= r.closes:
            pass  # the deadline passed but the draw waits for approval: still a volunteer
        return [seats.volunteer(session, r, member_id, wish.group, now)]
    state = SeatState(current.status) if current else None
    if wish.what == "yes":
        if state is not None and state.holds_seat and current is not None:
            return [Change(member_id, "unchanged", current.group_id)]
        group = _roomiest(session, r, [m.id for m in open_meetings])
        return [seats.take_seat(session, r, group, member_id, now, wants="" if len(r.meetings) > 1 else group)]
    if wish.group not in {m.id for m in open_meetings}:
        return [Change(member_id, "closed", wish.group)]
    if state is not None and state.holds_seat:
        return seats.move(session, r, wish.group, member_id, now)
    return [seats.take_seat(session, r, wish.group, member_id, now)]


def _roomiest(session: Session, r: Recruitment, meeting_ids: list[str]) -> str:
    def room(mid: str) -> int:
        free = seat_store.free_seats(session, r.id, mid)
        return 10**9 if free is None else free

    return max(meeting_ids, key=lambda mid: (room(mid), -meeting_ids.index(mid)))


# ---------------------------------------------------------------- emails for changes

_ANSWER_WORDS = ("seated", "waitlisted", "volunteered", "declined", "paused", "resumed", "skipping", "unchanged",
                 "closed", "full", "no-offer", "not-enrolled", "expired")


def queue_emails(session: Session, campaign: Course | Recruitment, changes: Iterable[Change], now: datetime, *,
                 answering: int | None = None, in_reply_to: str | None = None) -> int:
    """One email per change: to the member who answered a receipt, to others (promoted, expired) a notice."""
    prefix = "course" if isinstance(campaign, Course) else "recruitment"
    queued = 0
    stamp = f"{now:%Y%m%d%H%M%S%f}"
    for i, change in enumerate(changes):
        if change.what == "offered":
            form, kind, outcome = offer_form_id(campaign.id), f"{prefix}-answer", "offered"
        elif change.what in _ANSWER_WORDS:
            form, kind, outcome = answer_form_id(campaign.id), f"{prefix}-answer", change.what
        else:
            continue
        mine = change.member_id == answering
        step = f"{'receipt' if mine else 'seat'}-{outcome}-{stamp}-{i}"
        payload: dict[str, Any] = {"kind": kind, "outcome": outcome, "campaign": campaign.id,
                                   "group": change.group_id}
        if mine and in_reply_to:
            payload["in_reply_to"] = in_reply_to
        if outbox_store.queue_one(session, form, step, change.member_id, now, payload=payload):
            queued += 1
    return queued


# ---------------------------------------------------------------- replies and clicks


def handle_reply(session: Session, campaigns: Mapping[str, object], form: CampaignForm, member_id: int,
                 reading: Any, in_reply_to: str | None, now: datetime) -> tuple[InboundState, str] | None:
    """A reply to a course or recruitment email: act on it and queue the answer; None leaves it to replies.py.

    PAUSE in reply to a course email pauses the course (not the whole panel);
    other commands, replies with no answer read, and replies after closing go
    the usual way.
    """
    campaign = campaigns.get(form.parent)
    if not isinstance(campaign, Course | Recruitment) or now >= form.closes:
        return None
    answers: dict[str, AnswerValue] = dict(reading.answers)
    if reading.kind == "command":
        if reading.command == "pause" and isinstance(campaign, Course) and form.purpose == FormPurpose.ANSWER:
            answers = {"svar": words(campaign.language)["pause"]}
        else:
            return None
    if not answers:
        return None
    response_store.record(session, form, member_id, answers, source="reply", after_step=None, now=now)
    changes = act_on(session, campaign, form, member_id, answers, now)
    queue_emails(session, campaign, changes, now, answering=member_id, in_reply_to=in_reply_to or None)
    what = ", ".join(sorted({c.what for c in changes if c.member_id == member_id})) or "nothing to do"
    return InboundState.DONE, f"{campaign.kind} answer {answers.get('svar')!r}: {what}"


def act_on(session: Session, campaign: Course | Recruitment, form: CampaignForm, member_id: int,
           answers: Mapping[str, AnswerValue], now: datetime) -> list[Change]:
    changes = apply_answer(session, campaign, form, member_id, answers, now)
    row = seat_store.enrolment(session, campaign.id, member_id)
    if row is None:
        # "Nei" before ever saying yes leaves no seat row: keep one, so the answer counts as acted on.
        row = seat_store.put(session, campaign.id, member_id, "", SeatState.DECLINED, now)
    row.answered_at = now
    return changes


def act_on_new_answers(session: Session, campaign: Course | Recruitment, forms: Mapping[str, CampaignForm],
                       now: datetime) -> int:
    """Answers recorded by clicking (or by staff) since they were last acted on: act and queue the emails."""
    ids = [answer_form_id(campaign.id), offer_form_id(campaign.id)]
    rows = session.execute(
        select(Response.campaign_id, Response.member_id, Response.updated_at)
        .outerjoin(Enrolment, and_(Enrolment.campaign_id == campaign.id, Enrolment.member_id == Response.member_id))
        .where(Response.campaign_id.in_(ids), Response.member_id.is_not(None),
               or_(Enrolment.id.is_(None), Enrolment.answered_at.is_(None),
                   Enrolment.answered_at < Response.updated_at))
        .order_by(Response.updated_at, Response.id)
    ).all()
    queued = 0
    for form_id, member_id, _ in rows:
        form = forms.get(form_id)
        if form is None or member_id is None:
            continue
        answers = response_store.answers_of(session, form, member_id)
        changes = act_on(session, campaign, form, member_id, answers, now)
        queued += queue_emails(session, campaign, changes, now, answering=member_id)
    return queued
