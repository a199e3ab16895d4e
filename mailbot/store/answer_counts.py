"""Counts of answers kept beside the answers, so results never scan millions of rows.

`answer_counts` holds answers per (campaign, question, value) and
`respondent_counts` the responses with at least one answer per question
(question "" = the campaign). `apply` is called by `responses.record` in the
same transaction that replaces a member's answers, with the member's answer
rows before and after: the difference is added with one upsert per table.
Erasing a member only detaches the response, so nothing here changes.

`rebuild` recomputes both tables from `answers` with GROUP BY (after a bulk
load, or to repair); `from_answers` is that GROUP BY truth, which tests
compare with the kept counts after random record / replace / erase sequences.

Rows are upserted in sorted key order, so two transactions recording for
different members lock the shared counter rows in the same order (no deadlock).

Inside `gathered(session)` the changes are kept in a `Pending` instead of
written: the inbound reader settles a batch of replies in one transaction, a
savepoint each, and adds the changes of the replies whose savepoint held with
one upsert per table at the end (`Pending.flush`), so the shared counter rows
are locked once per batch, for the last moment of the transaction only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, bindparam, cast, delete, func, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mailbot.campaigns import Survey
from mailbot.results import Counts
from mailbot.store.models import Answer, AnswerCount, ReportCellCount, RespondentCount

ANY_QUESTION = ""  # respondent_counts.question_id for "answered at least one question"

# One answer row as `apply` needs it: (question id, value); value None for free text.
Row = tuple[str, str | None]
# A report cell: (age band, gender, district), "" for unknown (`mailbot.store.report_cells`).
Cell = tuple[str, str, str]
# One row of report_cell_counts: (campaign, age band, gender, district, kind, question, value).
CellKey = tuple[str, str, str, str, str, str, str]
_CELL_KEYS = ("campaign_id", "age_band", "gender", "district", "kind", "question_id", "value")


@dataclass(frozen=True)
class Tally:
    """A campaign's counts: per (question, value), respondents per question, respondents in all."""

    per_value: dict[tuple[str, str], int]
    per_question: dict[str, int]
    respondents: int


def value_of(choice: str | None, number: int | None) -> str | None:
    """The counted value of an answer row: the option text, the scale value as text, or None (text)."""
    return choice if choice is not None else (str(number) if number is not None else None)


def rows_of(session: Session, response_id: int) -> list[Row]:
    """The response's answer rows, as `apply` compares them."""
    return [(qid, value_of(choice, number)) for qid, choice, number in session.connection().execute(
        _ROWS_OF, {"response_id": response_id})]


_ROWS_OF = select(Answer.__table__.c.question_id, Answer.__table__.c.choice, Answer.__table__.c.number).where(
    Answer.__table__.c.response_id == bindparam("response_id"))


def apply(session: Session, campaign_id: str, before: Iterable[Row], after: Iterable[Row],
          cell: Cell | None = None) -> None:
    """Change the counts by what one response's answers became (`before` -> `after`); with the
    respondent's report cell, the campaign's report cell counts too.

    Inside `gathered(session)` the change is kept for the batch instead of written now.
    """
    change = Pending()
    change.add(campaign_id, before, after, cell)
    pending = session.info.get(_GATHERED)
    if pending is not None:
        pending.merge(change)
    else:
        change.flush(session)


@dataclass
class Pending:
    """Count changes not yet written: per (campaign, question, value) and per (campaign, question)."""

    values: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    questions: Counter[tuple[str, str]] = field(default_factory=Counter)
    cells: Counter[CellKey] = field(default_factory=Counter)

    def add(self, campaign_id: str, before: Iterable[Row], after: Iterable[Row], cell: Cell | None = None) -> None:
        old, new = list(before), list(after)
        if cell is not None:
            self.add_cell(campaign_id, cell, old, -1)
            self.add_cell(campaign_id, cell, new, 1)
        self.values.update((campaign_id, q, v) for q, v in new if v is not None)
        self.values.subtract((campaign_id, q, v) for q, v in old if v is not None)
        self.questions.update({(campaign_id, q): 1 for q, _ in new})
        self.questions.subtract({(campaign_id, q): 1 for q, _ in old})
        self.questions[(campaign_id, ANY_QUESTION)] += int(bool(new)) - int(bool(old))

    def add_cell(self, campaign_id: str, cell: Cell, rows: Iterable[Row], sign: int) -> None:
        """Add (sign 1) or take away (-1) one response's answer rows in its report cell."""
        rows = list(rows)
        if not rows:
            return
        a, g, d = cell
        for q, v in rows:
            self.cells[(campaign_id, a, g, d, "n", q, "")] += sign
            if v is not None:
                self.cells[(campaign_id, a, g, d, "v", q, v)] += sign
        for q in {q for q, _ in rows}:
            self.cells[(campaign_id, a, g, d, "r", q, "")] += sign
        self.cells[(campaign_id, a, g, d, "r", ANY_QUESTION, "")] += sign

    def merge(self, other: Pending) -> None:
        self.values.update(other.values)
        self.questions.update(other.questions)
        self.cells.update(other.cells)

    def flush(self, session: Session) -> None:
        """Write the changes (one upsert per table, keys in sorted order) and forget them."""
        value_rows = [{"campaign_id": c, "question_id": q, "value": v, "n": d}
                      for (c, q, v), d in sorted(self.values.items()) if d]
        question_rows = [{"campaign_id": c, "question_id": q, "n": d}
                         for (c, q), d in sorted(self.questions.items()) if d]
        if value_rows:
            _add(session, AnswerCount, ("campaign_id", "question_id", "value"), value_rows)
        if question_rows:
            _add(session, RespondentCount, ("campaign_id", "question_id"), question_rows)
        cell_rows = [{**dict(zip(_CELL_KEYS, key, strict=True)), "n": d} for key, d in sorted(self.cells.items()) if d]
        if cell_rows:
            _add(session, ReportCellCount, _CELL_KEYS, cell_rows)
        self.values.clear()
        self.questions.clear()
        self.cells.clear()


_GATHERED = "mailbot.answer_counts.gathered"


@contextmanager
def gathered(session: Session) -> Iterator[Pending]:
    """Within: `apply` keeps its changes in the returned `Pending`; the caller flushes them (or drops them
    with the savepoint they were made in)."""
    previous = session.info.get(_GATHERED)
    pending = Pending()
    session.info[_GATHERED] = pending
    try:
        yield pending
    finally:
        if previous is None:
            session.info.pop(_GATHERED, None)
        else:
            session.info[_GATHERED] = previous


def _add(session: Session, model: Any, keys: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    dialect = session.get_bind().dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = upsert(model)
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={"n": model.n + stmt.excluded.n})
    session.execute(stmt, rows)


def read(session: Session, campaign_id: str) -> Tally:
    """The kept counts of one campaign (a few hundred rows at most)."""
    per_value = {(q, v): n for q, v, n in session.execute(
        select(AnswerCount.question_id, AnswerCount.value, AnswerCount.n)
        .where(AnswerCount.campaign_id == campaign_id, AnswerCount.n > 0))}
    per_question = {q: n for q, n in session.execute(
        select(RespondentCount.question_id, RespondentCount.n)
        .where(RespondentCount.campaign_id == campaign_id, RespondentCount.n > 0))}
    respondents = per_question.pop(ANY_QUESTION, 0)
    return Tally(per_value, per_question, respondents)


def _value_expr() -> Any:
    return func.coalesce(Answer.choice, cast(Answer.number, String))


def from_answers(session: Session, campaign_id: str) -> Tally:
    """The same counts by GROUP BY over every answer row of the campaign (slow; the truth)."""
    value = _value_expr()
    per_value = {(q, v): n for q, v, n in session.execute(
        select(Answer.question_id, value, func.count())
        .where(Answer.campaign_id == campaign_id, value.is_not(None))
        .group_by(Answer.question_id, value))}
    per_question = {q: n for q, n in session.execute(
        select(Answer.question_id, func.count(func.distinct(Answer.response_id)))
        .where(Answer.campaign_id == campaign_id).group_by(Answer.question_id))}
    respondents = session.scalar(
        select(func.count(func.distinct(Answer.response_id))).where(Answer.campaign_id == campaign_id)) or 0
    return Tally(per_value, per_question, respondents)


def rebuild(session: Session, campaign_id: str | None = None) -> None:
    """Recompute the counts from `answers` (one campaign, or all): after a bulk load, or to repair."""
    for model in (AnswerCount, RespondentCount):
        stmt = delete(model)
        session.execute(stmt.where(model.campaign_id == campaign_id) if campaign_id is not None else stmt)
    where = [Answer.campaign_id == campaign_id] if campaign_id is not None else []
    value = _value_expr()
    session.execute(insert(AnswerCount).from_select(
        ["campaign_id", "question_id", "value", "n"],
        select(Answer.campaign_id, Answer.question_id, value, func.count())
        .where(value.is_not(None), *where).group_by(Answer.campaign_id, Answer.question_id, value)))
    session.execute(insert(RespondentCount).from_select(
        ["campaign_id", "question_id", "n"],
        select(Answer.campaign_id, Answer.question_id, func.count(func.distinct(Answer.response_id)))
        .where(*where).group_by(Answer.campaign_id, Answer.question_id)
        .union_all(
            select(Answer.campaign_id, literal(ANY_QUESTION), func.count(func.distinct(Answer.response_id)))
            .where(*where).group_by(Answer.campaign_id))))


def count_answers(session: Session, survey: Survey, invited: int) -> Counts:
    """Counts per question and value, read from the kept counts (a few hundred rows, never answer rows)."""
    tally = read(session, survey.id)
    known = {q.id for q in survey.questions}  # a question removed from the schedule after answers came in
    return Counts(invited=invited, answered=tally.respondents,
                  per_question={q: n for q, n in tally.per_question.items() if q in known},
                  per_value={(q, v): n for (q, v), n in tally.per_value.items() if q in known})
