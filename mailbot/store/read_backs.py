"""Readings waiting for the resident's "yes, that's right" (read-backs), and how each ended.

A reply read with less than full confidence is not recorded: its reading is
kept here and read back to the resident by email. It leaves "waiting" once,
and only once (`ReadBackState.can_move`): confirmed by the link or a reply,
corrected by a reply, rejected ("that is wrong", with no correction: a person
reads it), replaced by a newer reply to the survey, or settled at close as
`[replies] unconfirmed_at_close` says. Every move is a conditional update on
status "waiting", so a double click or two workers record it once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from mailbot.campaigns import AnswerValue, QuestionType, Survey
from mailbot.people import MemberStatus
from mailbot.states import InboundState
from mailbot.store.models import Inbound, Member, ReadBack

# Response sources (`responses.source`) that say a read-back ended in a recording.
CONFIRMED_SOURCE = "read-back-confirmed"
CORRECTED_SOURCE = "read-back-corrected"
UNCONFIRMED_SOURCE = "read-back-unconfirmed"  # recorded as read at close (unconfirmed_at_close = "record")


class ReadBackState(StrEnum):
    WAITING = "waiting"  # the read-back email is queued; nothing recorded
    CONFIRMED = "confirmed"  # the resident said it is right (link or reply): recorded as read
    CORRECTED = "corrected"  # the resident replied with corrections: recorded with them
    REJECTED = "rejected"  # the resident said it is wrong without a correction: to the human queue
    SUPERSEDED = "superseded"  # a newer reply to the survey took its place
    TO_HUMAN = "to-human"  # never answered; at close to the human queue
    RECORDED_AT_CLOSE = "recorded-at-close"  # never answered; at close recorded as read
    DROPPED_AT_CLOSE = "dropped-at-close"  # never answered; at close dropped (the message is kept)
    ERASED = "erased"  # the member was erased: the reading is forgotten

    def can_move(self, to: ReadBackState) -> bool:
        return self == ReadBackState.WAITING and to != ReadBackState.WAITING


NEVER_ANSWERED = (ReadBackState.TO_HUMAN, ReadBackState.RECORDED_AT_CLOSE, ReadBackState.DROPPED_AT_CLOSE)


@dataclass(frozen=True)
class Pending:
    """A reading as it waits: what was read, which of it was not sure, what could not be read."""

    id: int
    campaign_id: str
    member_id: int | None
    inbound_id: int
    outbox_id: int | None
    after_step: str | None
    source: str
    answers: dict[str, AnswerValue]
    confirm: tuple[str, ...]
    unsure: dict[str, str]
    status: ReadBackState
    created_at: datetime
    settled_at: datetime | None


def jsonable(answers: Mapping[str, AnswerValue]) -> dict[str, Any]:
    """Answers as JSON keeps them (a multi answer's tuple becomes a list)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in answers.items()}


def answers_from_json(survey: Survey | None, data: Mapping[str, Any]) -> dict[str, AnswerValue]:
    """The parser's shape back from JSON: a list is a multi answer's tuple; unknown questions are left out."""
    out: dict[str, AnswerValue] = {}
    for qid, value in data.items():
        q = survey.question(qid) if survey is not None else None
        if survey is not None and q is None:
            continue
        if isinstance(value, list):
            out[qid] = tuple(str(v) for v in value)
        elif q is not None and q.type == QuestionType.MULTI:
            out[qid] = (str(value),)
        else:
            out[qid] = value
    return out


def _pending(row: Any, survey: Survey | None = None) -> Pending:  # a ReadBack or a Core row of its columns
    return Pending(row.id, row.campaign_id, row.member_id, row.inbound_id, row.outbox_id, row.after_step,
                   row.source, answers_from_json(survey, json.loads(row.answers or "{}")),
                   tuple(json.loads(row.confirm or "[]")), dict(json.loads(row.unsure or "{}")),
                   ReadBackState(row.status), row.created_at, row.settled_at)


def add(session: Session, survey: Survey, member_id: int, inbound_id: int, answers: Mapping[str, AnswerValue],
        confirm: tuple[str, ...], unsure: Mapping[str, str], now: datetime, *, after_step: str | None,
        source: str = CONFIRMED_SOURCE) -> int:
    """Keep a reading to read back; any reading still waiting for this member and survey is superseded."""
    supersede(session, survey.id, member_id, now)
    return int(session.connection().execute(_TABLE.insert().returning(_TABLE.c.id), {
        "campaign_id": survey.id, "member_id": member_id, "inbound_id": inbound_id, "after_step": after_step,
        "source": source, "answers": json.dumps(jsonable(answers), ensure_ascii=False),
        "confirm": json.dumps(list(confirm)), "unsure": json.dumps(dict(unsure), ensure_ascii=False),
        "status": ReadBackState.WAITING.value, "created_at": now}).scalar_one())


def set_outbox(session: Session, read_back_id: int, outbox_id: int | None) -> None:
    session.execute(update(ReadBack).where(ReadBack.id == read_back_id).values(outbox_id=outbox_id))


def get(session: Session, read_back_id: int, survey: Survey | None = None) -> Pending | None:
    row = session.get(ReadBack, read_back_id)
    return _pending(row, survey) if row is not None else None


def waiting(session: Session, survey: Survey, member_id: int) -> Pending | None:
    """The reading waiting for this member's confirmation of this survey, if any (the newest)."""
    row = session.connection().execute(_WAITING, {"campaign_id": survey.id, "member_id": member_id}).first()
    return _pending(row, survey) if row is not None else None


_TABLE = cast(Table, ReadBack.__table__)
# Core, not the ORM: asked for every reply to a survey (the inbound reader's hot path).
_WAITING = (select(_TABLE).where(_TABLE.c.campaign_id == bindparam("campaign_id"),
                                 _TABLE.c.member_id == bindparam("member_id"),
                                 _TABLE.c.status == ReadBackState.WAITING.value)
            .order_by(_TABLE.c.id.desc()).limit(1))


def move(session: Session, read_back_id: int, to: ReadBackState, now: datetime) -> bool:
    """Take a reading out of "waiting"; False if it had already left (a second click, another worker)."""
    assert ReadBackState.WAITING.can_move(to)
    result = session.execute(
        update(ReadBack).where(ReadBack.id == read_back_id, ReadBack.status == ReadBackState.WAITING.value)
        .values(status=to.value, settled_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def supersede(session: Session, campaign_id: str, member_id: int, now: datetime) -> int:
    """A newer reply to the survey: the readings still waiting for this member stop waiting."""
    result = session.execute(
        update(ReadBack).where(ReadBack.campaign_id == campaign_id, ReadBack.member_id == member_id,
                               ReadBack.status == ReadBackState.WAITING.value)
        .values(status=ReadBackState.SUPERSEDED.value, settled_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def waiting_in(session: Session, campaign_id: str, limit: int = 500) -> list[Pending]:
    """Readings still waiting in one campaign, oldest first."""
    rows = session.scalars(
        select(ReadBack).where(ReadBack.campaign_id == campaign_id, ReadBack.status == ReadBackState.WAITING.value)
        .order_by(ReadBack.id).limit(limit)
    )
    return [_pending(r) for r in rows]


def waiting_campaigns(session: Session) -> list[str]:
    """Campaigns with at least one reading waiting."""
    return list(session.scalars(
        select(ReadBack.campaign_id).where(ReadBack.status == ReadBackState.WAITING.value).distinct()
    ))


def forget_erased(session: Session, now: datetime) -> int:
    """Readings of erased members lose their answers and their member (personal data); waiting ones end.

    A safety net run before each round of replies: erasure itself (`mailbot.membership.erase`)
    does not know this table, so a reading outlives an erasure by one round at most.
    """
    erased = select(Member.id).where(Member.status == MemberStatus.ERASED.value)
    session.execute(
        update(ReadBack).where(ReadBack.member_id.in_(erased), ReadBack.status == ReadBackState.WAITING.value)
        .values(status=ReadBackState.ERASED.value, settled_at=now)
    )
    result = session.execute(
        update(ReadBack).where(ReadBack.member_id.in_(erased)).values(answers="{}", unsure="{}", member_id=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def note_on_message(session: Session, inbound_id: int, note: str, *, to_human: bool = False) -> None:
    """Add a line to the reason staff see on the reply a reading came from; `to_human` puts it in the queue."""
    row = session.get(Inbound, inbound_id)
    if row is None:
        return
    row.reason = "; ".join(r for r in (row.reason, note) if r)[:2000]
    if to_human:
        row.status = InboundState.NEEDS_HUMAN.value


@dataclass(frozen=True)
class Counts:
    """How the read-backs of one survey ended, for staff (`mailbot status`, `mailbot results`)."""

    sent: int = 0  # read-back emails queued
    confirmed: int = 0
    corrected: int = 0
    rejected: int = 0  # "that is wrong" without a correction: read by a person
    superseded: int = 0
    never_answered: int = 0  # settled at close (to the human queue, recorded or dropped)
    waiting: int = 0

    @property
    def any(self) -> bool:
        return bool(self.sent or self.waiting)

    def line(self) -> str:
        """One line of figures for the terminal."""
        parts = [f"read-backs sent {self.sent}", f"confirmed {self.confirmed}", f"corrected {self.corrected}",
                 f"never answered {self.never_answered}"]
        if self.rejected:
            parts.append(f"said wrong {self.rejected}")
        if self.superseded:
            parts.append(f"replaced by a newer reply {self.superseded}")
        parts.append(f"waiting {self.waiting}")
        return ", ".join(parts)


def counts(session: Session, campaign_id: str) -> Counts:
    by_status = {status: n for status, n in session.execute(
        select(ReadBack.status, func.count()).where(ReadBack.campaign_id == campaign_id).group_by(ReadBack.status))}
    sent = session.scalar(select(func.count()).select_from(ReadBack).where(
        ReadBack.campaign_id == campaign_id, ReadBack.outbox_id.is_not(None))) or 0
    return Counts(
        sent=sent,
        confirmed=by_status.get(ReadBackState.CONFIRMED.value, 0),
        corrected=by_status.get(ReadBackState.CORRECTED.value, 0),
        rejected=by_status.get(ReadBackState.REJECTED.value, 0),
        superseded=by_status.get(ReadBackState.SUPERSEDED.value, 0),
        never_answered=sum(by_status.get(s.value, 0) for s in NEVER_ANSWERED),
        waiting=by_status.get(ReadBackState.WAITING.value, 0),
    )
