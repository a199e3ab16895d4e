"""Responses and their answers. The last answer to a question wins until close."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from mailbot.campaigns import AnswerValue, QuestionType, Survey
from mailbot.store import answer_counts
from mailbot.store.models import Answer, Response


def record(session: Session, survey: Survey, member_id: int, answers: Mapping[str, AnswerValue], *,
           source: str, after_step: str | None, now: datetime) -> int:
    """Record answers (replacing earlier answers to the same questions); returns the response id.

    The campaign's answer counts (`mailbot.store.answer_counts`) change in the same transaction.
    """
    response = session.scalars(
        select(Response).where(Response.campaign_id == survey.id, Response.member_id == member_id)
        .with_for_update()
    ).first()
    if response is None:
        response = Response(campaign_id=survey.id, member_id=member_id, source=source, after_step=after_step,
                            first_at=now, updated_at=now)
        session.add(response)
        session.flush()
    else:
        response.updated_at = now
        response.source = source
    before: list[answer_counts.Row] = []
    if answers:
        before = answer_counts.rows_of(session, response.id)
        session.execute(delete(Answer).where(Answer.response_id == response.id,
                                             Answer.question_id.in_(list(answers))))
    rows: list[dict[str, Any]] = []
    for qid, value in answers.items():
        q = survey.question(qid)
        if q is None:
            continue
        base = {"response_id": response.id, "campaign_id": survey.id, "question_id": qid}
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
        session.execute(cast(Table, Answer.__table__).insert(), rows)
    if answers:
        after = [r for r in before if r[0] not in answers]
        after += [(r["question_id"], answer_counts.value_of(r["choice"], r["number"])) for r in rows]
        answer_counts.apply(session, survey.id, before, after)
    return response.id


def answers_of(session: Session, survey: Survey, member_id: int) -> dict[str, AnswerValue]:
    """The member's current answers, in the shape the parser produces."""
    out: dict[str, AnswerValue] = {}
    rows = session.execute(
        select(Answer.question_id, Answer.choice, Answer.number, Answer.text)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.campaign_id == survey.id, Response.member_id == member_id)
        .order_by(Answer.id)
    )
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


def has_response(session: Session, campaign_id: str, member_id: int) -> bool:
    return session.scalar(
        select(Response.id).where(Response.campaign_id == campaign_id, Response.member_id == member_id)
    ) is not None
