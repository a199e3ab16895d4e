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
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from mailbot.pacing import QUIET_HOURS, TRANSACTIONAL_PREFIXES, WEEK, WEEKLY_BUDGET, Pacing, is_transactional
from mailbot.people import MemberStatus, Recipient
from mailbot.states import CLAIMABLE, OutboxState
from mailbot.store.models import CampaignStep, Member, Outbox, Response

# Steps that answer something the resident did (TRANSACTIONAL_PREFIXES): sent
# even to someone who has unsubscribed or paused (the confirmation of leaving
# must arrive), never to an erased or undeliverable address; no quiet hours, no budget.
__all__ = ["TRANSACTIONAL_PREFIXES", "is_transactional"]

# Membership notices may name their own recipient in the payload ("to"): the address being
# confirmed is not (yet) the member's address on file.
ADDRESSED_PREFIX = "notice-membership-"

# pg_advisory_xact_lock key (with the schema's hash) that serialises claims while rate limits are counted.
_RATE_LOCK = 0x6D61_696C


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
    return (session.scalar(
        select(func.count()).select_from(CampaignStep)
        .where(CampaignStep.campaign_id == campaign_id, CampaignStep.step == step)
    ) or 0) > 0


# ---------------------------------------------------------------- queueing


def _rows(result: Any) -> CursorResult[Any]:
    return cast("CursorResult[Any]", result)


def _insert(session: Session) -> Any:
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(Outbox)


def queue(session: Session, campaign_id: str, step: str, member_ids: Iterable[int], now: datetime,
          not_before: datetime | None = None, payload: Mapping[str, Any] | None = None,
          pacing: Pacing | None = None) -> int:
    """Queue one email per member; members already queued for this step are left alone.

    With `pacing`, a campaign email that would fall in quiet hours or over a
    member's weekly budget is queued with a later `not_before`: deferred,
    never dropped: the row's `smtp_response` says why until it is sent (`held_back` counts them).
    """
    ids = list(member_ids)
    if not ids:
        return 0
    due = not_before or now
    encoded = json.dumps(payload, ensure_ascii=False) if payload else None
    when: dict[int, tuple[datetime, str | None]] = {}
    if pacing is not None and pacing.active and not is_transactional(step):
        earlier = campaign_times(session, ids, due - WEEK) if pacing.weekly_budget else {}
        when = {m: pacing.when(step, due, earlier.get(m, ())) for m in ids}
    rows = []
    for m in ids:
        at, why = when.get(m, (due, None))
        rows.append({"campaign_id": campaign_id, "step": step, "member_id": m, "status": OutboxState.QUEUED.value,
                     "attempts": 0, "not_before": at, "created_at": now, "payload": encoded, "smtp_response": why})
    stmt = _insert(session).on_conflict_do_nothing(index_elements=["campaign_id", "step", "member_id"])
    result = session.connection().execute(stmt, rows)  # Core executemany: rowcount is the rows inserted
    return result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(rows)


def campaign_times(session: Session, member_ids: Sequence[int], since: datetime) -> dict[int, list[datetime]]:
    """Each member's campaign emails from `since` on: when sent, or when due if not sent yet."""
    out: dict[int, list[datetime]] = {}
    live = [OutboxState.SENT.value, OutboxState.QUEUED.value, OutboxState.DEFERRED.value,
            OutboxState.SENDING.value]
    at = func.coalesce(Outbox.sent_at, Outbox.not_before)
    for i in range(0, len(member_ids), 1000):
        chunk = member_ids[i:i + 1000]
        query = (select(Outbox.member_id, at)
                 .where(Outbox.member_id.in_(chunk), Outbox.status.in_(live), at >= since,
                        ~_transactional_clause()))
        for mid, when in session.execute(query):
            if mid is not None:
                out.setdefault(mid, []).append(_aware(when))
    return out


def _aware(value: Any) -> datetime:
    # coalesce() loses the column type on SQLite: parse and mark UTC as UtcDateTime would.
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _transactional_clause() -> Any:
    return or_(*(Outbox.step.like(p + "%") for p in TRANSACTIONAL_PREFIXES))


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


def claim(session: Session, now: datetime, limit: int, *, transactional_only: bool = False) -> list[Claimed]:
    """Take up to `limit` due rows for sending; rows for members who may not be mailed are skipped.

    On PostgreSQL rows locked by another worker are passed over (SKIP LOCKED);
    on SQLite the transaction holds the write lock from its start (BEGIN
    IMMEDIATE), so two claims run one after the other. `transactional_only`
    (quiet hours) takes receipts and notices only.
    """
    if limit <= 0:
        return []
    query = (
        select(Outbox.id, Outbox.campaign_id, Outbox.step, Outbox.attempts, Outbox.payload,
               Member.id, Member.email, Member.name, Member.language, Member.status, Member.paused_until)
        .join(Member, Member.id == Outbox.member_id, isouter=True)
        .where(Outbox.status.in_([s.value for s in CLAIMABLE]), Outbox.not_before <= now)
        .order_by(Outbox.not_before, Outbox.id)
        .limit(limit)
    )
    if transactional_only:
        query = query.where(_transactional_clause())
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Outbox, skip_locked=True)
    claimed: list[Claimed] = []
    sending: list[int] = []
    skipped: list[dict[str, Any]] = []
    for oid, cid, step, attempts, payload, mid, email, name, lang, status, paused_until in session.execute(query):
        data = json.loads(payload) if payload else {}
        to = data.get("to") if step.startswith(ADDRESSED_PREFIX) else None
        if isinstance(to, dict) and to.get("email"):
            # A sign-up confirmation (no member yet) or a change of address (sent to the new one).
            why = None if mid is None or status != MemberStatus.ERASED else "member erased"
            recipient = Recipient(mid or 0, str(to["email"]), to.get("name") or name, to.get("language") or lang
                                  or "nb")
        else:
            why = _why_not(step, mid, email, status, paused_until, now)
            recipient = Recipient(mid, email or "", name, lang)
        if why:
            skipped.append({"oid": oid, "why": why})
            continue
        sending.append(oid)
        # Interned: composing caches rendered pieces per (campaign, step) by identity, and each row
        # read from the database is a new string; without this every email is rendered from scratch.
        claimed.append(Claimed(oid, sys.intern(cid), sys.intern(step), attempts, data, recipient))
    assert OutboxState.QUEUED.can_move(OutboxState.SENDING) and OutboxState.DEFERRED.can_move(OutboxState.SENDING)
    if sending:
        session.execute(update(Outbox).where(Outbox.id.in_(sending))
                        .values(status=OutboxState.SENDING.value, claimed_at=now))
    if skipped:
        assert OutboxState.QUEUED.can_move(OutboxState.SKIPPED)
        session.connection().execute(  # claimed_at: when it was passed over (the ledger shows it)
            update(Outbox).where(Outbox.id == bindparam("oid"))
            .values(status=OutboxState.SKIPPED.value, smtp_response=bindparam("why"), claimed_at=now), skipped)
    return claimed


def hold_rate(session: Session) -> None:
    """Serialise claims that count the rate-limit windows (PostgreSQL; SQLite claims are serial anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))"), {"k": _RATE_LOCK})


def used_in_windows(session: Session, now: datetime, windows: Iterable[timedelta]) -> list[tuple[timedelta, int]]:
    """How many emails were handed to the relay (claimed) in each window up to `now`, by all workers."""
    out = []
    for w in windows:
        n = session.scalar(
            select(func.count()).select_from(Outbox)
            .where(Outbox.claimed_at > now - w, Outbox.claimed_at <= now,
                   Outbox.status != OutboxState.SKIPPED.value)
        ) or 0
        out.append((w, n))
    return out


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
    result = _rows(session.execute(
        update(Outbox).where(Outbox.id == outbox_id, Outbox.status == OutboxState.SENDING.value)
        .values(status=to.value, **values)
    ))
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


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed row; recorded with others in one statement (`record`)."""

    outbox_id: int
    state: OutboxState  # SENT, DEFERRED or FAILED
    at: datetime  # sent_at / failed at; for DEFERRED the retry time
    response: str
    message_id: str | None = None


def record(session: Session, outcomes: Sequence[Outcome]) -> int:
    """Record many outcomes at once (one executemany per state); returns how many rows moved.

    Like `_move`, a row moves only out of "sending", so an outcome that
    arrives after the sweeper re-queued the row changes nothing.
    """
    moved = 0
    for state in (OutboxState.SENT, OutboxState.DEFERRED, OutboxState.FAILED):
        group = [o for o in outcomes if o.state == state]
        if not group:
            continue
        assert OutboxState.SENDING.can_move(state)
        values: dict[str, Any] = {"status": state.value, "smtp_response": bindparam("r"),
                                  "attempts": Outbox.attempts + 1}
        if state == OutboxState.DEFERRED:
            values["not_before"] = bindparam("at")
        else:
            values["sent_at"] = bindparam("at")
        if state == OutboxState.SENT:
            values["message_id"] = bindparam("mid")
        stmt = (update(Outbox)
                .where(Outbox.id == bindparam("oid"), Outbox.status == OutboxState.SENDING.value)
                .values(**values))
        params = [{"oid": o.outbox_id, "r": o.response[:1000], "at": o.at, "mid": o.message_id} for o in group]
        result = session.connection().execute(stmt, params)
        moved += result.rowcount if result.rowcount and result.rowcount > 0 else 0
    return moved


def release(session: Session, outbox_ids: Sequence[int], retry_at: datetime) -> int:
    """Hand claimed rows back untried (the relay is down, the worker stops): no attempt counted."""
    assert OutboxState.SENDING.can_move(OutboxState.QUEUED)
    result = _rows(session.execute(
        update(Outbox).where(Outbox.id.in_(list(outbox_ids)), Outbox.status == OutboxState.SENDING.value)
        .values(status=OutboxState.QUEUED.value, claimed_at=None, not_before=retry_at, smtp_response=None)
    ))
    return result.rowcount or 0


def sweep(session: Session, now: datetime, timeout: timedelta) -> int:
    """Return rows stuck in "sending" (their worker died) to the queue."""
    result = _rows(session.execute(
        update(Outbox).where(Outbox.status == OutboxState.SENDING.value, Outbox.claimed_at < now - timeout)
        .values(status=OutboxState.QUEUED.value, claimed_at=None)
    ))
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


_OUTBOX = cast(Table, Outbox.__table__)
# Core statements built once: both are asked for every reply (the inbound reader's hot path).
_AUTOMATIC_SINCE = select(func.count()).select_from(_OUTBOX).where(
    _OUTBOX.c.member_id == bindparam("member_id"), _OUTBOX.c.created_at >= bindparam("since"),
    _OUTBOX.c.step.like("receipt-%") | _OUTBOX.c.step.like("notice-%"))
_ADDRESSED = select(_OUTBOX.c.id, _OUTBOX.c.member_id, _OUTBOX.c.campaign_id, _OUTBOX.c.step).where(
    _OUTBOX.c.id == bindparam("id"))


def automatic_answers_since(session: Session, member_id: int, since: datetime) -> int:
    return session.connection().execute(_AUTOMATIC_SINCE, {"member_id": member_id, "since": since}).scalar() or 0


@dataclass(frozen=True)
class Addressed:
    """Whom and what an outbox row was: what a reply carrying its token answers."""

    id: int
    member_id: int | None
    campaign_id: str
    step: str


def addressed(session: Session, outbox_id: int) -> Addressed | None:
    row = session.connection().execute(_ADDRESSED, {"id": outbox_id}).first()
    return Addressed(row.id, row.member_id, row.campaign_id, row.step) if row is not None else None


# ---------------------------------------------------------------- the send ledger

LEDGER_STATES = (OutboxState.SENT, OutboxState.FAILED, OutboxState.DEFERRED, OutboxState.SKIPPED)


@dataclass(frozen=True)
class LedgerEntry:
    """One email as the relay (or the suppression check) answered it."""

    outbox_id: int
    at: datetime  # sent or failed at; for deferred and skipped, when it was last tried
    campaign_id: str
    step: str
    member_id: int | None
    email: str | None  # None: the member was erased
    status: str
    attempts: int
    response: str | None  # the server's answer (or why it was skipped)
    message_id: str | None
    retry_at: datetime | None  # deferred: when it is tried again


def ledger(transaction: Callable[[], AbstractContextManager[Session]], *, campaign_id: str | None = None,
           member_id: int | None = None, since: datetime | None = None, page: int = 500) -> Iterator[LedgerEntry]:
    """Who was sent what and when, with the server's answer, oldest first, `page` rows at a time.

    Streams: one short transaction (`store.transaction`) per page, keyset-paginated
    by id, so the outbox is never loaded whole and senders are not held up meanwhile.
    """
    last = 0
    while True:
        with transaction() as session:
            entries = ledger_page(session, after=last, campaign_id=campaign_id, member_id=member_id, since=since,
                                  page=page)
        yield from entries
        if len(entries) < page:
            return
        last = entries[-1].outbox_id


def ledger_page(session: Session, *, after: int = 0, campaign_id: str | None = None, member_id: int | None = None,
                since: datetime | None = None, page: int = 500) -> list[LedgerEntry]:
    """Up to `page` ledger entries with ids above `after`; `since` uses the indexes on sent_at and claimed_at."""
    query = (select(Outbox.id, Outbox.sent_at, Outbox.claimed_at, Outbox.campaign_id, Outbox.step,
                    Outbox.member_id, Member.email, Outbox.status, Outbox.attempts, Outbox.smtp_response,
                    Outbox.message_id, Outbox.not_before)
             .join(Member, Member.id == Outbox.member_id, isouter=True)
             .where(Outbox.id > after, Outbox.status.in_([st.value for st in LEDGER_STATES]))
             .order_by(Outbox.id).limit(page))
    if campaign_id is not None:
        query = query.where(Outbox.campaign_id == campaign_id)
    if member_id is not None:
        query = query.where(Outbox.member_id == member_id)
    if since is not None:
        query = query.where(or_(Outbox.sent_at >= since, and_(Outbox.sent_at.is_(None), Outbox.claimed_at >= since)))
    out = []
    for (oid, sent_at, claimed_at, cid, step, mid, email, status, attempts, response, message_id,
         not_before) in session.execute(query):
        out.append(LedgerEntry(oid, sent_at or claimed_at or not_before, cid, step, mid, email, status, attempts,
                               response, message_id, not_before if status == OutboxState.DEFERRED.value else None))
    return out


def has_campaign(session: Session, campaign_id: str) -> bool:
    """Whether the outbox holds any email of this campaign (also one whose file is gone)."""
    return session.scalar(select(Outbox.id).where(Outbox.campaign_id == campaign_id).limit(1)) is not None


@dataclass(frozen=True)
class HeldBack:
    """Emails of one step the planner deferred (quiet hours or the weekly budget), and until when."""

    campaign_id: str
    step: str
    why: str  # pacing.QUIET_HOURS or pacing.WEEKLY_BUDGET
    count: int
    first: datetime  # the earliest of them goes then
    until: datetime  # the last of them goes then


def held_back(session: Session, now: datetime) -> list[HeldBack]:
    """Queued emails whose `not_before` the planner pushed past `now`, by campaign, step and reason."""
    query = (select(Outbox.campaign_id, Outbox.step, Outbox.smtp_response, func.count(), func.min(Outbox.not_before),
                    func.max(Outbox.not_before))
             .where(Outbox.status == OutboxState.QUEUED.value, Outbox.not_before > now,
                    Outbox.smtp_response.in_([QUIET_HOURS, WEEKLY_BUDGET]))
             .group_by(Outbox.campaign_id, Outbox.step, Outbox.smtp_response)
             .order_by(Outbox.campaign_id, Outbox.step, Outbox.smtp_response))
    return [HeldBack(cid, step, why or "", n, _aware(first), _aware(last))
            for cid, step, why, n, first, last in session.execute(query)]
