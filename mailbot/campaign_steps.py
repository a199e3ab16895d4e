"""Carrying out the steps of courses, recruitments and updates (`mailbot.steps` calls in here).

`queue_step` turns one due step into outbox rows, inside the step's
transaction; `keep_seats` runs every tick for each course and recruitment:
it follows capacity and time changes in the files, lets expired offers go to
the next in line, and acts on answers given by clicking since the last tick.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot import forms as form_rules
from mailbot import recruitment as seats
from mailbot.campaigns import Campaign, CampaignForm, Course, Recruitment, Update
from mailbot.campaigns.course.lessons import answer_form_id, feedback_form_id, lesson_steps
from mailbot.panel.profiles import age_band_of
from mailbot.panel.settings import Settings
from mailbot.plan import DRAW, INVITATION, UPDATE, DueStep, cancel_step, meeting_reminder_step
from mailbot.store import Store
from mailbot.store import members as member_store
from mailbot.store import outbox as outbox_store
from mailbot.store import seats as seat_store
from mailbot.store.models import Member
from mailbot.store.seats import HOLDS_SEAT, Enrolment, SeatState

log = logging.getLogger("mailbot.campaign_steps")


def queue_step(settings: Settings, s: Session, due: DueStep, campaigns: Sequence[Campaign], now: datetime) -> int:
    c = due.campaign
    if isinstance(c, Update):
        return _queue(s, c.id, UPDATE, _update_audience(settings, s, c, campaigns, now), now, {"kind": "update"}, c)
    if isinstance(c, Course):
        return _course_step(settings, s, c, due.step, now)
    if isinstance(c, Recruitment):
        return _recruitment_step(settings, s, c, due.step, now)
    return 0


def _queue(s: Session, campaign_id: str, step: str, batches: Iterator[list[int]] | list[list[int]], now: datetime,
           payload: dict[str, object], parent: Campaign) -> int:
    total = 0
    for ids in batches:
        total += outbox_store.queue(s, campaign_id, step, ids, now, payload={**payload, "campaign": parent.id})
    return total


def _course_step(settings: Settings, s: Session, c: Course, step: str, now: datetime) -> int:
    seat_store.ensure_groups(s, c.id, seats.capacities(c))
    form = answer_form_id(c.id)
    if step == INVITATION:
        batches = member_store.audience_ids(settings, s, c, now)
        return _queue(s, form, step, batches, now, {"kind": "course-invitation"}, c)
    ls = next((x for x in lesson_steps(c) if x.step == step), None)
    if ls is None:
        return 0
    where = {"group": ls.cohort.id, "lesson": ls.lesson.number}
    if ls.what == "feedback":
        takers = [b for b in seat_store.members_sent(s, form, f"lesson-{ls.cohort.id}-{ls.lesson.number}")]
        return _queue(s, feedback_form_id(c.id, ls.cohort.id, ls.lesson.number), "feedback", takers, now,
                      {"kind": "course-feedback", **where}, c)
    ids = seat_store.lesson_recipients(s, c, ls.cohort, ls.lesson)
    kind = "course-lesson" if ls.what == "lesson" else "course-reminder"
    queued = _queue(s, form, step, [ids] if ids else [], now, {"kind": kind, **where}, c)
    if ls.what == "lesson":
        # "Hopp over neste" skips one lesson: once it is past, the member is back for the next.
        for row in s.scalars(select(Enrolment).where(Enrolment.campaign_id == c.id,
                                                     Enrolment.group_id == ls.cohort.id,
                                                     Enrolment.skip_lesson == ls.lesson.number)):
            row.skip_lesson = None
    return queued


def _recruitment_step(settings: Settings, s: Session, r: Recruitment, step: str, now: datetime) -> int:
    seat_store.ensure_groups(s, r.id, seats.capacities(r))
    form = answer_form_id(r.id)
    if step == INVITATION:
        batches = member_store.audience_ids(settings, s, r, now)
        return _queue(s, form, step, batches, now, {"kind": "recruitment-invitation"}, r)
    if step == DRAW:
        # Age bands as of the sign-up deadline, not of the tick: `mailbot selection show` previews this same draw.
        drawn = seats.draw(seats.volunteers(s, r, _stratum_of(settings, s, r.closes)), seats.seats_of(r), r.selection,
                           f"{r.seed}:{r.id}")
        changes = seats.apply_draw(s, r, drawn, now)
        return form_rules.queue_emails(s, r, changes, now)
    for m in r.meetings:
        if step == meeting_reminder_step(m.id):
            ids = seat_store.members_in(s, r.id, [SeatState.SEATED], m.id)
            payload = {"kind": "recruitment-reminder", "outcome": "reminder", "group": m.id,
                       "sequence": seat_store.sequence_of(s, r.id, m.id)}
            return _queue(s, form, step, [ids] if ids else [], now, payload, r)
        if step == cancel_step(m.id):
            ids = seat_store.members_in(s, r.id, HOLDS_SEAT, m.id)
            for mid in ids:
                seat_store.lock_group(s, r.id, m.id)
                seat_store.put(s, r.id, mid, m.id, SeatState.DECLINED, now)
            payload = {"kind": "recruitment-answer", "outcome": "cancelled", "group": m.id,
                       "sequence": seat_store.sequence_of(s, r.id, m.id) + 1}
            return _queue(s, form, step, [ids] if ids else [], now, payload, r)
    return 0


def _stratum_of(settings: Settings, s: Session, now: datetime) -> Callable[[int], tuple[str, str]]:
    today = now.astimezone(settings.panel.zone).date()
    cache: dict[int, tuple[str, str]] = {}

    def stratum(member_id: int) -> tuple[str, str]:
        if member_id not in cache:
            row = s.execute(select(Member.birth_year, Member.postcode).where(Member.id == member_id)).first()
            birth, postcode = (row[0], row[1]) if row else (None, None)
            cache[member_id] = (age_band_of(birth, settings.panel.age_bands, today) or "",
                                settings.district_of(postcode) or "")
        return cache[member_id]

    return stratum


def _update_audience(settings: Settings, s: Session, u: Update, campaigns: Sequence[Campaign], now: datetime
                     ) -> Iterator[list[int]]:
    among = u.among
    if not among.participants and not among.volunteers:
        yield from member_store.audience_ids(settings, s, u, now)
        return
    wanted: set[int] = set()
    for cid in among.participants:
        wanted |= set(seat_store.members_in(s, cid, [SeatState.SEATED, SeatState.PAUSED]))
    for cid in among.volunteers:
        wanted |= set(seat_store.members_in(s, cid, [x for x in SeatState if x not in (SeatState.DECLINED,)]))
    for ids in member_store.audience_ids(settings, s, u, now):
        chosen = [i for i in ids if i in wanted]
        if chosen:
            yield chosen


# ---------------------------------------------------------------- every tick


def keep_seats(store: Store, campaigns: Sequence[Campaign], now: datetime) -> int:
    """Follow file changes, expire offers, promote from waitlists, act on clicked answers. Emails queued."""
    forms = {c.id: c for c in campaigns if isinstance(c, CampaignForm)}
    queued = 0
    for c in campaigns:
        if not isinstance(c, Course | Recruitment) or now < c.opens:
            continue
        with store.transaction() as s:
            queued += _keep(s, c, forms, now)
    return queued


def _keep(s: Session, c: Course | Recruitment, forms: dict[str, CampaignForm], now: datetime) -> int:
    starts = {m.id: m.starts for m in c.meetings} if isinstance(c, Recruitment) else None
    moved = seat_store.ensure_groups(s, c.id, seats.capacities(c), starts)
    queued = 0
    if isinstance(c, Recruitment):
        for meeting_id, sequence in moved:
            meeting = c.meeting(meeting_id)
            if meeting is None or meeting.cancelled or (meeting.starts is not None and meeting.starts <= now):
                continue
            ids = seat_store.members_in(s, c.id, HOLDS_SEAT, meeting_id)
            if ids:
                queued += outbox_store.queue(s, answer_form_id(c.id), f"moved-{meeting_id}-{sequence}", ids, now,
                                             payload={"kind": "recruitment-answer", "outcome": "moved",
                                                      "campaign": c.id, "group": meeting_id, "sequence": sequence})
    changes = seats.expire_offers(s, c, now)
    for group_id, _ in seats.capacities(c):
        changes += seats.promote(s, c, group_id, now)
    queued += form_rules.queue_emails(s, c, changes, now)
    queued += form_rules.act_on_new_answers(s, c, forms, now)
    return queued


def recipient_counts(settings: Settings, s: Session, campaigns: Sequence[Campaign], now: datetime
                     ) -> dict[tuple[str, str], int]:
    """How many each coming step would go to if it were due now: for `mailbot plan`."""
    out: dict[tuple[str, str], int] = {}
    for c in campaigns:
        if isinstance(c, CampaignForm):
            continue
        if isinstance(c, Course):
            for ls in lesson_steps(c):
                out[(c.id, ls.step)] = len(seat_store.members_in(s, c.id, [SeatState.SEATED], ls.cohort.id))
        elif isinstance(c, Recruitment):
            for m in c.meetings:
                out[(c.id, meeting_reminder_step(m.id))] = len(seat_store.members_in(s, c.id, [SeatState.SEATED],
                                                                                     m.id))
                out[(c.id, cancel_step(m.id))] = len(seat_store.members_in(s, c.id, HOLDS_SEAT, m.id))
            out[(c.id, DRAW)] = len(seat_store.members_in(s, c.id, [SeatState.VOLUNTEERED]))
        if isinstance(c, Update) and (c.among.participants or c.among.volunteers):
            out[(c.id, UPDATE)] = sum(len(b) for b in _update_audience(settings, s, c, campaigns, now))
            continue
        out[(c.id, UPDATE if isinstance(c, Update) else INVITATION)] = sum(
            len(b) for b in member_store.audience_ids(settings, s, c, now))
    return out
