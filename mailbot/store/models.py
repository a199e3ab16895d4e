"""The database tables (SQLAlchemy 2 typed models). Schema changes go through Alembic.

States are stored as short strings (portable across SQLite and PostgreSQL);
the allowed values and transitions live in `mailbot.states`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names so migrations work the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Outbox ids are referenced in tokens; BIGINT on PostgreSQL, INTEGER (rowid) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which keeps no zone) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime()}


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)  # None once erased
    name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5), default="nb")
    birth_year: Mapped[int | None] = mapped_column(Integer)
    postcode: Mapped[str | None] = mapped_column(String(10))
    gender: Mapped[str | None] = mapped_column(String(10))  # kvinne, mann, annet (mailbot.roster.GENDERS)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    paused_until: Mapped[datetime | None] = mapped_column()
    joined_at: Mapped[datetime] = mapped_column()
    changed_at: Mapped[datetime] = mapped_column()


class MemberTag(Base):
    __tablename__ = "member_tags"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)

    __table_args__ = (Index("ix_member_tags_tag", "tag"),)


class CampaignStep(Base):
    """A step of a campaign (invitation, reminder-1, close, results) that has been carried out."""

    __tablename__ = "campaign_steps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(100))
    step: Mapped[str] = mapped_column(String(60))
    done_at: Mapped[datetime] = mapped_column()
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("campaign_id", "step", name="uq_campaign_steps_campaign_step"),)


class Outbox(Base):
    """One email to one member for one campaign step; unique, so nothing is sent twice."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(100))
    step: Mapped[str] = mapped_column(String(60))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    message_id: Mapped[str | None] = mapped_column(String(250))
    smtp_response: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(Text)  # JSON context for one-off mails (receipts)
    created_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        UniqueConstraint("campaign_id", "step", "member_id", name="uq_outbox_campaign_step_member"),
        Index("ix_outbox_status_not_before", "status", "not_before"),
        Index("ix_outbox_member", "member_id"),
        Index("ix_outbox_claimed_at", "claimed_at"),  # rate-limit windows (0007)
        Index("ix_outbox_sent_at", "sent_at"),  # the ledger by time (0007)
    )


class Inbound(Base):
    """A message as it arrived, stored raw before anything reads it."""

    __tablename__ = "inbound"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[datetime] = mapped_column()
    via: Mapped[str] = mapped_column(String(10))  # smtp, lmtp, imap, local
    envelope_from: Mapped[str | None] = mapped_column(String(320))
    envelope_to: Mapped[str | None] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # same message twice -> processed once
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # None after the retention period
    status: Mapped[str] = mapped_column(String(12), default="new", index=True)
    kind: Mapped[str | None] = mapped_column(String(12))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    campaign_id: Mapped[str | None] = mapped_column(String(100))
    outbox_id: Mapped[int | None] = mapped_column(BigId)
    reason: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column()


class Response(Base):
    """A member's answers to one campaign. member_id is None once the member is erased."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(100))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    # reply, click, staff, read-back-confirmed, read-back-corrected, read-back-unconfirmed (0008: 30 wide)
    source: Mapped[str] = mapped_column(String(30))
    after_step: Mapped[str | None] = mapped_column(String(60))  # invitation, reminder-1, …
    first_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        UniqueConstraint("campaign_id", "member_id", name="uq_responses_campaign_member"),
        Index("ix_responses_campaign_source", "campaign_id", "source", "after_step"),  # migration 0003
    )


class Answer(Base):
    """One answered question; a multi question has one row per chosen option."""

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    campaign_id: Mapped[str] = mapped_column(String(100))
    question_id: Mapped[str] = mapped_column(String(60))
    choice: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_answers_campaign_question_choice", "campaign_id", "question_id", "choice"),
        Index("ix_answers_response", "response_id"),
        # Migration 0003: weighted sums and segment queries read answers from this index alone.
        Index("ix_answers_aggregate", "campaign_id", "question_id", "choice", "number", "response_id"),
    )


class AnswerCount(Base):
    """Answers per question and value (option text or str(scale value)) of one campaign.

    Kept by `mailbot.store.answer_counts` in the same transaction as the answers
    it counts (`responses.record`), so results read a few hundred rows instead of
    millions of answers; always equal to a GROUP BY over `answers`. A count
    that drops to 0 keeps its row.
    """

    __tablename__ = "answer_counts"

    campaign_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class RespondentCount(Base):
    """Responses with at least one answer, per question; question_id "" counts the whole campaign.

    Kept with `AnswerCount`. Erasing a member leaves both unchanged: the
    anonymous answers keep counting.
    """

    __tablename__ = "respondent_counts"

    campaign_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class ReportCellScheme(Base):
    """How one campaign's respondents are divided into report cells (age band x gender x district).

    `definition` is the JSON of `mailbot.store.report_cells.CellScheme` (the survey's opening day, the
    age bands and districts of config.toml, population.toml's genders and gender tags); `fingerprint`
    its SHA-256. `report_cell_counts` is kept for this scheme only; another scheme rebuilds it.
    """

    __tablename__ = "report_cell_schemes"

    campaign_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    definition: Mapped[str] = mapped_column(Text)
    built_at: Mapped[datetime] = mapped_column()


class ReportCellCount(Base):
    """Answers counted per report cell: what the segment tables and the weighted figures need.

    A cell is (age_band, gender, district) under the campaign's `ReportCellScheme`, "" for unknown (no
    birth year, postcode or gender; erased). `kind` "r": responses with at least one answer to
    `question_id` ("" = to any question); "n": answer rows of `question_id`; "v": answer rows of
    `question_id` with `value` (option text or str(scale value), as `AnswerCount`). Kept by
    `mailbot.store.report_cells` in the transaction that changes the answers or the member's profile;
    always equal to a GROUP BY over `answers` joined to the members (tests compare the two).
    """

    __tablename__ = "report_cell_counts"

    campaign_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    age_band: Mapped[str] = mapped_column(String(100), primary_key=True)
    gender: Mapped[str] = mapped_column(String(100), primary_key=True)
    district: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class ReadBack(Base):
    """A reply read with less than full confidence, read back to the resident before anything is recorded.

    One row per reading; `status` moves only from "waiting" (`mailbot.store.read_backs.ReadBackState`).
    The answers are kept here, not in `responses`, until the resident confirms or corrects them, a newer
    reply replaces them, or the survey closes (`[replies] unconfirmed_at_close`).
    """

    __tablename__ = "read_backs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(100))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    inbound_id: Mapped[int] = mapped_column(BigId)  # the reply that was read
    outbox_id: Mapped[int | None] = mapped_column(BigId)  # the read-back email, once queued
    after_step: Mapped[str | None] = mapped_column(String(60))  # what the reply answered (invitation, …)
    source: Mapped[str] = mapped_column(String(30))  # what a confirmation records: read-back-confirmed/-corrected
    answers: Mapped[str] = mapped_column(Text)  # JSON: question id -> value (a list for multi)
    confirm: Mapped[str] = mapped_column(Text)  # JSON: the question ids read with less than full confidence
    unsure: Mapped[str] = mapped_column(Text)  # JSON: question id -> why it could not be read
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    created_at: Mapped[datetime] = mapped_column()
    settled_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        Index("ix_read_backs_campaign_status", "campaign_id", "status"),
        Index("ix_read_backs_member", "member_id"),  # erasure forgets a member's readings
        # At most one reading waits per member and survey: a newer reply replaces it (0008).
        Index("uq_read_backs_waiting", "campaign_id", "member_id", unique=True,
              postgresql_where=sql_text("status = 'waiting'"), sqlite_where=sql_text("status = 'waiting'")),
    )
