"""Tables for the membership life cycle: sign-ups waiting for confirmation, consent, email changes, staff audit.

They share `mailbot.store.models.Base` so Alembic sees one metadata. Only
`mailbot.membership` reads and writes them.

The staff audit log is kept apart on purpose: no foreign key to `members`
(an erasure must not erase the record that it happened) and no address or
name in it, only the member id, which names nobody once the member is erased.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mailbot.store.models import Base, BigId


class Signup(Base):
    """Someone asked to join; becomes a member only when the link in the confirmation email is used."""

    __tablename__ = "signups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), index=True)  # None once purged
    language: Mapped[str] = mapped_column(String(5), default="nb")
    birth_year: Mapped[int | None] = mapped_column(Integer)
    postcode: Mapped[str | None] = mapped_column(String(10))
    via: Mapped[str] = mapped_column(String(10))  # web, email
    consent_version: Mapped[str | None] = mapped_column(String(40))  # given on the web form already
    consent_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    confirmed_at: Mapped[datetime | None] = mapped_column()
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))


class Consent(Base):
    """A member's consent: when, how (web, email, rejoin) and to which wording, word for word."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    given_at: Mapped[datetime] = mapped_column()
    via: Mapped[str] = mapped_column(String(20))
    wording_version: Mapped[str] = mapped_column(String(40))
    wording_language: Mapped[str] = mapped_column(String(5))
    wording: Mapped[str] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (Index("ix_consents_member", "member_id"),)


class EmailChange(Base):
    """A member asked to move to a new address; it takes effect when confirmed from that address."""

    __tablename__ = "email_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    new_email: Mapped[str | None] = mapped_column(String(320))  # None once purged
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    confirmed_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (Index("ix_email_changes_member", "member_id"),)


class StaffAudit(Base):
    """What staff (or the resident, for erasure) did with personal data: export, erase, manual answer, import."""

    __tablename__ = "staff_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column()
    actor: Mapped[str] = mapped_column(String(120))  # staff login name, "resident", "system"
    action: Mapped[str] = mapped_column(String(30), index=True)  # export, erase, manual-answer, import
    member_id: Mapped[int | None] = mapped_column(BigId)  # no foreign key: survives the erasure it records
    detail: Mapped[str | None] = mapped_column(Text)
