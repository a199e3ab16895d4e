"""Who was invited and who answered, by age band, gender, district and tag: counts in SQL.

Age band and district are computed in the database by CASE expressions built
from config.toml ([panel] age_bands, [districts]) so that grouping happens
there; tests check the expressions agree with `age_band_of` and
`Settings.district_of` for every postcode and birth year. Gender is the
member's `gender` column (kvinne, mann, annet; from the roster's gender/kjønn
column), named as population.toml [gender] names it; for files written before
that column existed, a member tag named in [gender_tags] is used when the
column is empty. Ages are taken on the day the survey opened, so a report
made later shows the same bands.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Float,
    MetaData,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from mailbot.campaigns import Survey
from mailbot.panel.settings import Settings
from mailbot.states import OutboxState
from mailbot.store.models import Answer, Member, MemberTag, Outbox, Response
from mailbot.store.report_cells import (  # noqa: F401  the SQL of the dimensions, kept with the cell counts
    CellScheme,
    age_band_expr,
    district_expr,
    gender_expr,
    gender_labels,
)

UNKNOWN = "ukjent"


@dataclass(frozen=True)
class Dimensions:
    """The SQL expressions for each way of dividing the panel, for one survey."""

    expressions: Mapping[str, ColumnElement[Any]]  # "age_band", "gender", "district"
    categories: Mapping[str, tuple[str, ...]]  # the known values of each, in display order
    scheme: CellScheme | None = None  # what decides them, for the kept counts per cell (`report_cells`)


def dimensions_for(survey: Survey, settings: Settings, gender_tags: Mapping[str, str],
                   genders: Sequence[str] = ()) -> Dimensions:
    scheme = CellScheme.of(survey.opens.date(), settings.panel.age_bands, settings.config.districts, gender_tags,
                           genders)
    exprs: dict[str, ColumnElement[Any]] = {"age_band": scheme.age_band()}
    cats: dict[str, tuple[str, ...]] = {"age_band": tuple(settings.panel.age_bands)}
    exprs["gender"] = scheme.gender()
    cats["gender"] = (tuple(genders) or tuple(dict.fromkeys([*gender_labels(()).values(), *gender_tags.values()])))
    if settings.config.districts:
        exprs["district"] = scheme.district()
        cats["district"] = tuple(settings.config.districts)
    return Dimensions(exprs, cats, scheme)


def _answered() -> ColumnElement[bool]:
    return exists().where(Answer.response_id == Response.id)


def _invited(campaign_id: str) -> ColumnElement[bool]:
    return and_(Outbox.campaign_id == campaign_id, Outbox.step == "invitation",
                Outbox.status == OutboxState.SENT.value)


def invited_by(session: Session, campaign_id: str, expr: ColumnElement[Any]) -> dict[str | None, int]:
    """Members whose invitation was delivered, per value of `expr` (None: unknown or erased)."""
    rows = session.execute(
        select(expr, func.count()).select_from(Outbox).outerjoin(Member, Member.id == Outbox.member_id)
        .where(_invited(campaign_id)).group_by(expr)
    )
    return _merge(rows)


def answered_by(session: Session, campaign_id: str, expr: ColumnElement[Any]) -> dict[str | None, int]:
    """Members with at least one answer, per value of `expr` (None: unknown or erased)."""
    rows = session.execute(
        select(expr, func.count()).select_from(Response).outerjoin(Member, Member.id == Response.member_id)
        .where(Response.campaign_id == campaign_id, _answered()).group_by(expr)
    )
    return _merge(rows)


def invited_by_tag(session: Session, campaign_id: str) -> dict[str, int]:
    rows = session.execute(
        select(MemberTag.tag, func.count()).select_from(Outbox)
        .join(MemberTag, MemberTag.member_id == Outbox.member_id)
        .where(_invited(campaign_id)).group_by(MemberTag.tag)
    )
    return {t: n for t, n in rows}


def answered_by_tag(session: Session, campaign_id: str) -> dict[str, int]:
    rows = session.execute(
        select(MemberTag.tag, func.count()).select_from(Response)
        .join(MemberTag, MemberTag.member_id == Response.member_id)
        .where(Response.campaign_id == campaign_id, _answered()).group_by(MemberTag.tag)
    )
    return {t: n for t, n in rows}


def answered_by_column(session: Session, campaign_id: str,
                       column: ColumnElement[Any] | InstrumentedAttribute[Any]) -> dict[str | None, int]:
    """Respondents per value of a responses column (source: reply/click/staff; after_step)."""
    rows = session.execute(
        select(column, func.count()).select_from(Response)
        .where(Response.campaign_id == campaign_id, _answered()).group_by(column)
    )
    return _merge(rows)


def invited_by_cell(session: Session, campaign_id: str,
                    exprs: Sequence[ColumnElement[Any]]) -> dict[tuple[str | None, ...], int]:
    """Members whose invitation was delivered, per combination of dimension values: every dimension in
    one pass (`invited_by` per dimension are its sums)."""
    labelled = [e.label(f"d{i}") for i, e in enumerate(exprs)]
    rows = session.execute(
        select(*labelled, func.count()).select_from(Outbox).outerjoin(Member, Member.id == Outbox.member_id)
        .where(_invited(campaign_id)).group_by(*labelled)
    ).all()
    out: dict[tuple[str | None, ...], int] = {}
    for r in rows:
        out[tuple(r[:-1])] = out.get(tuple(r[:-1]), 0) + r[-1]
    return out


def answered_by_columns(session: Session, campaign_id: str, columns: Sequence[InstrumentedAttribute[Any]],
                        ) -> dict[tuple[Any, ...], int]:
    """Respondents per combination of responses columns (source and after_step at once)."""
    rows = session.execute(
        select(*columns, func.count()).select_from(Response)
        .where(Response.campaign_id == campaign_id, _answered()).group_by(*columns)
    ).all()
    return {tuple(r[:-1]): r[-1] for r in rows}


def respondents_by_cell(session: Session, campaign_id: str,
                        exprs: Sequence[ColumnElement[Any]]) -> dict[tuple[str | None, ...], int]:
    """Respondents per combination of dimension values (the raking cells)."""
    labelled = [e.label(f"d{i}") for i, e in enumerate(exprs)]
    rows = session.execute(
        select(*labelled, func.count()).select_from(Response)
        .outerjoin(Member, Member.id == Response.member_id)
        .where(Response.campaign_id == campaign_id, _answered())
        .group_by(*labelled)
    ).all()
    return {tuple(r[:-1]): r[-1] for r in rows}


def weighted_answers(session: Session, survey: Survey, exprs: Sequence[ColumnElement[Any]],
                     weights: Mapping[tuple[Any, ...], float], multi: Sequence[str],
                     ) -> tuple[dict[tuple[str, str | None, int | None], float], dict[str, float]]:
    """Sums of respondent weights per (question, choice, number), and per multi question (respondents).

    Each respondent's weight is worked out once into a temporary table (one row per
    respondent: the CASE expressions and the gender lookup run per respondent, not per
    answer). The answers are then summed in the order of the covering index, joined to
    that table by primary key, so the database never sorts the answers.
    """
    meta = MetaData()
    table = Table(f"tmp_weights_{uuid.uuid4().hex[:8]}", meta,
                  Column("response_id", BigInteger, primary_key=True),
                  *(Column(f"d{i}", String(100)) for i in range(len(exprs))),
                  Column("w", Float, nullable=False, default=1.0),
                  prefixes=["TEMPORARY"])
    connection = session.connection()
    table.create(connection)
    try:
        dims = [table.c[f"d{i}"] for i in range(len(exprs))]
        session.execute(table.insert().from_select(
            ["response_id", *(f"d{i}" for i in range(len(exprs))), "w"],
            select(Response.id, *exprs, literal(1.0)).select_from(Response)
            .outerjoin(Member, Member.id == Response.member_id).where(Response.campaign_id == survey.id)))
        whens = [(and_(*(d.is_(None) if v is None else d == v for d, v in zip(dims, cell, strict=True))), w)
                 for cell, w in weights.items()]
        if whens:
            session.execute(table.update().values(w=case(*whens, else_=1.0)))
        per_value: dict[tuple[str, str | None, int | None], float] = {}
        for qid, choice, number, w in session.execute(
            select(Answer.question_id, Answer.choice, Answer.number, func.sum(table.c.w))
            .join(table, table.c.response_id == Answer.response_id)
            .where(Answer.campaign_id == survey.id)
            .group_by(Answer.question_id, Answer.choice, Answer.number)
        ):
            per_value[(qid, choice, number)] = float(w or 0.0)
        per_multi: dict[str, float] = {}
        if multi:
            chosen = (select(Answer.question_id, Answer.response_id)
                      .where(Answer.campaign_id == survey.id, Answer.question_id.in_(list(multi)))
                      .group_by(Answer.question_id, Answer.response_id).subquery())
            for qid, w in session.execute(
                select(chosen.c.question_id, func.sum(table.c.w))
                .join(table, table.c.response_id == chosen.c.response_id)
                .group_by(chosen.c.question_id)
            ):
                per_multi[qid] = float(w or 0.0)
    finally:
        table.drop(connection)
    return per_value, per_multi


def nonresponders_in(session: Session, campaign_id: str,
                     groups: Sequence[tuple[ColumnElement[Any], Sequence[str]]]) -> list[int]:
    """Active members invited but not answered, in any of the groups (expr, values); sorted ids."""
    conditions = [expr.in_(list(values)) for expr, values in groups if values]
    if not conditions:
        return []
    responded = exists().where(Response.campaign_id == campaign_id, Response.member_id == Outbox.member_id,
                               exists().where(Answer.response_id == Response.id))
    ids = session.scalars(
        select(Outbox.member_id).join(Member, Member.id == Outbox.member_id)
        .where(_invited(campaign_id), Member.status == "active", ~responded, or_(*conditions))
        .order_by(Outbox.member_id)
    )
    return [i for i in ids if i is not None]


def _merge(rows: Any) -> dict[str | None, int]:
    out: dict[str | None, int] = {}
    for value, n in rows:
        out[value] = out.get(value, 0) + n
    return out
