"""Inbound messages: stored raw first, read later, never lost.

`store_raw` is what every receiving edge (local SMTP, LMTP, IMAP) calls
before it acknowledges a message; the digest makes a second delivery of the
same bytes a no-op, so a message arriving twice is processed once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mailbot.states import InboundState
from mailbot.store.models import Inbound

# Header fields added on the way (by MTAs, filters and mailbox servers), not by the sender: the
# same message fetched over IMAP and delivered over LMTP differs only in these.
TRACE_FIELDS = frozenset({
    "received", "return-path", "delivered-to", "x-original-to", "x-delivered-to", "envelope-to",
    "x-envelope-from", "x-envelope-to", "x-rcpt-to", "received-spf", "authentication-results",
    "x-spam-status", "x-spam-flag", "x-spam-score", "x-spam-level", "x-virus-scanned", "status", "x-status",
    "x-uid", "x-keywords", "content-length", "lines",
})
TRACE_PREFIXES = ("arc-", "x-ms-exchange-", "x-microsoft-antispam", "x-forefront-", "x-google-", "x-gm-")


def digest_of(raw: bytes) -> str:
    """SHA-256 without trace header fields, LF line ends, trailing blank lines dropped: one digest per
    message whichever path (SMTP, LMTP, IMAP) brought it; any change the sender made gives another."""
    text = raw.replace(b"\r\n", b"\n")
    head, _, body = text.partition(b"\n\n")
    kept: list[bytes] = []
    keep = True
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):  # a folded continuation belongs to the field above
            if keep:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower().decode("latin-1")
        keep = name not in TRACE_FIELDS and not name.startswith(TRACE_PREFIXES)
        if keep:
            kept.append(line)
    return hashlib.sha256(b"\n".join(kept) + b"\n\n" + body.rstrip(b"\n")).hexdigest()


_INSERTS: dict[str, Any] = {}


def _insert_statement(dialect: str) -> Any:
    """Built once per dialect on the Core table: the ORM-enabled insert cost ~2 ms a message."""
    if dialect not in _INSERTS:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = cast(Table, Inbound.__table__)
        _INSERTS[dialect] = (insert(table).on_conflict_do_nothing(index_elements=["digest"])
                             .returning(table.c.id))
    return _INSERTS[dialect]


def store_raw(session: Session, raw: bytes, *, via: str, now: datetime, envelope_from: str | None = None,
              envelope_to: Sequence[str] = ()) -> int | None:
    """Keep the message; returns its id, or None if the same message was stored before."""
    stmt = _insert_statement(session.get_bind().dialect.name)
    values = {"received_at": now, "via": via, "envelope_from": envelope_from,
              "envelope_to": ",".join(envelope_to) or None, "digest": digest_of(raw), "raw": raw,
              "status": InboundState.NEW.value}
    return session.connection().execute(stmt, values).scalar()


def new_ids(session: Session, limit: int = 500) -> list[int]:
    return list(session.scalars(
        select(Inbound.id).where(Inbound.status == InboundState.NEW.value).order_by(Inbound.id).limit(limit)
    ))


def new_ids_after(session: Session, after: int, limit: int = 500) -> list[int]:
    """Ids of new messages above `after`, in order: a reader walks forward and never loops on a message
    another reader holds."""
    return list(session.scalars(
        select(Inbound.id).where(Inbound.status == InboundState.NEW.value, Inbound.id > after)
        .order_by(Inbound.id).limit(limit)
    ))


def get(session: Session, inbound_id: int) -> Inbound | None:
    return session.get(Inbound, inbound_id)


@dataclass(frozen=True)
class NewMessage:
    """What the reader needs of a stored message (a Core row, not an ORM object)."""

    id: int
    raw: bytes
    envelope_from: str | None
    envelope_to: str | None


_TABLE = cast(Table, Inbound.__table__)
_CLAIM = select(_TABLE.c.id, _TABLE.c.raw, _TABLE.c.envelope_from, _TABLE.c.envelope_to).where(
    _TABLE.c.id == bindparam("id"), _TABLE.c.status == InboundState.NEW.value)
_CLAIM_LOCKED = _CLAIM.with_for_update(skip_locked=True)


def claim_new(session: Session, inbound_id: int) -> NewMessage | None:
    """The message if it is still new, locked until the transaction ends; None if it was settled, or (on
    PostgreSQL) another reader holds it: two readers never act on one message."""
    stmt = _CLAIM_LOCKED if session.get_bind().dialect.name == "postgresql" else _CLAIM
    row = session.connection().execute(stmt, {"id": inbound_id}).first()
    if row is None:
        return None
    return NewMessage(row.id, row.raw or b"", row.envelope_from, row.envelope_to)


_SETTLE = update(_TABLE).where(_TABLE.c.id == bindparam("inbound_id")).values(
    status=bindparam("status"), kind=bindparam("kind"), member_id=bindparam("member_id"),
    campaign_id=bindparam("campaign_id"), outbox_id=bindparam("outbox_id"), reason=bindparam("reason"),
    processed_at=bindparam("processed_at"))


def settle(session: Session, inbound_id: int, state: InboundState, now: datetime, *, kind: str | None = None,
           member_id: int | None = None, campaign_id: str | None = None, outbox_id: int | None = None,
           reason: str | None = None) -> None:
    session.connection().execute(_SETTLE, {
        "inbound_id": inbound_id, "status": state.value, "kind": kind, "member_id": member_id,
        "campaign_id": campaign_id, "outbox_id": outbox_id, "reason": reason, "processed_at": now})


def needing_a_human(session: Session) -> list[Inbound]:
    return list(session.scalars(
        select(Inbound).where(Inbound.status == InboundState.NEEDS_HUMAN.value).order_by(Inbound.id)
    ))


def forget_raw_before(session: Session, cutoff: datetime) -> int:
    """Retention: drop the raw bytes of processed messages older than `cutoff`."""
    result = session.connection().execute(
        update(Inbound).where(Inbound.received_at < cutoff, Inbound.raw.is_not(None),
                              Inbound.status != InboundState.NEW.value).values(raw=None)
    )
    return result.rowcount or 0
