"""What a survey found: aggregation in SQL, privacy rules in pure Python.

`count_answers` asks the database for counts only (GROUP BY), never rows, so
it stays fast at 100 000 members; `summarise` turns the counts into
`Results`, hiding any group smaller than the panel's minimum group size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot.campaigns import Question, QuestionType, Survey
from mailbot.store.models import Answer, Response


@dataclass(frozen=True)
class OptionCount:
    label: str
    count: int
    percent: float  # of those who answered the question


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    answered: int
    options: tuple[OptionCount, ...]  # choice/multi per option; scale per value min..max; text: none
    mean: float | None = None
    median: float | None = None
    suppressed: bool = False  # fewer answers than the minimum group size: nothing shown


@dataclass(frozen=True)
class Results:
    campaign_id: str
    invited: int
    answered: int
    questions: tuple[QuestionResult, ...]
    min_group_size: int

    @property
    def rate(self) -> float:
        return self.answered / self.invited if self.invited else 0.0


@dataclass(frozen=True)
class Counts:
    """Raw counts from the database for one survey."""

    invited: int
    answered: int  # members with at least one answer
    per_question: Mapping[str, int]  # respondents per question
    per_value: Mapping[tuple[str, str], int]  # (question id, option text or str(scale value)) -> count


def count_answers(session: Session, survey: Survey, invited: int) -> Counts:
    answered = session.scalar(
        select(func.count(func.distinct(Answer.response_id))).where(Answer.campaign_id == survey.id)
    ) or 0
    per_question = dict(
        session.execute(
            select(Answer.question_id, func.count(func.distinct(Answer.response_id)))
            .where(Answer.campaign_id == survey.id)
            .group_by(Answer.question_id)
        ).tuples()
    )
    per_value: dict[tuple[str, str], int] = {}
    for qid, choice, number, count in session.execute(
        select(Answer.question_id, Answer.choice, Answer.number, func.count())
        .where(Answer.campaign_id == survey.id, Answer.text.is_(None))
        .group_by(Answer.question_id, Answer.choice, Answer.number)
    ).tuples():
        key = choice if choice is not None else str(number)
        per_value[(qid, key)] = count
    return Counts(invited=invited, answered=answered, per_question=per_question, per_value=per_value)


def count_respondents(session: Session, campaign_id: str) -> int:
    return session.scalar(
        select(func.count()).select_from(Response).where(Response.campaign_id == campaign_id)
    ) or 0


def summarise(survey: Survey, counts: Counts, min_group_size: int) -> Results:
    """Pure: counts -> Results, with groups below `min_group_size` hidden."""
    out = []
    for q in survey.questions:
        n = counts.per_question.get(q.id, 0)
        if q.type == QuestionType.TEXT:
            out.append(QuestionResult(q, n, (), suppressed=n < min_group_size))
            continue
        labels = list(q.options) if q.options else [str(v) for v in q.scale_values]
        options = tuple(
            OptionCount(label, c := counts.per_value.get((q.id, label), 0), 100.0 * c / n if n else 0.0)
            for label in labels
        )
        mean = median = None
        if q.type == QuestionType.SCALE and n:
            values = [(int(o.label), o.count) for o in options]
            mean = sum(v * c for v, c in values) / n
            median = _median(values, n)
        suppressed = n < min_group_size
        if suppressed:
            options, mean, median = (), None, None
        out.append(QuestionResult(q, n, options, mean, median, suppressed))
    return Results(survey.id, counts.invited, counts.answered, tuple(out), min_group_size)


def _median(values: list[tuple[int, int]], n: int) -> float:
    def nth(k: int) -> int:  # k-th smallest, 0-based
        seen = 0
        for v, c in values:
            seen += c
            if k < seen:
                return v
        return values[-1][0]

    return float(nth((n - 1) // 2) + nth(n // 2)) / 2
