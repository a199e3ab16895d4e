"""Sending over a real SMTP server: every recipient once, refusals kept, retries until delivered."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from mailbot.people import MemberStatus
from mailbot.sending import SendOptions, send_due
from mailbot.states import OutboxState
from mailbot.store import outbox as outbox_store
from mailbot.store.models import Member, Outbox
from tests.outbound.conftest import NOW, address, queue_invitations, sender


def statuses(store) -> dict[str, int]:
    with store.transaction() as s:
        out: dict[str, int] = {}
        for (st,) in s.execute(select(Outbox.status)):
            out[st] = out.get(st, 0) + 1
        return out


def test_every_queued_invitation_reaches_its_recipient_once_over_one_connection(panel, relay):
    queue_invitations(panel.store, 120)
    smtp = sender(relay)
    report = send_due(panel.store, panel.composer, smtp, NOW, batch=50)
    smtp.close()
    assert report.sent == 120
    assert relay.handler.received == {address(i): 1 for i in range(120)}
    assert smtp.connections == 1
    assert statuses(panel.store) == {"sent": 120}


def test_the_ledger_keeps_the_servers_answer_and_the_message_id(panel, relay):
    queue_invitations(panel.store, 2)
    send_due(panel.store, panel.composer, sender(relay), NOW)
    with panel.store.transaction() as s:
        rows = s.scalars(select(Outbox)).all()
    assert all(r.smtp_response == "250 2.0.0 Ok: queued" for r in rows)
    assert all(r.message_id and r.message_id.endswith("@baerum.example.no>") for r in rows)
    assert all(r.sent_at == NOW and r.attempts == 1 for r in rows)


def test_random_421_and_451_are_retried_with_backoff_until_all_are_delivered(panel, relay):
    relay.handler.temp_rate = 0.3
    queue_invitations(panel.store, 200)
    smtp = sender(relay)
    rng = random.Random(5)
    now = NOW
    for _ in range(1000):  # a 421 ends a round (the relay is closing): the worker comes back later
        report = send_due(panel.store, panel.composer, smtp, now, rng=rng)
        if statuses(panel.store) == {"sent": 200}:
            break
        now += timedelta(minutes=2) if report.relay_down else timedelta(hours=7)
    assert statuses(panel.store) == {"sent": 200}
    assert relay.handler.refused > 20
    assert relay.handler.received == {address(i): 1 for i in range(200)}


def test_deferral_waits_exponentially_longer_with_jitter(panel, relay):
    relay.handler.refuse[address(0)] = "451 4.7.1 Greylisted"
    queue_invitations(panel.store, 1)
    smtp = sender(relay)
    waits = []
    now = NOW
    for _ in range(4):
        send_due(panel.store, panel.composer, smtp, now, rng=random.Random(1))
        with panel.store.transaction() as s:
            row = s.scalars(select(Outbox)).one()
        assert row.status == OutboxState.DEFERRED and row.smtp_response == "451 4.7.1 Greylisted"
        waits.append((row.not_before - now).total_seconds())
        now = row.not_before
    assert all(b > a for a, b in zip(waits, waits[1:], strict=False))
    assert 30 <= waits[0] <= 90


def test_550_fails_that_recipient_with_the_servers_reason_and_the_rest_are_delivered(panel, relay):
    for i in (3, 7):
        relay.handler.refuse[address(i)] = f"550 5.1.1 <{address(i)}>: Recipient address rejected: User unknown"
    queue_invitations(panel.store, 10)
    report = send_due(panel.store, panel.composer, sender(relay), NOW)
    assert (report.sent, report.failed) == (8, 2)
    with panel.store.transaction() as s:
        failed = {r.member_id: r.smtp_response for r in s.scalars(select(Outbox).where(Outbox.status == "failed"))}
        emails = {m.id: m.email for m in s.scalars(select(Member))}
    assert {emails[m] for m in failed} == {address(3), address(7)}
    assert all("User unknown" in r and r.startswith("550 5.1.1") for r in failed.values())
    assert set(relay.handler.received) == {address(i) for i in range(10)} - {address(3), address(7)}


def test_a_row_that_keeps_being_deferred_fails_after_max_attempts_with_the_last_answer(panel, relay):
    relay.handler.refuse[address(0)] = "452 4.2.2 Mailbox full"
    queue_invitations(panel.store, 1)
    opts = SendOptions(max_attempts=3)
    now = NOW
    for _ in range(3):
        send_due(panel.store, panel.composer, sender(relay), now, options=opts)
        now += timedelta(days=1)
    with panel.store.transaction() as s:
        row = s.scalars(select(Outbox)).one()
    assert row.status == OutboxState.FAILED and row.attempts == 3
    assert row.smtp_response == "gave up after 3 tries: 452 4.2.2 Mailbox full"


def test_members_who_may_not_be_mailed_are_skipped_at_send_time_for_each_status(panel, relay):
    queue_invitations(panel.store, 5)
    with panel.store.transaction() as s:
        members = s.scalars(select(Member).order_by(Member.id)).all()
        members[0].status = MemberStatus.UNSUBSCRIBED
        members[1].status = MemberStatus.PAUSED
        members[1].paused_until = NOW + timedelta(days=30)
        members[2].status = MemberStatus.UNDELIVERABLE
        members[3].status = MemberStatus.ERASED
        members[3].email = None
        outbox_store.queue(s, "panel", "notice-unsubscribe-1", [members[0].id], NOW, payload={"kind": "unsubscribe"})
    report = send_due(panel.store, panel.composer, sender(relay), NOW)
    assert report.sent == 2  # the active member, and the unsubscribed member's confirmation
    with panel.store.transaction() as s:
        why = {r.member_id: r.smtp_response for r in s.scalars(select(Outbox).where(Outbox.status == "skipped"))}
    assert why == {members[0].id: "member unsubscribed", members[1].id: "member paused",
                   members[2].id: "address undeliverable", members[3].id: "member erased"}
    assert set(relay.handler.received) == {address(0), address(4)}


def test_a_member_whose_pause_ended_gets_the_email(panel, relay):
    queue_invitations(panel.store, 1)
    with panel.store.transaction() as s:
        m = s.scalars(select(Member)).one()
        m.status, m.paused_until = MemberStatus.PAUSED, NOW - timedelta(days=1)
    assert send_due(panel.store, panel.composer, sender(relay), NOW).sent == 1


def test_an_outcome_recorded_after_the_sweeper_requeued_the_row_changes_nothing(store):
    from tests.factories import create_member

    with store.transaction() as s:
        m = create_member(s)
        outbox_store.queue(s, "ombruk-2022", "invitation", [m.id], NOW)
    with store.transaction() as s:
        (row,) = outbox_store.claim(s, NOW, 1)
    with store.transaction() as s:
        outbox_store.sweep(s, NOW + timedelta(hours=1), timedelta(minutes=15))
    with store.transaction() as s:
        late = outbox_store.Outcome(row.outbox_id, OutboxState.SENT, NOW, "250 ok", "<x@y>")
        assert outbox_store.record(s, [late]) == 0
        assert s.get(Outbox, row.outbox_id).status == OutboxState.QUEUED


def test_a_stop_request_ends_the_send_in_hand_and_hands_the_claimed_rest_back_untried(panel, relay):
    queue_invitations(panel.store, 30)
    seen = []

    def stopping() -> bool:
        seen.append(1)
        return sum(relay.handler.received.values()) >= 3

    report = send_due(panel.store, panel.composer, sender(relay), NOW, batch=30, stopping=stopping)
    assert report.stopped and report.claimed == 30
    assert report.sent == sum(relay.handler.received.values()) >= 3
    assert statuses(panel.store) == {"sent": report.sent, "queued": 30 - report.sent}  # nothing left "sending"
    with panel.store.transaction() as s:
        back = s.scalars(select(Outbox).where(Outbox.status == "queued")).all()
    assert all(r.attempts == 0 and r.claimed_at is None and r.not_before <= NOW for r in back)
    assert send_due(panel.store, panel.composer, sender(relay), NOW).sent == 30 - report.sent
    assert relay.handler.received == {address(i): 1 for i in range(30)}


def test_a_pipelined_sender_composes_the_next_email_while_the_relay_answers_and_keeps_every_answer(panel, relay):
    for i in (1, 4):
        relay.handler.refuse[address(i)] = "550 5.1.1 User unknown"
    queue_invitations(panel.store, 6)
    smtp = sender(relay)
    report = send_due(panel.store, panel.composer, smtp, NOW)
    smtp.close()
    assert (report.sent, report.failed) == (4, 2) and smtp.connections == 1
    with panel.store.transaction() as s:
        rows = {m.email: o for o, m in s.execute(select(Outbox, Member).join(Member, Member.id == Outbox.member_id))}
    assert rows[address(1)].smtp_response == "550 5.1.1 User unknown"
    assert rows[address(0)].smtp_response == "250 2.0.0 Ok: queued"
