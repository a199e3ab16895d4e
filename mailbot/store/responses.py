"""Responses and their answers. The last answer to a question wins until close."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from mailbot.campaigns import AnswerValue, QuestionType, Survey
from mailbot.store import answer_counts, report_cells
from mailbot.store.models import Answer, Response


def record(session: Session, survey: Survey, member_id: int, answers: Mapping[str, AnswerValue], *,
           source: str, after_step: str | None, now: datetime) -> int:
    """Record answers (replacing earlier answers to the same questions); returns the response id.

    The campaign's answer counts (`mailbot.store.answer_counts`) change in the same transaction, and
    its counts per report cell when they are kept (`mailbot.store.report_cells`).
    """
    # Core statements: this runs for every reply and every click (ORM loads cost a few ms each).
    connection = session.connection()
    response_id = connection.execute(_LOCK_RESPONSE, {"campaign_id": survey.id, "member_id": member_id}).scalar()
    if response_id is None:
        response_id = connection.execute(_RESPONSES.insert().returning(_RESPONSES.c.id), {
            "campaign_id": survey.id, "member_id": member_id, "source": source, "after_step": after_step,
            "first_at": now, "updated_at": now}).scalar_one()
    else:
        connection.execute(_TOUCH_RESPONSE, {"response_id": response_id, "updated_at": now, "source": source})
    before: list[answer_counts.Row] = []
    if answers:
        before = answer_counts.rows_of(session, response_id)
        connection.execute(delete(_ANSWERS).where(_ANSWERS.c.response_id == response_id,
                                                  _ANSWERS.c.question_id.in_(list(answers))))
    rows: list[dict[str, Any]] = []
    for qid, value in answers.items():
        q = survey.question(qid)
        if q is None:
            continue
        base = {"response_id": response_id, "campaign_id": survey.id, "question_id": qid}
        if q.type == QuestionType.MULTI:
            # One row per chosen option, so counting rows counts people.
            values = tuple(dict.fromkeys(value)) if isinstance(value, tuple) else (str(value),)
            rows += [{**base, "choice": v, "number": None, "text": None} for v in values]
        elif q.type == QuestionType.CHOICE:
            rows.append({**base, "choice": str(value), "number": None, "text": None})
        elif q.type == QuestionType.SCALE:
            rows.append({**base, "choice": None, "number": int(value), "text": None})  # type: ignore[arg-type]
        else:
            rows.append({**base, "choice": None, "number": None, "text": str(value)})
    if rows:
        connection.execute(_ANSWERS.insert(), rows)
    if answers:
        after = [r for r in before if r[0] not in answers]
        after += [(r["question_id"], answer_counts.value_of(r["choice"], r["number"])) for r in rows]
        answer_counts.apply(session, survey.id, before, after, report_cells.cell_of(session, survey.id, response_id))
    return response_id


_RESPONSES = cast(Table, Response.__table__)
_ANSWERS = cast(Table, Answer.__table__)
_LOCK_RESPONSE = select(_RESPONSES.c.id).where(
    _RESPONSES.c.campaign_id == bindparam("campaign_id"), _RESPONSES.c.member_id == bindparam("member_id"),
).with_for_update()
_ANSWERS_OF = (select(_ANSWERS.c.question_id, _ANSWERS.c.choice, _ANSWERS.c.number, _ANSWERS.c.text)
               .join(_RESPONSES, _RESPONSES.c.id == _ANSWERS.c.response_id)
               .where(_RESPONSES.c.campaign_id == bindparam("campaign_id"),
                      _RESPONSES.c.member_id == bindparam("member_id"))
               .order_by(_ANSWERS.c.id))
_TOUCH_RESPONSE = update(_RESPONSES).where(_RESPONSES.c.id == bindparam("response_id")).values(
    updated_at=bindparam("updated_at"), source=bindparam("source"))


def answers_of(session: Session, survey: Survey, member_id: int) -> dict[str, AnswerValue]:
    """The member's current answers, in the shape the parser produces."""
    out: dict[str, AnswerValue] = {}
    rows = session.connection().execute(_ANSWERS_OF, {"campaign_id": survey.id, "member_id": member_id})
    multi: dict[str, list[str]] = {}
    for qid, choice, number, text in rows:
        q = survey.question(qid)
        if q is None:
            continue
        if q.type == QuestionType.MULTI and choice is not None:
            multi.setdefault(qid, []).append(choice)
        elif choice is not None:
            out[qid] = choice
        elif number is not None:
            out[qid] = number
        elif text is not None:
            out[qid] = text
    for qid, chosen in multi.items():
        q = survey.question(qid)
        assert q is not None
        out[qid] = tuple(o for o in q.options if o in chosen)
    return out


def answers_version(session: Session, campaign_id: str) -> tuple[object, ...]:
    """What changes whenever an answer is recorded, replaced or erased in the campaign: responses, those
    still with a member, the latest change, and the kept counts (a change of value at the same moment).
    A report built at one version stands until the next (compare with ==)."""
    n, members, latest = session.connection().execute(
        select(func.count(), func.count(_RESPONSES.c.member_id), func.max(_RESPONSES.c.updated_at))
        .where(_RESPONSES.c.campaign_id == campaign_id)).one()
    return int(n or 0), int(members or 0), str(latest), answer_counts.read(session, campaign_id)


def has_response(session: Session, campaign_id: str, member_id: int) -> bool:
    return session.scalar(
        select(Response.id).where(Response.campaign_id == campaign_id, Response.member_id == member_id)
    ) is not None
