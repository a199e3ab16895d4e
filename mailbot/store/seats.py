"""Seats: who has a place in which workshop or cohort, who waits, who was offered a freed seat.

One `SeatGroup` row per workshop/cohort/committee holds its capacity; it is
the row every allocation locks (`SELECT … FOR UPDATE` on PostgreSQL; on
SQLite the whole transaction already holds the write lock from BEGIN
IMMEDIATE). Under that lock the seats held are counted and the member's
`Enrolment` is written, so concurrent replies and clicks can never seat more
people than there are seats: the second waits for the first to commit and
then counts its seat.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from mailbot.campaigns import Cohort, Course, Lesson
from mailbot.states import OutboxState
from mailbot.store.models import Base, BigId, Outbox


class SeatState(StrEnum):
    VOLUNTEERED = "volunteered"  # said yes; waits for the draw (lottery, stratified, approval)
    SEATED = "seated"
    OFFERED = "offered"  # a freed seat held for a waitlisted member until `offer_expires`
    WAITLISTED = "waitlisted"
    PAUSED = "paused"  # a course participant taking a break: keeps the seat, gets no lessons
    DECLINED = "declined"  # said no, cancelled, or left: the seat is free
    EXPIRED = "expired"  # did not answer an offer in time

    @property
    def holds_seat(self) -> bool:
        return self in HOLDS_SEAT

    def can_move(self, to: SeatState) -> bool:
        return to in _MOVES[self]


HOLDS_SEAT = frozenset({SeatState.SEATED, SeatState.OFFERED, SeatState.PAUSED})
_ANY = frozenset(SeatState)
_MOVES: dict[SeatState, frozenset[SeatState]] = {
    SeatState.VOLUNTEERED: frozenset({SeatState.SEATED, SeatState.WAITLISTED, SeatState.DECLINED,
                                      SeatState.VOLUNTEERED}),
    SeatState.SEATED: frozenset({SeatState.SEATED, SeatState.PAUSED, SeatState.DECLINED}),
    SeatState.OFFERED: frozenset({SeatState.SEATED, SeatState.DECLINED, SeatState.EXPIRED}),
    SeatState.WAITLISTED: frozenset({SeatState.WAITLISTED, SeatState.SEATED, SeatState.OFFERED,
                                     SeatState.DECLINED}),
    SeatState.PAUSED: frozenset({SeatState.SEATED, SeatState.PAUSED, SeatState.DECLINED}),
    SeatState.DECLINED: _ANY,  # may say yes again
    SeatState.EXPIRED: _ANY,
}


class SeatGroup(Base):
    """A workshop, a cohort or a committee: the row allocations lock."""

    __tablename__ = "seat_groups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(100))
    group_id: Mapped[str] = mapped_column(String(60))
    capacity: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    starts: Mapped[datetime | None] = mapped_column()  # as last seen in the file: a change means it moved
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE: raised on every move

    __table_args__ = (UniqueConstraint("campaign_id", "group_id", name="uq_seat_groups_campaign_group"),)


class Enrolment(Base):
    """One member's place (or wish for one) in a course or recruitment; one row per member per campaign."""

    __tablename__ = "enrolments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(100))
    group_id: Mapped[str] = mapped_column(String(60))  # cohort or meeting; "" while any would do
    wants: Mapped[str] = mapped_column(String(60), default="")  # the meeting asked for; "" = any
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12))
    queued_at: Mapped[datetime] = mapped_column()  # waitlist order: first asked, first offered
    offer_expires: Mapped[datetime | None] = mapped_column()
    skip_lesson: Mapped[int | None] = mapped_column(Integer)  # a course member skipping one lesson
    answered_at: Mapped[datetime | None] = mapped_column()  # the response last acted on
    changed_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        UniqueConstraint("campaign_id", "member_id", name="uq_enrolments_campaign_member"),
        Index("ix_enrolments_group_status", "campaign_id", "group_id", "status", "queued_at"),
    )


# ---------------------------------------------------------------- groups


def ensure_groups(session: Session, campaign_id: str, capacities: Iterable[tuple[str, int | None]],
                  starts: dict[str, datetime | None] | None = None) -> list[tuple[str, int]]:
    """Create the seat groups of a campaign and follow what staff changed in its file.

    Returns the groups whose start time moved, each with its new SEQUENCE.
    """
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(SeatGroup)
    starts = starts or {}
    moved: list[tuple[str, int]] = []
    for group_id, capacity in capacities:
        session.execute(insert.values(campaign_id=campaign_id, group_id=group_id, capacity=capacity,
                                      starts=starts.get(group_id), sequence=0)
                        .on_conflict_do_nothing(index_elements=["campaign_id", "group_id"]))
        session.execute(update(SeatGroup).where(SeatGroup.campaign_id == campaign_id, SeatGroup.group_id == group_id,
                                                SeatGroup.capacity.is_distinct_from(capacity))
                        .values(capacity=capacity))
        if group_id in starts:
            new = starts[group_id]
            # A group first made by an answer has no start time yet: recording it is not a move.
            session.execute(update(SeatGroup).where(SeatGroup.campaign_id == campaign_id,
                                                    SeatGroup.group_id == group_id, SeatGroup.starts.is_(None))
                            .values(starts=new))
            result = session.execute(
                update(SeatGroup).where(SeatGroup.campaign_id == campaign_id, SeatGroup.group_id == group_id,
                                        SeatGroup.starts.is_distinct_from(new))
                .values(starts=new, sequence=SeatGroup.sequence + 1).returning(SeatGroup.sequence))
            for (sequence,) in result:
                moved.append((group_id, sequence))
    return moved


def sequence_of(session: Session, campaign_id: str, group_id: str) -> int:
    return session.scalar(select(SeatGroup.sequence).where(SeatGroup.campaign_id == campaign_id,
                                                           SeatGroup.group_id == group_id)) or 0


def lock_group(session: Session, campaign_id: str, group_id: str) -> SeatGroup | None:
    """The group row, locked until the transaction ends (PostgreSQL); SQLite holds its write lock already."""
    query = select(SeatGroup).where(SeatGroup.campaign_id == campaign_id, SeatGroup.group_id == group_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).first()


def held(session: Session, campaign_id: str, group_id: str) -> int:
    """Seats held in a group (seated, offered or paused), counted fresh: call under `lock_group`."""
    return session.scalar(
        select(func.count()).select_from(Enrolment)
        .where(Enrolment.campaign_id == campaign_id, Enrolment.group_id == group_id,
               Enrolment.status.in_([s.value for s in HOLDS_SEAT]))
    ) or 0


def free_seats(session: Session, campaign_id: str, group_id: str) -> int | None:
    """None: unlimited."""
    group = session.scalars(select(SeatGroup).where(SeatGroup.campaign_id == campaign_id,
                                                    SeatGroup.group_id == group_id)).first()
    if group is None or group.capacity is None:
        return None
    return max(0, group.capacity - held(session, campaign_id, group_id))


# ---------------------------------------------------------------- enrolments


def enrolment(session: Session, campaign_id: str, member_id: int, *, lock: bool = False) -> Enrolment | None:
    query = select(Enrolment).where(Enrolment.campaign_id == campaign_id, Enrolment.member_id == member_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).first()


def put(session: Session, campaign_id: str, member_id: int, group_id: str, status: SeatState, now: datetime, *,
        wants: str = "", offer_expires: datetime | None = None) -> Enrolment:
    """Write the member's enrolment (creating it on first answer). Callers hold the group lock."""
    row = enrolment(session, campaign_id, member_id)
    if row is None:
        row = Enrolment(campaign_id=campaign_id, member_id=member_id, group_id=group_id, wants=wants,
                        status=status.value, queued_at=now, offer_expires=offer_expires, changed_at=now)
        session.add(row)
    else:
        before = SeatState(row.status)
        if not before.can_move(status):
            raise ValueError(f"an enrolment cannot go from {before} to {status}")
        if status == SeatState.WAITLISTED and before != SeatState.WAITLISTED:
            row.queued_at = now  # back of the queue
        row.group_id, row.wants, row.status = group_id, wants, status.value
        row.offer_expires, row.changed_at = offer_expires, now
        if status != SeatState.SEATED:
            row.skip_lesson = None
    session.flush()
    return row


def next_waiting(session: Session, campaign_id: str, group_id: str) -> Enrolment | None:
    """The first on the waitlist for this group: asked for it, or for any group."""
    return session.scalars(
        select(Enrolment)
        .where(Enrolment.campaign_id == campaign_id, Enrolment.status == SeatState.WAITLISTED.value,
               Enrolment.wants.in_([group_id, ""]))
        .order_by(Enrolment.queued_at, Enrolment.id).limit(1)
    ).first()


def expired_offers(session: Session, campaign_id: str, now: datetime) -> list[Enrolment]:
    return list(session.scalars(
        select(Enrolment).where(Enrolment.campaign_id == campaign_id, Enrolment.status == SeatState.OFFERED.value,
                                Enrolment.offer_expires <= now).order_by(Enrolment.offer_expires, Enrolment.id)
    ))


def members_in(session: Session, campaign_id: str, states: Iterable[SeatState], group_id: str | None = None
               ) -> list[int]:
    query = select(Enrolment.member_id).where(Enrolment.campaign_id == campaign_id,
                                              Enrolment.status.in_([s.value for s in states]))
    if group_id is not None:
        query = query.where(Enrolment.group_id == group_id)
    return [m for m in session.scalars(query.order_by(Enrolment.member_id)) if m is not None]


def all_enrolments(session: Session, campaign_id: str) -> list[Enrolment]:
    return list(session.scalars(select(Enrolment).where(Enrolment.campaign_id == campaign_id)
                                .order_by(Enrolment.queued_at, Enrolment.id)))


@dataclass(frozen=True)
class Count:
    group_id: str
    status: str
    members: int


def counts(session: Session, campaign_id: str) -> list[Count]:
    rows = session.execute(
        select(Enrolment.group_id, Enrolment.status, func.count())
        .where(Enrolment.campaign_id == campaign_id).group_by(Enrolment.group_id, Enrolment.status)
    )
    return [Count(g, s, n) for g, s, n in rows]


def members_sent(session: Session, campaign_id: str, step: str, batch: int = 1000) -> Iterator[list[int]]:
    """Members an email of this step was sent to, in id order, in batches."""
    last = 0
    while True:
        ids = [i for i in session.scalars(
            select(Outbox.member_id)
            .where(Outbox.campaign_id == campaign_id, Outbox.step == step,
                   Outbox.status == OutboxState.SENT.value, Outbox.member_id > last)
            .order_by(Outbox.member_id).limit(batch)) if i is not None]
        if not ids:
            return
        yield ids
        last = ids[-1]


def lesson_recipients(session: Session, course: Course, cohort: Cohort, lesson: Lesson) -> list[int]:
    """Seated members of the cohort, not pausing, not skipping this lesson; in member order."""
    rows = session.execute(
        select(Enrolment.member_id, Enrolment.skip_lesson)
        .where(Enrolment.campaign_id == course.id, Enrolment.group_id == cohort.id,
               Enrolment.status == SeatState.SEATED.value)
        .order_by(Enrolment.member_id)
    )
    return [m for m, skip in rows if m is not None and skip != lesson.number]
