"""Seats: never more seated than there are seats, a waitlist in order, offers that expire, cancellations."""

from __future__ import annotations

import threading
from datetime import timedelta

from mailbot import recruitment as seats
from mailbot.store import seats as seat_store
from mailbot.store.seats import SeatState
from tests.campaigns.conftest import make_course, make_recruitment
from tests.conftest import oslo
from tests.factories import create_members

NOW = oslo(2020, 6, 3, 12)


def _setup(store, n, campaign):
    with store.transaction() as s:
        ids = [m.id for m in create_members(s, n)]
        seat_store.ensure_groups(s, campaign.id, seats.capacities(campaign))
    return ids


def _states(store, campaign):
    with store.transaction() as s:
        return {r.member_id: (r.status, r.group_id) for r in seat_store.all_enrolments(s, campaign.id)}


def test_fifty_accepts_at_once_for_twenty_seats_seat_exactly_twenty(store):
    course = make_course(capacity=20)
    ids = _setup(store, 50, course)
    start = threading.Barrier(50)
    errors: list[BaseException] = []

    def accept(member_id: int) -> None:
        try:
            start.wait()
            with store.transaction() as s:
                seats.take_seat(s, course, "host-2020", member_id, NOW)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=accept, args=(m,)) for m in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    states = [st for st, _ in _states(store, course).values()]
    assert states.count("seated") == 20
    assert states.count("waitlisted") == 30


def test_a_full_session_waitlists_in_order(store):
    r = make_recruitment(seats=(2, 2))
    a, b, c, d = _setup(store, 4, r)
    with store.transaction() as s:
        got = [seats.take_seat(s, r, "workshop-1", m, NOW + timedelta(minutes=i)).what
               for i, m in enumerate((a, b, c, d))]
    assert got == ["seated", "seated", "waitlisted", "waitlisted"]
    with store.transaction() as s:
        assert seat_store.next_waiting(s, r.id, "workshop-1").member_id == c


def test_a_cancellation_offers_the_seat_to_the_first_on_the_waitlist(store):
    r = make_recruitment(seats=(1, 1))
    a, b, c = _setup(store, 3, r)
    with store.transaction() as s:
        for i, m in enumerate((a, b, c)):
            seats.take_seat(s, r, "workshop-1", m, NOW + timedelta(minutes=i))
    with store.transaction() as s:
        changes = seats.release(s, r, a, NOW + timedelta(hours=1))
    assert [(ch.member_id, ch.what) for ch in changes] == [(a, "declined"), (b, "offered")]
    states = _states(store, r)
    assert states[b] == ("offered", "workshop-1") and states[c] == ("waitlisted", "workshop-1")
    with store.transaction() as s:
        assert [ch.what for ch in seats.accept_offer(s, r, b, NOW + timedelta(hours=2))] == ["seated"]
    assert _states(store, r)[b] == ("seated", "workshop-1")


def test_an_offer_not_answered_in_48_hours_goes_to_the_next_in_line(store):
    r = make_recruitment(seats=(1, 1))
    a, b, c = _setup(store, 3, r)
    with store.transaction() as s:
        for i, m in enumerate((a, b, c)):
            seats.take_seat(s, r, "workshop-1", m, NOW + timedelta(minutes=i))
        seats.release(s, r, a, NOW + timedelta(hours=1))
    with store.transaction() as s:
        assert seats.expire_offers(s, r, NOW + timedelta(hours=48)) == []  # not yet: 47 hours
    with store.transaction() as s:
        changes = seats.expire_offers(s, r, NOW + timedelta(hours=49, seconds=1))
    assert [(ch.member_id, ch.what) for ch in changes] == [(b, "expired"), (c, "offered")]
    with store.transaction() as s:
        late = seats.accept_offer(s, r, b, NOW + timedelta(hours=50))
    assert [ch.what for ch in late] == ["no-offer"]
    assert _states(store, r)[c] == ("offered", "workshop-1")


def test_an_unlimited_cohort_seats_everyone(store):
    course = make_course(capacity=None)
    ids = _setup(store, 5, course)
    with store.transaction() as s:
        assert {seats.take_seat(s, course, "host-2020", m, NOW).what for m in ids} == {"seated"}


def test_moving_to_a_full_session_keeps_the_seat(store):
    r = make_recruitment(seats=(1, 1))
    a, b = _setup(store, 2, r)
    with store.transaction() as s:
        seats.take_seat(s, r, "workshop-1", a, NOW)
        seats.take_seat(s, r, "workshop-2", b, NOW)
        assert [ch.what for ch in seats.move(s, r, "workshop-2", a, NOW)] == ["full"]
    assert _states(store, r)[a] == (SeatState.SEATED.value, "workshop-1")


def test_a_group_first_made_by_an_answer_is_not_announced_as_moved(store):
    r = make_recruitment()
    with store.transaction() as s:
        seat_store.ensure_groups(s, r.id, seats.capacities(r))  # as an answer does: no start times
        starts = {m.id: m.starts for m in r.meetings}
        assert seat_store.ensure_groups(s, r.id, seats.capacities(r), starts) == []
        assert seat_store.sequence_of(s, r.id, "workshop-1") == 0
        later = {**starts, "workshop-1": oslo(2020, 6, 16, 18)}
        assert seat_store.ensure_groups(s, r.id, seats.capacities(r), later) == [("workshop-1", 1)]
