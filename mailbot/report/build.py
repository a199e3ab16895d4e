"""Everything a report shows, gathered from the database in a handful of GROUP BY queries.

`build_report` returns plain frozen data with the privacy rules already
applied: a renderer (HTML, CSV, terminal) only has to print what it is given
and leave hidden cells blank. `balance` and `underrepresented_nonresponders`
serve staff while a survey runs.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mailbot.campaigns import QuestionType, Survey
from mailbot.panel.problems import ConfigError, Problem
from mailbot.panel.settings import Settings
from mailbot.report.population import DIMENSIONS, Population
from mailbot.report.segments import (
    UNKNOWN,
    Dimensions,
    answered_by,
    answered_by_column,
    answered_by_columns,
    answered_by_tag,
    dimensions_for,
    invited_by,
    invited_by_cell,
    invited_by_tag,
    nonresponders_in,
    respondents_by_cell,
    weighted_answers,
)
from mailbot.results import Counts, Results, summarise
from mailbot.results.privacy import suppress_row
from mailbot.results.weights import Raking, RakingFailed, rake
from mailbot.store import outbox as outbox_store
from mailbot.store import report_cells
from mailbot.store.answer_counts import count_answers
from mailbot.store.models import Response
from mailbot.store.report_cells import CellScheme

DIMENSION_LABELS = {"age_band": "Aldersgruppe", "gender": "Kjønn", "district": "Bydel", "tag": "Merkelapp"}


@dataclass(frozen=True)
class SegmentRow:
    """One group: its share of the population, of those invited and of respondents."""

    category: str
    population_share: float | None  # 0..1 of the population; None: no population figures
    invited: int | None  # None: hidden (fewer than k, or to protect another hidden cell)
    answered: int | None
    invited_share: float | None  # 0..1 of invited with a known value
    answered_share: float | None
    weighted_share: float | None  # 0..1 of weighted respondents
    rate: float | None  # answered / invited, 0..1


@dataclass(frozen=True)
class SegmentTable:
    dimension: str
    label: str
    rows: tuple[SegmentRow, ...]  # the last row may be UNKNOWN (no birth year, postcode, tag; erased)
    partition: bool = True  # False for tags: a member may have several, rows do not add up


@dataclass(frozen=True)
class ShareRow:
    label: str
    count: int | None  # None: hidden
    share: float | None  # 0..1 of respondents


@dataclass(frozen=True)
class Weighting:
    dimensions: tuple[str, ...]
    iterations: int
    converged: bool
    min_weight: float
    max_weight: float
    source: str  # where the population figures come from


@dataclass(frozen=True)
class Report:
    survey: Survey
    results: Results
    segments: tuple[SegmentTable, ...]
    sources: tuple[ShareRow, ...]  # reply / click / staff
    after_steps: tuple[ShareRow, ...]  # invitation / reminder-1 / …
    weighting: Weighting | None
    weighting_problem: str | None  # why results are not weighted although population.toml asks for it
    population_source: str | None


def quotes_path(settings: Settings, campaign_id: str) -> Path:
    return settings.root / "results" / f"{campaign_id}-quotes.toml"


def load_quotes(path: Path, survey: Survey) -> dict[str, tuple[str, ...]]:
    """Quotes staff chose for text questions: [[quote]] question = "id", text = "…". Missing file: none."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", 1) or 1
        raise ConfigError([Problem(path, line, f"cannot read the quotes: {exc}")]) from None
    out: dict[str, list[str]] = {}
    problems = []
    for i, item in enumerate(data.get("quote", [])):
        qid, text = item.get("question"), item.get("text")
        q = survey.question(str(qid)) if qid else None
        if q is None or q.type != QuestionType.TEXT or not isinstance(text, str) or not text.strip():
            problems.append(Problem(path, 1, f"quote {i + 1}: needs question = <a text question id> and text",
                                    "write [[quote]] question = \"location\" text = \"…\""))
            continue
        out.setdefault(q.id, []).append(text.strip())
    if problems:
        raise ConfigError(problems)
    return {k: tuple(v) for k, v in out.items()}


def cell_scheme(survey: Survey, settings: Settings, population: Population | None = None) -> CellScheme:
    """What decides the report's cells for this survey, config.toml and population.toml (for
    `report_cells.prepare`, before `build_report`)."""
    scheme = _dimensions(survey, settings, population).scheme
    assert scheme is not None
    return scheme


def _dimensions(survey: Survey, settings: Settings, population: Population | None) -> Dimensions:
    return dimensions_for(survey, settings, population.gender_tags if population else {},
                          tuple(population.gender) if population else ())


def build_report(session: Session, survey: Survey, settings: Settings, population: Population | None = None,
                 quotes: Mapping[str, tuple[str, ...]] | None = None, *, by_grouping: bool = False) -> Report:
    """Everything the report shows. From the kept counts per report cell when they are kept for this
    config.toml and population.toml (`report_cells.prepare`), else (or `by_grouping`) by GROUP BY queries over
    the answers joined to the members; the figures are the same (tests compare the two)."""
    k = settings.config.privacy.min_group_size
    invited = outbox_store.count_sent(session, survey.id, "invitation")
    counts = count_answers(session, survey, invited)
    dims = _dimensions(survey, settings, population)
    cells = None
    if not by_grouping and dims.scheme is not None:
        cells = report_cells.read(session, survey.id, dims.scheme)
    if cells is not None:
        return _report_from_cells(session, survey, population, quotes, k, counts, dims, cells)
    weighting, problem, cell_weights = None, None, None
    raking_dims = _raking_dimensions(dims, population)
    if population and population.weighting.enabled and raking_dims:
        try:
            weighting, cell_weights, counts = _weigh(session, survey, dims, population, raking_dims, counts)
        except RakingFailed as exc:
            problem = str(exc)
    results = summarise(survey, counts, k, quotes)
    tables = [
        _segment_table(session, survey.id, dim, dims, population, k, cell_weights, raking_dims)
        for dim in dims.expressions
    ]
    segments = [t for t in tables if t is not None]
    tags_invited = invited_by_tag(session, survey.id)
    if tags_invited:
        segments.append(_tag_table(tags_invited, answered_by_tag(session, survey.id), k))
    sources = _shares(answered_by_column(session, survey.id, Response.source), k, ("reply", "click", "staff"))
    steps = _shares(answered_by_column(session, survey.id, Response.after_step), k,
                    ("invitation", *(f"reminder-{i + 1}" for i in range(len(survey.reminders)))))
    return Report(survey, results, tuple(segments), sources, steps, weighting, problem,
                  population.source if population else None)


def _raking_dimensions(dims: Dimensions, population: Population | None) -> tuple[str, ...]:
    if population is None:
        return ()
    return tuple(d for d in DIMENSIONS if d in dims.expressions and population.margin(d))


CellWeights = Mapping[tuple[Any, ...], float]


def _weigh(session: Session, survey: Survey, dims: Dimensions, population: Population,
           raking_dims: tuple[str, ...], counts: Counts) -> tuple[Weighting, CellWeights, Counts]:
    exprs = [dims.expressions[d] for d in raking_dims]
    cells = respondents_by_cell(session, survey.id, exprs)
    raking: Raking = rake(cells, [population.margin(d) for d in raking_dims],
                          max_iterations=population.weighting.max_iterations,
                          tolerance=population.weighting.tolerance)
    w = raking.weights
    multi = [q.id for q in survey.questions if q.type == QuestionType.MULTI]
    sums, per_multi = weighted_answers(session, survey, exprs, w, multi)
    per_value: dict[tuple[str, str], float] = {}
    per_question: dict[str, float] = dict(per_multi)
    for (qid, choice, number), weight in sums.items():
        q = survey.question(qid)
        if q is None:
            continue
        if q.type != QuestionType.MULTI:
            per_question[qid] = per_question.get(qid, 0.0) + weight
        if choice is not None or number is not None:
            per_value[(qid, choice if choice is not None else str(number))] = weight
    weights = [x for c, x in w.items() if cells.get(c)]
    info = Weighting(raking_dims, raking.iterations, raking.converged, min(weights, default=1.0),
                     max(weights, default=1.0), population.source)
    return info, w, replace(counts, weighted_per_question=per_question, weighted_per_value=per_value)


def _segment_table(session: Session, campaign_id: str, dim: str, dims: Dimensions,
                   population: Population | None, k: int, cell_weights: CellWeights | None,
                   raking_dims: Sequence[str]) -> SegmentTable | None:
    """The dimension's table; None when nobody invited has a known value (no genders in the roster)."""
    expr = dims.expressions[dim]
    inv = invited_by(session, campaign_id, expr)
    ans = answered_by(session, campaign_id, expr)
    weighted: dict[str | None, float] = {}
    if cell_weights is not None and dim in raking_dims:
        d = list(raking_dims).index(dim)
        weighted = _weighted_respondents(session, campaign_id, dims, raking_dims, cell_weights, d)
    return _table(dim, dims, population, k, inv, ans, weighted)


def _table(dim: str, dims: Dimensions, population: Population | None, k: int, inv: Mapping[str | None, int],
           ans: Mapping[str | None, int], weighted: Mapping[str | None, float]) -> SegmentTable | None:
    """The dimension's table from who was invited and who answered per category, and the weighted
    respondents (empty: not weighted by this dimension)."""
    cats = list(dims.categories[dim])
    labels = cats + ([UNKNOWN] if inv.get(None) or ans.get(None) else [])
    keys: list[str | None] = [*cats, None][:len(labels)]
    inv_counts = [inv.get(c, 0) for c in keys]
    ans_counts = [ans.get(c, 0) for c in keys]
    # Both rows are partitions of totals the report shows (invited, answered).
    inv_hidden = suppress_row(inv_counts, k)
    ans_hidden = suppress_row(ans_counts, k)
    known_inv = sum(inv_counts[: len(cats)])
    known_ans = sum(ans_counts[: len(cats)])
    if not known_inv and not known_ans:
        return None
    margin = population.margin(dim) if population else {}
    margin_total = sum(margin.values())
    weighted_known = sum(v for c, v in weighted.items() if c is not None)
    rows = []
    for i, (label, key) in enumerate(zip(labels, keys, strict=True)):
        known = key is not None
        hide_i, hide_a = inv_hidden[i], ans_hidden[i]
        rows.append(SegmentRow(
            category=label,
            population_share=(margin.get(label, 0.0) / margin_total) if known and margin_total else None,
            invited=None if hide_i else inv_counts[i],
            answered=None if hide_a else ans_counts[i],
            invited_share=(inv_counts[i] / known_inv) if known and known_inv and not hide_i else None,
            answered_share=(ans_counts[i] / known_ans) if known and known_ans and not hide_a else None,
            weighted_share=(weighted.get(key, 0.0) / weighted_known)
            if known and weighted_known and not hide_a else None,
            rate=(ans_counts[i] / inv_counts[i]) if inv_counts[i] and not (hide_i or hide_a) else None,
        ))
    return SegmentTable(dim, DIMENSION_LABELS.get(dim, dim), tuple(rows))


def _weighted_respondents(session: Session, campaign_id: str, dims: Dimensions, raking_dims: Sequence[str],
                          cell_weights: Mapping[tuple[Any, ...], float], d: int) -> dict[str | None, float]:
    cells = respondents_by_cell(session, campaign_id, [dims.expressions[x] for x in raking_dims])
    out: dict[str | None, float] = {}
    for cell, n in cells.items():
        out[cell[d]] = out.get(cell[d], 0.0) + n * cell_weights.get(cell, 1.0)
    return out


# ------------------------------------------------------------ from the kept counts per cell

_CELL_INDEX = {"age_band": 0, "gender": 1, "district": 2}  # place in a report_cells cell


def _report_from_cells(session: Session, survey: Survey, population: Population | None,
                       quotes: Mapping[str, tuple[str, ...]] | None, k: int, counts: Counts, dims: Dimensions,
                       cells: report_cells.CellCounts) -> Report:
    """`build_report` from the kept counts per cell: the same figures, from a few thousand rows. Who was
    invited is one GROUP BY over the invitations (all dimensions at once); tags, reply/click and the
    reminder are the queries of the other path."""
    weighting, problem = None, None
    raking_dims = _raking_dimensions(dims, population)
    by_raking_cell = _project(cells.respondents, raking_dims)
    weights: CellWeights | None = None
    if population and population.weighting.enabled and raking_dims:
        try:
            weighting, weights, counts = _weigh_cells(survey, population, raking_dims, counts, cells,
                                                      by_raking_cell)
        except RakingFailed as exc:
            problem = str(exc)
    results = summarise(survey, counts, k, quotes)
    names = list(dims.expressions)
    invited_cells = invited_by_cell(session, survey.id, [dims.expressions[d] for d in names])
    segments: list[SegmentTable] = []
    for dim in names:
        i = names.index(dim)
        inv: dict[str | None, int] = {}
        for cell, n in invited_cells.items():
            inv[cell[i]] = inv.get(cell[i], 0) + n
        ans: dict[str | None, int] = {}
        for full, n in cells.respondents.items():
            ans[full[_CELL_INDEX[dim]]] = ans.get(full[_CELL_INDEX[dim]], 0) + n
        weighted: dict[str | None, float] = {}
        if weights is not None and dim in raking_dims:
            d = raking_dims.index(dim)
            for cell, n in by_raking_cell.items():
                weighted[cell[d]] = weighted.get(cell[d], 0.0) + n * weights.get(cell, 1.0)
        table = _table(dim, dims, population, k, inv, ans, weighted)
        if table is not None:
            segments.append(table)
    tags_invited = invited_by_tag(session, survey.id)
    if tags_invited:
        segments.append(_tag_table(tags_invited, answered_by_tag(session, survey.id), k))
    by_source_step = answered_by_columns(session, survey.id, (Response.source, Response.after_step))
    by_source: dict[str | None, int] = {}
    by_step: dict[str | None, int] = {}
    for (source, step), n in by_source_step.items():
        by_source[source] = by_source.get(source, 0) + n
        by_step[step] = by_step.get(step, 0) + n
    sources = _shares(by_source, k, ("reply", "click", "staff"))
    steps = _shares(by_step, k, ("invitation", *(f"reminder-{i + 1}" for i in range(len(survey.reminders)))))
    return Report(survey, results, tuple(segments), sources, steps, weighting, problem,
                  population.source if population else None)


def _project(respondents: Mapping[report_cells.Known, int],
             dims: Sequence[str]) -> dict[tuple[str | None, ...], int]:
    """Respondents per cell of these dimensions (the raking cells), from the full cells."""
    out: dict[tuple[str | None, ...], int] = {}
    for full, n in respondents.items():
        cell = tuple(full[_CELL_INDEX[d]] for d in dims)
        out[cell] = out.get(cell, 0) + n
    return out


def _weigh_cells(survey: Survey, population: Population, raking_dims: tuple[str, ...], counts: Counts,
                 cells: report_cells.CellCounts, by_raking_cell: Mapping[tuple[str | None, ...], int],
                 ) -> tuple[Weighting, CellWeights, Counts]:
    """`_weigh` from the kept counts: each count in a cell times the cell's weight."""
    raking: Raking = rake(by_raking_cell, [population.margin(d) for d in raking_dims],
                          max_iterations=population.weighting.max_iterations,
                          tolerance=population.weighting.tolerance)
    w = raking.weights
    index = [_CELL_INDEX[d] for d in raking_dims]

    def weight(full: report_cells.Known) -> float:
        return w.get(tuple(full[i] for i in index), 1.0)

    per_value: dict[tuple[str, str], float] = {}
    for (full, qid, value), n in cells.values.items():
        if survey.question(qid) is not None:
            per_value[(qid, value)] = per_value.get((qid, value), 0.0) + n * weight(full)
    per_question: dict[str, float] = {}
    for (full, qid), n in cells.question_respondents.items():
        q = survey.question(qid)
        if q is not None and q.type == QuestionType.MULTI:  # respondents: one person, several rows
            per_question[qid] = per_question.get(qid, 0.0) + n * weight(full)
    for (full, qid), n in cells.question_rows.items():
        q = survey.question(qid)
        if q is not None and q.type != QuestionType.MULTI:  # rows, text answers too (as `_weigh` sums them)
            per_question[qid] = per_question.get(qid, 0.0) + n * weight(full)
    weights = [x for c, x in w.items() if by_raking_cell.get(c)]
    info = Weighting(raking_dims, raking.iterations, raking.converged, min(weights, default=1.0),
                     max(weights, default=1.0), population.source)
    return info, w, replace(counts, weighted_per_question=per_question, weighted_per_value=per_value)


def _tag_table(invited: Mapping[str, int], answered: Mapping[str, int], k: int) -> SegmentTable:
    rows = []
    for tag in sorted(invited):
        i, a = invited[tag], answered.get(tag, 0)
        # Tags overlap, so there is no total to subtract from: hiding the small counts is enough.
        hide_i, hide_a = 0 < i < k, 0 < a < k
        rows.append(SegmentRow(tag, None, None if hide_i else i, None if hide_a else a, None, None, None,
                               (a / i) if i and not (hide_i or hide_a) else None))
    return SegmentTable("tag", DIMENSION_LABELS["tag"], tuple(rows), partition=False)


def _shares(counts: Mapping[str | None, int], k: int, order: Sequence[str]) -> tuple[ShareRow, ...]:
    labels = [*order, *sorted(str(x) for x in counts if x is not None and x not in order)]
    values = [counts.get(x, 0) for x in labels]
    if counts.get(None):
        labels.append(UNKNOWN)
        values.append(counts[None])
    total = sum(values)
    hidden = suppress_row(values, k)
    return tuple(ShareRow(label, None if h else n, None if h or not total else n / total)
                 for label, n, h in zip(labels, values, hidden, strict=True) if n or label in order)


# ------------------------------------------------------------ while a survey runs


@dataclass(frozen=True)
class Balance:
    """How one group is doing against its share of the population (or of those invited)."""

    dimension: str
    category: str
    target_share: float  # 0..1
    answered_share: float  # 0..1 of respondents with a known value
    answered: int
    invited: int
    under: bool  # answered share below target × (1 - tolerance)


def balance(session: Session, survey: Survey, settings: Settings, population: Population | None = None,
            tolerance: float | None = None) -> list[Balance]:
    """Each group's share of respondents beside its target share; the target is the population,
    or those invited when there are no population figures."""
    tol = population.balance.tolerance if tolerance is None and population else (tolerance or 0.2)
    dims = dimensions_for(survey, settings, population.gender_tags if population else {},
                          tuple(population.gender) if population else ())
    out = []
    for dim, expr in dims.expressions.items():
        inv = invited_by(session, survey.id, expr)
        ans = answered_by(session, survey.id, expr)
        cats = dims.categories[dim]
        margin = population.margin(dim) if population else {}
        target = margin or {c: float(inv.get(c, 0)) for c in cats}
        target_total = sum(target.values())
        known_ans = sum(ans.get(c, 0) for c in cats)
        if not target_total:
            continue
        for c in cats:
            t = target.get(c, 0.0) / target_total
            a = ans.get(c, 0) / known_ans if known_ans else 0.0
            out.append(Balance(dim, c, t, a, ans.get(c, 0), inv.get(c, 0), t > 0 and a < t * (1 - tol)))
    return out


def underrepresented_nonresponders(session: Session, survey: Survey, settings: Settings,
                                   population: Population | None = None, *, tolerance: float | None = None,
                                   dimensions: Sequence[str] | None = None) -> list[int]:
    """Ids of active members invited to `survey` who have not answered and belong to an
    under-represented group (any dimension, or only those named), for an extra reminder."""
    rows = balance(session, survey, settings, population, tolerance)
    dims = dimensions_for(survey, settings, population.gender_tags if population else {},
                          tuple(population.gender) if population else ())
    groups = []
    for dim, expr in dims.expressions.items():
        if dimensions is not None and dim not in dimensions:
            continue
        under = [b.category for b in rows if b.dimension == dim and b.under]
        if under:
            groups.append((expr, under))
    return nonresponders_in(session, survey.id, groups)
