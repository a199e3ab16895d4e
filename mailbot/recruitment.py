"""Seats for workshops, cohorts and committees: allocation, waitlist, offers, and the draw.

Allocation (`take_seat`, `release`, `promote`) runs inside the caller's
transaction under the seat group's lock (`mailbot.store.seats`), so at most
`capacity` members ever hold a seat, however many replies and clicks arrive
at once. Each function returns the `Change`s it made; `mailbot.forms` turns
them into emails.

The draw (`draw`) is pure and seeded: the same volunteers and seed give the
same selection, so staff can look at it (`mailbot selection show`) before it
happens and get exactly that.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from mailbot.campaigns import Course, Recruitment, Selection
from mailbot.store import seats as seat_store
from mailbot.store.seats import SeatState


@dataclass(frozen=True)
class Change:
    """What happened to one member's seat: the email to send follows from `what`."""

    member_id: int
    what: str  # seated | waitlisted | volunteered | offered | declined | expired | paused | resumed | skipping
    group_id: str


def capacities(campaign: Course | Recruitment) -> list[tuple[str, int | None]]:
    if isinstance(campaign, Course):
        return [(c.id, c.capacity) for c in campaign.cohorts]
    return [(m.id, 0 if m.cancelled else m.capacity) for m in campaign.meetings]


def offer_hours(campaign: Course | Recruitment) -> int:
    return campaign.offer_hours


# ---------------------------------------------------------------- allocation


def take_seat(session: Session, campaign: Course | Recruitment, group_id: str, member_id: int, now: datetime, *,
              wants: str | None = None) -> Change:
    """A seat in `group_id` if one is free, else a place on its waitlist. Atomic under the group lock."""
    group = seat_store.lock_group(session, campaign.id, group_id)
    if group is None:
        seat_store.ensure_groups(session, campaign.id, capacities(campaign))
        group = seat_store.lock_group(session, campaign.id, group_id)
        assert group is not None, f"no seat group {group_id!r} in {campaign.id}"
    current = seat_store.enrolment(session, campaign.id, member_id)
    if current is not None and current.group_id == group_id and SeatState(current.status).holds_seat:
        return Change(member_id, "unchanged", group_id)
    if group.capacity is None or seat_store.held(session, campaign.id, group_id) < group.capacity:
        seat_store.put(session, campaign.id, member_id, group_id, SeatState.SEATED, now,
                       wants=group_id if wants is None else wants)
        return Change(member_id, "seated", group_id)
    if current is not None and current.status == SeatState.WAITLISTED.value and current.wants in (group_id, ""):
        return Change(member_id, "unchanged", group_id)
    seat_store.put(session, campaign.id, member_id, group_id, SeatState.WAITLISTED, now,
                   wants=group_id if wants is None else wants)
    return Change(member_id, "waitlisted", group_id)


def move(session: Session, campaign: Course | Recruitment, to_group: str, member_id: int, now: datetime
         ) -> list[Change]:
    """From one seat to another group's seat; kept where they are if the other is full."""
    current = seat_store.enrolment(session, campaign.id, member_id)
    if current is None or not SeatState(current.status).holds_seat or current.group_id == to_group:
        return [take_seat(session, campaign, to_group, member_id, now)]
    first, second = sorted([current.group_id, to_group])  # one lock order: no deadlock between two movers
    seat_store.lock_group(session, campaign.id, first)
    seat_store.lock_group(session, campaign.id, second)
    group = seat_store.lock_group(session, campaign.id, to_group)
    if group is not None and group.capacity is not None and \
            seat_store.held(session, campaign.id, to_group) >= group.capacity:
        return [Change(member_id, "full", to_group)]
    old = current.group_id
    seat_store.put(session, campaign.id, member_id, to_group, SeatState.SEATED, now, wants=to_group)
    return [Change(member_id, "seated", to_group), *promote(session, campaign, old, now)]


def release(session: Session, campaign: Course | Recruitment, member_id: int, now: datetime,
            to: SeatState = SeatState.DECLINED) -> list[Change]:
    """The member gives up their seat or place (no, cancel, leave, offer expired); the next in line moves up."""
    current = seat_store.enrolment(session, campaign.id, member_id)
    if current is None or current.status in (SeatState.DECLINED.value, SeatState.EXPIRED.value):
        return [Change(member_id, "unchanged", current.group_id if current else "")]
    group_id = current.group_id
    held = SeatState(current.status).holds_seat
    if held:
        seat_store.lock_group(session, campaign.id, group_id)
    seat_store.put(session, campaign.id, member_id, group_id, to, now, wants=current.wants)
    what = "expired" if to == SeatState.EXPIRED else "declined"
    changes = [Change(member_id, what, group_id)]
    if held:
        changes += promote(session, campaign, group_id, now)
    return changes


def promote(session: Session, campaign: Course | Recruitment, group_id: str, now: datetime) -> list[Change]:
    """Fill free seats from the waitlist, first come first served: an offer that expires, or a seat."""
    group = seat_store.lock_group(session, campaign.id, group_id)
    if group is None:
        return []
    changes: list[Change] = []
    while group.capacity is None or seat_store.held(session, campaign.id, group_id) < group.capacity:
        waiting = seat_store.next_waiting(session, campaign.id, group_id)
        if waiting is None or waiting.member_id is None:
            break
        if _is_meeting_past(campaign, group_id, now):
            break
        expires = now + timedelta(hours=offer_hours(campaign))
        seat_store.put(session, campaign.id, waiting.member_id, group_id, SeatState.OFFERED, now,
                       wants=waiting.wants, offer_expires=expires)
        changes.append(Change(waiting.member_id, "offered", group_id))
    return changes


def _is_meeting_past(campaign: Course | Recruitment, group_id: str, now: datetime) -> bool:
    if isinstance(campaign, Course):
        cohort = campaign.cohort(group_id)
        return cohort is None or cohort.ends <= now
    meeting = campaign.meeting(group_id)
    return meeting is None or meeting.cancelled or (meeting.starts is not None and meeting.starts <= now)


def accept_offer(session: Session, campaign: Course | Recruitment, member_id: int, now: datetime) -> list[Change]:
    current = seat_store.enrolment(session, campaign.id, member_id)
    if current is None or current.status != SeatState.OFFERED.value:
        return [Change(member_id, "no-offer", current.group_id if current else "")]
    if current.offer_expires is not None and current.offer_expires <= now:
        return expire_offers(session, campaign, now)  # too late: it goes to the next in line
    seat_store.lock_group(session, campaign.id, current.group_id)
    seat_store.put(session, campaign.id, member_id, current.group_id, SeatState.SEATED, now, wants=current.wants)
    return [Change(member_id, "seated", current.group_id)]


def expire_offers(session: Session, campaign: Course | Recruitment, now: datetime) -> list[Change]:
    changes: list[Change] = []
    for row in seat_store.expired_offers(session, campaign.id, now):
        if row.member_id is not None:
            changes += release(session, campaign, row.member_id, now, to=SeatState.EXPIRED)
    return changes


# ---------------------------------------------------------------- the draw


@dataclass(frozen=True)
class Volunteer:
    member_id: int
    wants: str  # a meeting id, or "" for any
    stratum: tuple[str, str] = ("", "")  # (age band, district)


@dataclass(frozen=True)
class Drawn:
    member_id: int
    meeting: str | None  # None: waitlisted
    rank: int  # order of the draw: the waitlist follows it


def draw(volunteers: Sequence[Volunteer], seats: Mapping[str, int], selection: Selection, seed: int | str
         ) -> list[Drawn]:
    """Who gets which seat. Lottery: a seeded shuffle; stratified: proportional to each age band and district.

    Volunteers are ranked, then seated in rank order in the meeting they asked
    for (or the one with most seats left); the rest are waitlisted in rank order.
    """
    rng = random.Random(f"{seed}")
    people = sorted(volunteers, key=lambda v: v.member_id)
    if selection == Selection.STRATIFIED:
        ranked = _stratified(people, sum(seats.values()), rng)
    elif selection == Selection.LOTTERY:
        ranked = list(people)
        rng.shuffle(ranked)
    else:
        ranked = list(volunteers)
    left = dict(seats)
    out = []
    for rank, v in enumerate(ranked):
        choice = v.wants if v.wants in left else max(left, key=lambda m: (left[m], -list(left).index(m)),
                                                     default=None)
        if choice is not None and left.get(choice, 0) > 0:
            left[choice] -= 1
            out.append(Drawn(v.member_id, choice, rank))
        else:
            out.append(Drawn(v.member_id, None, rank))
    return out


def _stratified(people: list[Volunteer], seats: int, rng: random.Random) -> list[Volunteer]:
    """Rank so that any first N hold each stratum in proportion to its share of the volunteers."""
    strata: dict[tuple[str, str], list[Volunteer]] = {}
    for v in people:
        strata.setdefault(v.stratum, []).append(v)
    for members in strata.values():
        rng.shuffle(members)
    total = len(people)
    picked: dict[tuple[str, str], int] = dict.fromkeys(strata, 0)
    ranked: list[Volunteer] = []
    while len(ranked) < total:
        n = len(ranked) + 1
        # The stratum furthest behind its fair share of the first n places goes next (ties: seeded order).
        key = max((k for k in strata if picked[k] < len(strata[k])),
                  key=lambda k: (len(strata[k]) * n / total - picked[k], -sorted(strata).index(k)))
        ranked.append(strata[key][picked[key]])
        picked[key] += 1
    return ranked


def volunteers(session: Session, campaign: Recruitment, stratum_of: Callable[[int], tuple[str, str]]
               ) -> list[Volunteer]:
    rows = seat_store.all_enrolments(session, campaign.id)
    return [Volunteer(r.member_id, r.wants, stratum_of(r.member_id)) for r in rows
            if r.member_id is not None and r.status == SeatState.VOLUNTEERED.value]


def apply_draw(session: Session, campaign: Recruitment, drawn: Iterable[Drawn], now: datetime) -> list[Change]:
    """Seat the drawn, waitlist the rest in draw order."""
    changes: list[Change] = []
    for i, d in enumerate(sorted(drawn, key=lambda x: x.rank)):
        at = now + timedelta(microseconds=i)  # waitlist order = draw order
        current = seat_store.enrolment(session, campaign.id, d.member_id)
        wants = current.wants if current else ""
        if d.meeting is not None:
            changes.append(take_seat(session, campaign, d.meeting, d.member_id, at, wants=wants))
        else:
            group = wants or campaign.meetings[0].id
            seat_store.put(session, campaign.id, d.member_id, group, SeatState.WAITLISTED, at, wants=wants)
            changes.append(Change(d.member_id, "waitlisted", group))
    return changes


def volunteer(session: Session, campaign: Recruitment, member_id: int, wants: str, now: datetime) -> Change:
    """Before the draw: noted as a volunteer (for the meeting asked for, or any)."""
    current = seat_store.enrolment(session, campaign.id, member_id)
    if current is not None and current.status == SeatState.VOLUNTEERED.value and current.wants == wants:
        return Change(member_id, "unchanged", wants)
    seat_store.put(session, campaign.id, member_id, wants, SeatState.VOLUNTEERED, now, wants=wants)
    return Change(member_id, "volunteered", wants)


def seats_of(campaign: Recruitment) -> dict[str, int]:
    return {m.id: m.capacity for m in campaign.meetings if not m.cancelled}
