"""The outbox sends each (campaign, step, member) once, and loses nothing when a worker dies."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mailbot.states import OutboxState
from mailbot.store import outbox
from mailbot.store.models import Outbox
from tests.factories import T0, create_member, create_members


def test_queueing_a_step_twice_creates_each_email_once(store):
    with store.transaction() as s:
        ids = [m.id for m in create_members(s, 3)]
        assert outbox.queue(s, "ombruk-2022", "invitation", ids, T0) == 3
    with store.transaction() as s:
        outbox.queue(s, "ombruk-2022", "invitation", ids, T0)
        assert len(s.scalars(select(Outbox)).all()) == 3


def test_claimed_rows_are_not_claimed_again_until_the_sweeper_frees_them(store):
    with store.transaction() as s:
        ids = [m.id for m in create_members(s, 4)]
        outbox.queue(s, "ombruk-2022", "invitation", ids, T0)
    with store.transaction() as s:
        first = outbox.claim(s, T0, 3)
    with store.transaction() as s:
        second = outbox.claim(s, T0, 10)
    assert len(first) == 3 and len(second) == 1
    assert not {c.outbox_id for c in first} & {c.outbox_id for c in second}
    with store.transaction() as s:
        assert outbox.sweep(s, T0 + timedelta(minutes=5), timedelta(minutes=15)) == 0
        assert outbox.sweep(s, T0 + timedelta(minutes=16), timedelta(minutes=15)) == 4
    with store.transaction() as s:
        assert len(outbox.claim(s, T0 + timedelta(minutes=16), 10)) == 4


def test_a_member_who_left_is_skipped_at_send_time_but_gets_the_confirmation(store):
    with store.transaction() as s:
        m = create_member(s)
        outbox.queue(s, "ombruk-2022", "invitation", [m.id], T0)
        outbox.queue(s, "panel", "notice-unsubscribe-1", [m.id], T0, payload={"kind": "unsubscribe"})
        m.status = "unsubscribed"
    with store.transaction() as s:
        claimed = outbox.claim(s, T0, 10)
    assert [c.step for c in claimed] == ["notice-unsubscribe-1"]
    with store.transaction() as s:
        skipped = s.scalars(select(Outbox).where(Outbox.step == "invitation")).one()
        assert skipped.status == OutboxState.SKIPPED and skipped.smtp_response == "member unsubscribed"


def test_a_row_moves_out_of_sending_only_once(store):
    with store.transaction() as s:
        m = create_member(s)
        outbox.queue(s, "ombruk-2022", "invitation", [m.id], T0)
    with store.transaction() as s:
        (row,) = outbox.claim(s, T0, 1)
    with store.transaction() as s:
        assert outbox.mark_sent(s, row.outbox_id, T0, "<1@x>", "250 ok")
        assert not outbox.mark_failed(s, row.outbox_id, T0, "550 late")
        assert s.get(Outbox, row.outbox_id).status == OutboxState.SENT


def test_deferred_rows_wait_for_their_retry_time(store):
    with store.transaction() as s:
        m = create_member(s)
        outbox.queue(s, "ombruk-2022", "invitation", [m.id], T0)
    with store.transaction() as s:
        (row,) = outbox.claim(s, T0, 1)
        outbox.mark_deferred(s, row.outbox_id, T0 + timedelta(minutes=2), "451 try later")
    with store.transaction() as s:
        assert outbox.claim(s, T0 + timedelta(minutes=1), 5) == []
    with store.transaction() as s:
        (again,) = outbox.claim(s, T0 + timedelta(minutes=2), 5)
        assert again.attempts == 1
