"""Small factories for test data, in the style of GOV.UK Notify's tests/app/db.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from mailbot.store.models import Member, MemberTag

T0 = datetime(2022, 11, 1, tzinfo=UTC)


def create_member(session: Session, email: str = "kari.nordmann@example.no", *, name: str | None = "Kari Nordmann",
                  language: str = "nb", birth_year: int | None = 1970, postcode: str | None = "1338",
                  status: str = "active", tags: tuple[str, ...] = (), paused_until: datetime | None = None) -> Member:
    m = Member(email=email, name=name, language=language, birth_year=birth_year, postcode=postcode, status=status,
               paused_until=paused_until, joined_at=T0, changed_at=T0)
    session.add(m)
    session.flush()
    for t in tags:
        session.add(MemberTag(member_id=m.id, tag=t))
    session.flush()
    return m


def create_members(session: Session, n: int, **kw: object) -> list[Member]:
    return [create_member(session, f"beboer{i}@example.no", name=f"Beboer {i}", **kw) for i in range(n)]  # type: ignore[arg-type]


@dataclass(frozen=True)
class Row:
    """A roster row as `upsert_members` reads it (the shape of `mailbot.roster.RosterRow`)."""

    email: str
    name: str | None = "Kari Nordmann"
    language: str | None = "nb"
    birth_year: int | None = 1960
    postcode: str | None = "1338"
    tags: tuple[str, ...] = ()
