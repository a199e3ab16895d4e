"""The outbox: one row per (campaign, step, member), claimed by senders.

Rows are created once per step (the unique key makes a second attempt a
no-op), claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL (several workers
never take the same row) and under SQLite's single write lock (BEGIN
IMMEDIATE) there. A row stuck in "sending" after a crash is returned to the
queue by `sweep`: the only way a message can go out twice is a crash between
the server's 250 and our commit, so duplicates are bounded by what was in flight.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mailbot.people import MemberStatus, Recipient
from mailbot.states import CLAIMABLE, OutboxState
from mailbot.store.models import CampaignStep, Member, Outbox, Response

# Steps that answer something the resident did: sent even to someone who has
# unsubscribed or paused (the confirmation of leaving must arrive), never to
# an erased or undeliverable address.
TRANSACTIONAL_PREFIXES = ("receipt-", "notice-")


def is_transactional(step: str) -> bool:
    return step.startswith(TRANSACTIONAL_PREFIXES)


# ---------------------------------------------------------------- steps


def done_steps(session: Session) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for cid, step in session.execute(select(CampaignStep.campaign_id, CampaignStep.step)):
        out.setdefault(cid, set()).add(step)
    return out


def record_step(session: Session, campaign_id: str, step: str, now: datetime, recipients: int = 0,
                note: str | None = None) -> None:
    """Record a step as carried out. A concurrent tick doing the same step makes the commit fail."""
    session.add(CampaignStep(campaign_id=campaign_id, step=step, done_at=now, recipients=recipients, note=note))
    session.flush()


def step_is_done(session: Session, campaign_id: str, step: str) -> bool:
    return session.scalar(
        select(func.count()).select_from(CampaignStep)
        .where(CampaignStep.campaign_id == campaign_id, CampaignStep.step == step)
    ) > 0


# ---------------------------------------------------------------- queueing


def _insert(session: Session) -> Any:
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(Outbox)


def queue(session: Session, campaign_id: str, step: str, member_ids: Iterable[int], now: datetime,
          not_before: datetime | None = None, payload: Mapping[str, Any] | None = None) -> int:
    """Queue one email per member; members already queued for this step are left alone."""
    rows = [
        {"campaign_id": campaign_id, "step": step, "member_id": m, "status": OutboxState.QUEUED.value,
         "attempts": 0, "not_before": not_before or now, "created_at": now,
         "payload": json.dumps(payload, ensure_ascii=False) if payload else None}
        for m in member_ids
    ]
    if not rows:
        return 0
    stmt = _insert(session).on_conflict_do_nothing(index_elements=["campaign_id", "step", "member_id"])
    result = session.connection().execute(stmt, rows)  # Core executemany: rowcount is the rows inserted
    return result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(rows)


def queue_one(session: Session, campaign_id: str, step: str, member_id: int, now: datetime,
              payload: Mapping[str, Any] | None = None) -> bool:
    return queue(session, campaign_id, step, [member_id], now, payload=payload) > 0


def invited_without_response(session: Session, campaign_id: str, batch: int = 1000) -> Iterator[list[int]]:
    """Members whose invitation was sent and who have not answered, in id order, in batches."""
    last = 0
    while True:
        ids = list(session.scalars(
            select(Outbox.member_id)
            .outerjoin(Response, and_(Response.campaign_id == Outbox.campaign_id,
                                      Response.member_id == Outbox.member_id))
            .where(Outbox.campaign_id == campaign_id, Outbox.step == "invitation",
                   Outbox.status == OutboxState.SENT.value, Response.id.is_(None),
                   Outbox.member_id > last)
            .order_by(Outbox.member_id).limit(batch)
        ))
        if not ids:
            return
        yield [i for i in ids if i is not None]
        last = ids[-1] or last


def invited_members(session: Session, campaign_id: str, batch: int = 1000) -> Iterator[list[int]]:
    """Members whose invitation was sent, in id order, in batches."""
    last = 0
    while True:
        ids = list(session.scalars(
            select(Outbox.member_id)
            .where(Outbox.campaign_id == campaign_id, Outbox.step == "invitation",
                   Outbox.status == OutboxState.SENT.value, Outbox.member_id > last)
            .order_by(Outbox.member_id).limit(batch)
        ))
        if not ids:
            return
        yield [i for i in ids if i is not None]
        last = ids[-1] or last


def count_sent(session: Session, campaign_id: str, step: str) -> int:
    return session.scalar(
        select(func.count()).select_from(Outbox)
        .where(Outbox.campaign_id == campaign_id, Outbox.step == step, Outbox.status == OutboxState.SENT.value)
    ) or 0


# ---------------------------------------------------------------- claiming


@dataclass(frozen=True)
class Claimed:
    """An outbox row taken by a sender, with what composing needs."""

    outbox_id: int
    campaign_id: str
    step: str
    attempts: int
    payload: dict[str, Any]
    recipient: Recipient | None  # None: the member may no longer be mailed
    why_not: str | None = None


def claim(session: Session, now: datetime, limit: int) -> list[Claimed]:
    """Take up to `limit` due rows for sending; rows for members who may not be mailed are skipped."""
    query = (
        select(Outbox.id, Outbox.campaign_id, Outbox.step, Outbox.attempts, Outbox.payload,
               Member.id, Member.email, Member.name, Member.language, Member.status, Member.paused_until)
        .join(Member, Member.id == Outbox.member_id, isouter=True)
        .where(Outbox.status.in_([s.value for s in CLAIMABLE]), Outbox.not_before <= now)
        .order_by(Outbox.not_before, Outbox.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Outbox, skip_locked=True)
    claimed: list[Claimed] = []
    sending: list[int] = []
    skipped: list[tuple[int, str]] = []
    for oid, cid, step, attempts, payload, mid, email, name, lang, status, paused_until in session.execute(query):
        why = _why_not(step, mid, email, status, paused_until, now)
        if why:
            skipped.append((oid, why))
            continue
        sending.append(oid)
        claimed.append(Claimed(oid, cid, step, attempts, json.loads(payload) if payload else {},
                               Recipient(mid, email, name, lang)))
    if sending:
        session.execute(update(Outbox).where(Outbox.id.in_(sending))
                        .values(status=OutboxState.SENDING.value, claimed_at=now))
    for oid, why in skipped:
        session.execute(update(Outbox).where(Outbox.id == oid)
                        .values(status=OutboxState.SKIPPED.value, smtp_response=why))
    return claimed


def _why_not(step: str, member_id: int | None, email: str | None, status: str, paused_until: datetime | None,
             now: datetime) -> str | None:
    """Suppression at send time, not only at planning: people leave between the two."""
    if member_id is None or not email or status == MemberStatus.ERASED:
        return "member erased"
    if status == MemberStatus.UNDELIVERABLE:
        return "address undeliverable"
    if is_transactional(step):
        return None
    if status == MemberStatus.UNSUBSCRIBED:
        return "member unsubscribed"
    if status == MemberStatus.PAUSED and (paused_until is None or paused_until > now):
        return "member paused"
    return None


def _move(session: Session, outbox_id: int, to: OutboxState, **values: Any) -> bool:
    """Move one row from "sending" to `to`; False if it had already moved (e.g. swept and re-sent)."""
    assert OutboxState.SENDING.can_move(to)
    result = session.execute(
        update(Outbox).where(Outbox.id == outbox_id, Outbox.status == OutboxState.SENDING.value)
        .values(status=to.value, **values)
    )
    return bool(result.rowcount)


def mark_sent(session: Session, outbox_id: int, now: datetime, message_id: str, response: str) -> bool:
    return _move(session, outbox_id, OutboxState.SENT, sent_at=now, message_id=message_id,
                 smtp_response=response[:1000], attempts=Outbox.attempts + 1)


def mark_deferred(session: Session, outbox_id: int, retry_at: datetime, response: str) -> bool:
    return _move(session, outbox_id, OutboxState.DEFERRED, not_before=retry_at, smtp_response=response[:1000],
                 attempts=Outbox.attempts + 1)


def mark_failed(session: Session, outbox_id: int, now: datetime, response: str) -> bool:
    return _move(session, outbox_id, OutboxState.FAILED, sent_at=now, smtp_response=response[:1000],
                 attempts=Outbox.attempts + 1)


def sweep(session: Session, now: datetime, timeout: timedelta) -> int:
    """Return rows stuck in "sending" (their worker died) to the queue."""
    result = session.execute(
        update(Outbox).where(Outbox.status == OutboxState.SENDING.value, Outbox.claimed_at < now - timeout)
        .values(status=OutboxState.QUEUED.value, claimed_at=None)
    )
    return result.rowcount or 0


def pending(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(Outbox).where(Outbox.status.in_([s.value for s in CLAIMABLE]))
    ) or 0


def outbox_row(session: Session, outbox_id: int) -> Outbox | None:
    return session.get(Outbox, outbox_id)


def by_message_id(session: Session, message_ids: Iterable[str]) -> Outbox | None:
    ids = [m.strip() for m in message_ids if m.strip()]
    if not ids:
        return None
    return session.scalars(select(Outbox).where(Outbox.message_id.in_(ids)).order_by(Outbox.id.desc())).first()


def automatic_answers_since(session: Session, member_id: int, since: datetime) -> int:
    return session.scalar(
        select(func.count()).select_from(Outbox)
        .where(Outbox.member_id == member_id, Outbox.created_at >= since,
               Outbox.step.like("receipt-%") | Outbox.step.like("notice-%"))
    ) or 0
