"""Responses and their answers. The last answer to a question wins until close."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from mailbot.campaigns import AnswerValue, QuestionType, Survey
from mailbot.store.models import Answer, Response


def record(session: Session, survey: Survey, member_id: int, answers: Mapping[str, AnswerValue], *,
           source: str, after_step: str | None, now: datetime) -> int:
    """Record answers (replacing earlier answers to the same questions); returns the response id."""
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
    if answers:
        session.execute(delete(Answer).where(Answer.response_id == response.id,
                                             Answer.question_id.in_(list(answers))))
    rows = []
    for qid, value in answers.items():
        q = survey.question(qid)
        if q is None:
            continue
        base = {"response_id": response.id, "campaign_id": survey.id, "question_id": qid}
        if q.type == QuestionType.MULTI:
            values = value if isinstance(value, tuple) else (str(value),)
            rows += [{**base, "choice": v, "number": None, "text": None} for v in values]
        elif q.type == QuestionType.CHOICE:
            rows.append({**base, "choice": str(value), "number": None, "text": None})
        elif q.type == QuestionType.SCALE:
            rows.append({**base, "choice": None, "number": int(value), "text": None})  # type: ignore[arg-type]
        else:
            rows.append({**base, "choice": None, "number": None, "text": str(value)})
    if rows:
        session.execute(cast(Table, Answer.__table__).insert(), rows)
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
