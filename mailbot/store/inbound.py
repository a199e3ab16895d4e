"""Inbound messages: stored raw first, read later, never lost.

`store_raw` is what every receiving edge (local SMTP, LMTP, IMAP) calls
before it acknowledges a message; the digest makes a second delivery of the
same bytes a no-op, so a message arriving twice is processed once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mailbot.states import InboundState
from mailbot.store.models import Inbound


def digest_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def store_raw(session: Session, raw: bytes, *, via: str, now: datetime, envelope_from: str | None = None,
              envelope_to: Sequence[str] = ()) -> int | None:
    """Keep the message; returns its id, or None if the same message was stored before."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(Inbound).values(
        received_at=now, via=via, envelope_from=envelope_from, envelope_to=",".join(envelope_to) or None,
        digest=digest_of(raw), raw=raw, status=InboundState.NEW.value,
    ).on_conflict_do_nothing(index_elements=["digest"]).returning(Inbound.id)
    return session.scalar(stmt)


def new_ids(session: Session, limit: int = 500) -> list[int]:
    return list(session.scalars(
        select(Inbound.id).where(Inbound.status == InboundState.NEW.value).order_by(Inbound.id).limit(limit)
    ))


def get(session: Session, inbound_id: int) -> Inbound | None:
    return session.get(Inbound, inbound_id)


def settle(session: Session, inbound_id: int, state: InboundState, now: datetime, *, kind: str | None = None,
           member_id: int | None = None, campaign_id: str | None = None, outbox_id: int | None = None,
           reason: str | None = None) -> None:
    session.execute(
        update(Inbound).where(Inbound.id == inbound_id).values(
            status=state.value, kind=kind, member_id=member_id, campaign_id=campaign_id, outbox_id=outbox_id,
            reason=reason, processed_at=now,
        )
    )


def needing_a_human(session: Session) -> list[Inbound]:
    return list(session.scalars(
        select(Inbound).where(Inbound.status == InboundState.NEEDS_HUMAN.value).order_by(Inbound.id)
    ))


def forget_raw_before(session: Session, cutoff: datetime) -> int:
    """Retention: drop the raw bytes of processed messages older than `cutoff`."""
    result = session.execute(
        update(Inbound).where(Inbound.received_at < cutoff, Inbound.raw.is_not(None),
                              Inbound.status != InboundState.NEW.value).values(raw=None)
    )
    return result.rowcount or 0
