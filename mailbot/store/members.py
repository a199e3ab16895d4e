"""Members in the database: import, look up, change status, stream audiences.

Only this module touches the `members` and `member_tags` tables for these
jobs; callers pass the `Session` from `Store.transaction()` and get plain
dataclasses back, never ORM rows. Work on many members is done in batches
(executemany, keyset pagination) so 100 000 residents import in seconds and an
audience is never loaded whole.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from mailbot import audience as audience_rules
from mailbot.campaigns import AnswerValue, Campaign
from mailbot.panel.settings import Settings
from mailbot.people import MemberProfile, MemberStatus, Recipient
from mailbot.store import report_cells
from mailbot.store.models import Answer, Member, MemberTag, Response

CHUNK = 500  # ids or addresses per IN (…): well below every driver's parameter limit


class RosterLike(Protocol):
    """What `upsert_members` reads from a row (a `mailbot.roster.RosterRow`); `gender` is read if present."""

    @property
    def email(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def language(self) -> str | None: ...
    @property
    def birth_year(self) -> int | None: ...
    @property
    def postcode(self) -> str | None: ...
    @property
    def tags(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class MemberRecord:
    """A member as stored, with tags; `email` is None once erased."""

    id: int
    email: str | None
    name: str | None
    language: str
    birth_year: int | None
    postcode: str | None
    status: MemberStatus
    status_reason: str | None
    paused_until: datetime | None
    joined_at: datetime
    changed_at: datetime
    tags: tuple[str, ...] = ()
    gender: str | None = None

    @property
    def recipient(self) -> Recipient | None:
        """Who to address an email to; None if erased."""
        if self.email is None:
            return None
        return Recipient(self.id, self.email, self.name, self.language)


class UnknownMember(LookupError):
    """No member has this id."""


# A status never left once reached: the personal data is gone.
FINAL = frozenset({MemberStatus.ERASED})

_FIELDS = ("name", "language", "birth_year", "postcode", "gender")


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def upsert_members(
    session: Session, rows: Iterable[RosterLike], now: datetime, *, default_language: str = "nb"
) -> tuple[int, int]:
    """Add new members and update existing ones (matched by email). Returns (added, updated).

    A value left empty in a row keeps what is stored; tags are added, never
    removed; the status (for example unsubscribed) is never changed by an import.
    `updated` counts members whose data or tags actually changed.
    """
    by_email: dict[str, RosterLike] = {}
    for row in rows:
        by_email.setdefault(row.email.strip().lower(), row)
    emails = list(by_email)

    existing: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(emails):
        result = session.execute(
            select(
                Member.id, Member.email, Member.name, Member.language, Member.birth_year, Member.postcode,
                Member.gender,
            ).where(Member.email.in_(chunk))
        )
        for m in result.mappings():
            existing[m["email"]] = dict(m)

    new_rows = [
        {
            "email": address,
            "name": row.name,
            "language": row.language or default_language,
            "birth_year": row.birth_year,
            "postcode": row.postcode,
            "gender": getattr(row, "gender", None),
            "status": MemberStatus.ACTIVE.value,
            "joined_at": now,
            "changed_at": now,
        }
        for address, row in by_email.items()
        if address not in existing
    ]
    new_ids: dict[str, int] = {}
    if new_rows:
        ids = session.scalars(
            insert(Member).returning(Member.id, sort_by_parameter_order=True), new_rows
        ).all()
        new_ids = {str(r["email"]): i for r, i in zip(new_rows, ids, strict=True)}

    changes: list[dict[str, Any]] = []
    changed_ids: set[int] = set()
    for address, current in existing.items():
        row = by_email[address]
        wanted = {f: getattr(row, f, None) for f in _FIELDS if getattr(row, f, None)}
        if any(current[f] != v for f, v in wanted.items()):
            changes.append(
                {"id": current["id"], **{f: current[f] for f in _FIELDS}, **wanted, "changed_at": now}
            )
            changed_ids.add(current["id"])
    have_tags: dict[int, set[str]] = {}
    old_ids = [m["id"] for m in existing.values()]
    for chunk in _chunks(old_ids):
        for member_id, tag in session.execute(
            select(MemberTag.member_id, MemberTag.tag).where(MemberTag.member_id.in_(chunk))
        ):
            have_tags.setdefault(member_id, set()).add(tag)
    tag_rows: list[dict[str, Any]] = []
    for address, row in by_email.items():
        member_id = new_ids.get(address) or existing[address]["id"]
        for tag in dict.fromkeys(row.tags):
            if tag not in have_tags.get(member_id, set()):
                tag_rows.append({"member_id": member_id, "tag": tag})
                if address in existing:
                    changed_ids.add(member_id)
    # Members already there whose birth year, postcode, gender or tags change: their answers move to their
    # new report cells (new members have no answers yet).
    with report_cells.moving(session, changed_ids):
        if changes:
            session.execute(update(Member), changes)
        if tag_rows:
            session.execute(insert(MemberTag), tag_rows)
    tagged_only = changed_ids - {c["id"] for c in changes}
    if tagged_only:
        for chunk in _chunks(sorted(tagged_only)):
            session.execute(update(Member).where(Member.id.in_(chunk)).values(changed_at=now))
    return len(new_rows), len(changed_ids)


def _record(m: Member, tags: Iterable[str]) -> MemberRecord:
    return MemberRecord(
        id=m.id,
        email=m.email,
        name=m.name,
        language=m.language,
        birth_year=m.birth_year,
        postcode=m.postcode,
        status=MemberStatus(m.status),
        status_reason=m.status_reason,
        paused_until=m.paused_until,
        joined_at=m.joined_at,
        changed_at=m.changed_at,
        tags=tuple(sorted(tags)),
        gender=m.gender,
    )


def _tags_of(session: Session, member_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for chunk in _chunks(member_ids):
        for member_id, tag in session.execute(
            select(MemberTag.member_id, MemberTag.tag)
            .where(MemberTag.member_id.in_(chunk))
            .order_by(MemberTag.tag)
        ):
            out.setdefault(member_id, []).append(tag)
    return out


def get_member(session: Session, member_id: int) -> MemberRecord | None:
    m = session.get(Member, member_id)
    if m is None:
        return None
    return _record(m, _tags_of(session, [m.id]).get(m.id, []))


_EMAIL_OF = select(Member.__table__.c.email).where(Member.__table__.c.id == bindparam("id"))


def email_of(session: Session, member_id: int) -> str | None:
    """The member's address (None when erased or unknown): Core, asked for every reply."""
    return session.connection().execute(_EMAIL_OF, {"id": member_id}).scalar()


def member_by_email(session: Session, email: str) -> MemberRecord | None:
    """The member with this address, compared case-insensitively; None if there is none."""
    address = email.strip().lower()
    if not address:
        return None
    m = session.scalars(select(Member).where(Member.email == address)).first()
    if m is None:  # a row stored by other means with capitals in it
        m = session.scalars(
            select(Member).where(func.lower(Member.email) == address).order_by(Member.id)
        ).first()
    if m is None:
        return None
    return _record(m, _tags_of(session, [m.id]).get(m.id, []))


def list_members(session: Session, *, after_id: int = 0, limit: int | None = None) -> list[MemberRecord]:
    """Members in id order (erased ones included, without personal data)."""
    query = select(Member).where(Member.id > after_id).order_by(Member.id)
    if limit is not None:
        query = query.limit(limit)
    members = list(session.scalars(query))
    tags = _tags_of(session, [m.id for m in members])
    return [_record(m, tags.get(m.id, [])) for m in members]


def set_status(
    session: Session,
    member_id: int,
    status: MemberStatus | str,
    reason: str | None,
    now: datetime,
    *,
    paused_until: datetime | None = None,
) -> bool:
    """Move a member to `status`; True if something changed.

    An erased member stays erased (False). `paused_until` only goes with
    PAUSED; without it a pause lasts until the member resumes.
    Raises UnknownMember for an id that does not exist.
    """
    new = MemberStatus(status)
    m = session.get(Member, member_id, with_for_update=True)
    if m is None:
        raise UnknownMember(member_id)
    old = MemberStatus(m.status)
    if old in FINAL and new != old:
        return False
    until = paused_until if new == MemberStatus.PAUSED else None
    if old == new and m.paused_until == until and (reason is None or m.status_reason == reason):
        return False
    m.status = new.value
    m.status_reason = reason
    m.paused_until = until
    m.changed_at = now
    return True


def active_member_profiles(
    session: Session,
    campaign_ids_for_answers: Collection[str],
    settings: Settings,
    today: date,
    batch: int = 1000,
) -> Iterator[list[MemberProfile]]:
    """Members who may be mailed, in id order, `batch` at a time, with tags and earlier answers.

    Active means status active, or paused with `paused_until` passed. `today`
    may be a date (a pause ends at the start of that day, panel time) or an
    aware datetime (exact). Answers are loaded only for the campaigns named;
    a multi-choice answer comes back as a tuple of options when more than one
    was chosen, as the option itself when one was (`audience.matches` treats
    both alike).
    """
    cutoff = (
        today if isinstance(today, datetime) else datetime.combine(today, time(0), tzinfo=settings.panel.zone)
    )
    wanted = list(campaign_ids_for_answers)
    may_mail = or_(
        Member.status == MemberStatus.ACTIVE.value,
        and_(
            Member.status == MemberStatus.PAUSED.value,
            Member.paused_until.is_not(None),
            Member.paused_until <= cutoff,
        ),
    )
    last_id = 0
    while True:
        rows = session.execute(
            select(Member.id, Member.language, Member.birth_year, Member.postcode)
            .where(Member.id > last_id, Member.email.is_not(None), may_mail)
            .order_by(Member.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        ids = [r.id for r in rows]
        last_id = ids[-1]
        tags = _tags_of(session, ids)
        answers = _answers_of(session, ids, wanted) if wanted else {}
        yield [
            MemberProfile(
                member_id=r.id,
                language=r.language,
                birth_year=r.birth_year,
                postcode=r.postcode,
                district=settings.district_of(r.postcode),
                tags=frozenset(tags.get(r.id, ())),
                answers=answers.get(r.id, {}),
            )
            for r in rows
        ]
        if len(rows) < batch:
            return


def _answers_of(
    session: Session, member_ids: Sequence[int], campaign_ids: Sequence[str]
) -> dict[int, dict[tuple[str, str], AnswerValue]]:
    collected: dict[int, dict[tuple[str, str], list[str | int]]] = {}
    for chunk in _chunks(member_ids):
        result = session.execute(
            select(
                Response.member_id,
                Answer.campaign_id,
                Answer.question_id,
                Answer.choice,
                Answer.number,
                Answer.text,
            )
            .join(Response, Answer.response_id == Response.id)
            .where(Response.member_id.in_(chunk), Response.campaign_id.in_(campaign_ids))
            .order_by(Answer.id)
        )
        for member_id, campaign_id, question_id, choice, number, text in result:
            value: str | int | None = choice if choice is not None else number if number is not None else text
            if value is not None and member_id is not None:
                collected.setdefault(member_id, {}).setdefault((campaign_id, question_id), []).append(value)
    out: dict[int, dict[tuple[str, str], AnswerValue]] = {}
    for member_id, per_question in collected.items():
        out[member_id] = {
            key: (values[0] if len(values) == 1 else tuple(str(v) for v in values))
            for key, values in per_question.items()
        }
    return out


def audience_ids(settings: Settings, session: Session, campaign: Campaign, now: datetime) -> Iterator[list[int]]:
    """Active members the campaign is for, in batches (never all loaded at once)."""
    needed = sorted({a.campaign for a in campaign.audience.answered})
    today = now.astimezone(settings.panel.zone).date()
    for profiles in active_member_profiles(session, needed, settings, today):
        ids = [p.member_id for p in profiles
               if audience_rules.matches(campaign.audience, p, settings.panel.age_bands, today)]
        if ids:
            yield ids
