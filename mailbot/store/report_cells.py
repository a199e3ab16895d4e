"""Answers counted per report cell (age band x gender x district), kept beside the answers.

The full report divides respondents by age band, gender and district (segment tables) and weights
them by raking over the same three. Both need only counts per cell: respondents, answer rows per
question, and per value. Grouping 2.5 million answers joined to their members for that took
seconds; this keeps those counts in `report_cell_counts`, so the report reads a few thousand rows.

A cell depends on config.toml (age bands, districts), population.toml (its genders and gender
tags) and the day the survey opened (ages are taken then): together a `CellScheme`, stored per
campaign in `report_cell_schemes` with its fingerprint. The cell of a respondent is computed by the
same SQL expressions the report's GROUP BY queries use (`age_band_expr`, `gender_expr`,
`district_expr`, defined here and used by `mailbot.report.segments`), so the two agree by
construction; `from_answers` is that GROUP BY, and tests compare it with the kept counts.

- `ensure` (in a write transaction, before a report is built): when the campaign has no scheme or
  another one, the counts are built again from the answers (one GROUP BY); otherwise nothing.
- `cell_of`: the respondent's cell, for `responses.record` to pass to `answer_counts.apply` (None
  when nobody has asked for a report of the campaign: then nothing is kept for it).
- `moving`: around any change of members' birth year, postcode, gender, tags or of the link from
  their responses to them (erasure), moves their answers from the old cell to the new one.
- `read`: the kept counts, or None when they are not kept for this scheme (the report then falls
  back to GROUP BY queries).

Concurrency: whoever changes counts reads the schemes `FOR KEY SHARE` (on PostgreSQL; SQLite has one
writer at a time), which also takes a ROW SHARE lock on the table even when no scheme exists yet;
a rebuild takes `LOCK TABLE report_cell_schemes IN EXCLUSIVE MODE` first. So a rebuild waits for
every transaction that has counted under the old scheme to commit, and those that come after it
wait until it has committed and then count under the new one.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    MetaData,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
)
from sqlalchemy import (
    cast as sql_cast,
)
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from mailbot.store import Store

from mailbot.panel.profiles import parse_age_band
from mailbot.roster import GENDERS
from mailbot.store.answer_counts import ANY_QUESTION, Cell, CellKey, Pending, value_of
from mailbot.store.models import Answer, Member, MemberTag, ReportCellCount, ReportCellScheme, Response

UNKNOWN_CELL = ""  # how an unknown age band, gender or district is stored in report_cell_counts


# ------------------------------------------------------------ the SQL of the dimensions


def age_band_expr(bands: Sequence[str], today: date) -> ColumnElement[Any]:
    """The member's age band on `today` (age = today's year - birth year, as `age_band_of`)."""
    whens = []
    for band in bands:
        lo, hi = parse_age_band(band)
        latest = today.year - lo  # born in or before this year to be at least `lo`
        cond = Member.birth_year <= latest
        if hi is not None:
            cond = and_(cond, Member.birth_year >= today.year - hi)
        whens.append((cond, literal(band)))
    return case(*whens, else_=null()) if whens else null()


def district_expr(districts: Mapping[str, Sequence[str]]) -> ColumnElement[Any]:
    """The member's district from the postcode, first match wins (as `Settings.district_of`)."""
    whens = []
    digits = func.length(Member.postcode) == 4
    for district, codes in districts.items():
        alternatives = []
        for code in codes:
            lo, dash, hi = (p.strip() for p in code.partition("-"))
            if dash:
                # Postcodes are four digits; string order is number order for equal lengths.
                alternatives.append(and_(digits, Member.postcode.between(lo, hi),
                                         ~Member.postcode.like("%-%")))
            else:
                alternatives.append(Member.postcode == lo)
        if alternatives:
            whens.append((or_(*alternatives), literal(district)))
    return case(*whens, else_=null()) if whens else null()


def gender_labels(genders: Sequence[str]) -> dict[str, str]:
    """Stored value (kvinne, mann, annet) -> the category as population.toml writes it ("Kvinne")."""
    named = {g.lower(): g for g in genders if g.lower() in GENDERS}
    return named or {g: g for g in GENDERS}


def gender_expr(gender_tags: Mapping[str, str], genders: Sequence[str] = ()) -> ColumnElement[Any]:
    """The member's gender as a category of `genders` (members.gender; else the [gender_tags] tag), or NULL."""
    column = case(*((Member.gender == stored, literal(label)) for stored, label in gender_labels(genders).items()),
                  else_=null())
    if not gender_tags:
        return column
    tag_to_gender = case(*((MemberTag.tag == t, literal(g)) for t, g in gender_tags.items()),
                         else_=null())
    tagged = (select(func.min(tag_to_gender))
              .where(MemberTag.member_id == Member.id, MemberTag.tag.in_(list(gender_tags)))
              .scalar_subquery())
    return func.coalesce(column, tagged)


@dataclass(frozen=True)
class CellScheme:
    """What decides a respondent's cell: the survey's opening day, the age bands and districts of
    config.toml, population.toml's genders and gender tags (in their order: first match wins)."""

    opens: date
    age_bands: tuple[str, ...]
    districts: tuple[tuple[str, tuple[str, ...]], ...]
    gender_tags: tuple[tuple[str, str], ...]
    genders: tuple[str, ...]

    @staticmethod
    def of(opens: date, age_bands: Sequence[str], districts: Mapping[str, Sequence[str]],
           gender_tags: Mapping[str, str], genders: Sequence[str]) -> CellScheme:
        return CellScheme(opens, tuple(age_bands), tuple((k, tuple(v)) for k, v in districts.items()),
                          tuple(gender_tags.items()), tuple(genders))

    def definition(self) -> str:
        return json.dumps({"opens": self.opens.isoformat(), "age_bands": list(self.age_bands),
                           "districts": [[k, list(v)] for k, v in self.districts],
                           "gender_tags": [list(x) for x in self.gender_tags], "genders": list(self.genders)},
                          ensure_ascii=False, separators=(",", ":"))

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.definition().encode("utf-8")).hexdigest()

    @staticmethod
    def from_definition(definition: str) -> CellScheme:
        d = json.loads(definition)
        return CellScheme(date.fromisoformat(d["opens"]), tuple(d["age_bands"]),
                          tuple((k, tuple(v)) for k, v in d["districts"]),
                          tuple((t, g) for t, g in d["gender_tags"]), tuple(d["genders"]))

    def age_band(self) -> ColumnElement[Any]:
        return age_band_expr(self.age_bands, self.opens)

    def gender(self) -> ColumnElement[Any]:
        return gender_expr(dict(self.gender_tags), self.genders)

    def district(self) -> ColumnElement[Any]:
        return district_expr(dict(self.districts))

    @property
    def storable(self) -> bool:
        """False if a category is "" (stored for unknown): such a scheme is not kept, the report groups."""
        labels = [*self.age_bands, *(k for k, _ in self.districts), *gender_labels(self.genders).values(),
                  *(g for _, g in self.gender_tags)]
        return all(x != UNKNOWN_CELL for x in labels) and all(len(x) <= 100 for x in labels)


@lru_cache(maxsize=64)
def _scheme(definition: str) -> CellScheme:
    return CellScheme.from_definition(definition)


def _cells(scheme: CellScheme) -> list[ColumnElement[Any]]:
    return [func.coalesce(e, literal(UNKNOWN_CELL)) for e in (scheme.age_band(), scheme.gender(), scheme.district())]


@lru_cache(maxsize=64)
def _cell_statement(scheme: CellScheme) -> Select[Any]:
    a, g, d = _cells(scheme)
    return (select(a, g, d).select_from(_RESPONSES).outerjoin(Member, Member.id == _RESPONSES.c.member_id)
            .where(_RESPONSES.c.id == bindparam("response_id")))


_RESPONSES = cast(Table, Response.__table__)
_SCHEMES = cast(Table, ReportCellScheme.__table__)
_COUNTS = cast(Table, ReportCellCount.__table__)


def _scheme_row(session: Session, campaign_id: str, *, lock: bool) -> tuple[str, str] | None:
    stmt = select(_SCHEMES.c.fingerprint, _SCHEMES.c.definition).where(_SCHEMES.c.campaign_id == campaign_id)
    if lock:
        stmt = stmt.with_for_update(read=True, key_share=True)  # PostgreSQL: FOR KEY SHARE; SQLite: nothing
    row = session.connection().execute(stmt).first()
    return (row[0], row[1]) if row is not None else None


# ------------------------------------------------------------ kept by the writers


def cell_of(session: Session, campaign_id: str, response_id: int) -> Cell | None:
    """The response's report cell under the campaign's scheme; None when no counts are kept for it."""
    row = _scheme_row(session, campaign_id, lock=True)
    if row is None:
        return None
    a, g, d = session.connection().execute(_cell_statement(_scheme(row[1])), {"response_id": response_id}).one()
    return str(a), str(g), str(d)


@contextmanager
def moving(session: Session, member_ids: Iterable[int]) -> Iterator[None]:
    """Around a change of these members' profile (birth year, postcode, gender, tags) or of their
    responses' link to them (erasure): their answers move to the cells they fall in afterwards."""
    ids = sorted(set(member_ids))
    schemes = {c: _scheme(d) for c, d in session.connection().execute(
        select(_SCHEMES.c.campaign_id, _SCHEMES.c.definition).with_for_update(read=True, key_share=True))}
    if not ids or not schemes:
        yield
        return
    responses: list[tuple[int, str]] = []
    for chunk in _chunks(ids):
        responses += [(int(r), str(c)) for r, c in session.connection().execute(
            select(_RESPONSES.c.id, _RESPONSES.c.campaign_id)
            .where(_RESPONSES.c.member_id.in_(chunk), _RESPONSES.c.campaign_id.in_(sorted(schemes))))]
    before = _cells_of(session, responses, schemes)
    yield
    session.flush()
    after = _cells_of(session, responses, schemes)
    moved = [(r, c) for r, c in responses if before[r] != after[r]]
    if not moved:
        return
    rows: dict[int, list[tuple[str, str | None]]] = {}
    for chunk in _chunks([r for r, _ in moved]):
        for rid, qid, choice, number in session.connection().execute(
            select(Answer.response_id, Answer.question_id, Answer.choice, Answer.number)
            .where(Answer.response_id.in_(chunk))
        ):
            rows.setdefault(int(rid), []).append((qid, value_of(choice, number)))
    change = Pending()
    for rid, campaign_id in moved:
        change.add_cell(campaign_id, before[rid], rows.get(rid, []), -1)
        change.add_cell(campaign_id, after[rid], rows.get(rid, []), 1)
    change.flush(session)


def _cells_of(session: Session, responses: Sequence[tuple[int, str]],
              schemes: Mapping[str, CellScheme]) -> dict[int, Cell]:
    out: dict[int, Cell] = {}
    by_campaign: dict[str, list[int]] = {}
    for rid, campaign_id in responses:
        by_campaign.setdefault(campaign_id, []).append(rid)
    for campaign_id, rids in by_campaign.items():
        a, g, d = _cells(schemes[campaign_id])
        for chunk in _chunks(rids):
            for rid, *cell in session.connection().execute(
                select(_RESPONSES.c.id, a, g, d).select_from(_RESPONSES)
                .outerjoin(Member, Member.id == _RESPONSES.c.member_id).where(_RESPONSES.c.id.in_(chunk))
            ):
                out[int(rid)] = (str(cell[0]), str(cell[1]), str(cell[2]))
    return out


def _chunks(items: Sequence[int], size: int = 500) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


# ------------------------------------------------------------ built and read by the report


def prepare(store: Store, campaign_id: str, scheme: CellScheme, now: datetime) -> None:
    """Before a report: make sure the campaign's counts are kept for `scheme`. Looked at in a reading
    session; only when they are not (the campaign's first report, or the bands, districts or genders
    changed) are they built, once, in a write transaction (one GROUP BY over the answers, seconds at
    100 000 x 20). The report works without them, by grouping the answers itself (slower)."""
    if not scheme.storable:
        return
    with store.reading() as session:
        if read_fingerprint(session, campaign_id) == scheme.fingerprint:
            return
    with store.transaction() as session:
        ensure(session, campaign_id, scheme, now)


def ensure(session: Session, campaign_id: str, scheme: CellScheme, now: datetime) -> bool:
    """Make the campaign's kept cell counts those of `scheme` (built from the answers if they are not);
    False if the scheme cannot be kept (a category named ""). In a write transaction."""
    if not scheme.storable:
        return False
    row = _scheme_row(session, campaign_id, lock=False)
    if row is not None and row[0] == scheme.fingerprint:
        return True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE report_cell_schemes IN EXCLUSIVE MODE"))
        row = _scheme_row(session, campaign_id, lock=False)
        if row is not None and row[0] == scheme.fingerprint:
            return True  # built meanwhile by another
    rebuild(session, campaign_id, scheme, now)
    return True


def rebuild(session: Session, campaign_id: str, scheme: CellScheme, now: datetime) -> None:
    """Count the campaign's answers per cell of `scheme` again (one GROUP BY), and keep that scheme."""
    session.execute(delete(ReportCellCount).where(ReportCellCount.campaign_id == campaign_id))
    session.execute(delete(ReportCellScheme).where(ReportCellScheme.campaign_id == campaign_id))
    with _response_cells(session, campaign_id, scheme) as cells:
        counts = _built(session, campaign_id, cells)
    rows = [dict(zip(_KEYS, key, strict=True), n=n) for key, n in sorted(counts.items()) if n]
    for i in range(0, len(rows), 5000):
        session.execute(insert(ReportCellCount), rows[i:i + 5000])
    session.execute(insert(ReportCellScheme).values(campaign_id=campaign_id, fingerprint=scheme.fingerprint,
                                                    definition=scheme.definition(), built_at=now))


_KEYS = ("campaign_id", "age_band", "gender", "district", "kind", "question_id", "value")


def _built(session: Session, campaign_id: str, cells: Table) -> dict[CellKey, int]:
    """The counts in two passes over the answers (values with the rows per question summed from them;
    respondents per question) and one over the responses (respondents): what `from_answers` gets with
    four GROUP BYs over the answers."""
    value = func.coalesce(Answer.choice, sql_cast(Answer.number, String))
    base = [cells.c.a, cells.c.g, cells.c.d]
    joined = Answer.__table__.join(cells, cells.c.response_id == Answer.response_id)
    out: dict[CellKey, int] = {}
    rows_of: Any = session.execute(
        select(*base, Answer.question_id, value, func.count()).select_from(joined)
        .where(Answer.campaign_id == campaign_id).group_by(*base, Answer.question_id, value))
    for a, g, d, q, v, n in rows_of:
        if v is not None:
            out[(campaign_id, a, g, d, "v", q, v)] = int(n)
        rows: CellKey = (campaign_id, a, g, d, "n", q, "")
        out[rows] = out.get(rows, 0) + int(n)
    respondents_of: Any = session.execute(
        select(*base, Answer.question_id, func.count(func.distinct(Answer.response_id))).select_from(joined)
        .where(Answer.campaign_id == campaign_id).group_by(*base, Answer.question_id))
    for a, g, d, q, n in respondents_of:
        out[(campaign_id, a, g, d, "r", q, "")] = int(n)
    answered = select(Answer.response_id).where(Answer.response_id == cells.c.response_id).exists()
    respondents: Any = session.execute(select(*base, func.count()).where(answered).group_by(*base))
    for a, g, d, n in respondents:
        out[(campaign_id, a, g, d, "r", ANY_QUESTION, "")] = int(n)
    return out


def from_answers(session: Session, campaign_id: str, scheme: CellScheme) -> dict[CellKey, int]:
    """The counts by GROUP BY over the answers joined to the members (slow; the truth tests compare with)."""
    out: dict[CellKey, int] = {}
    with _response_cells(session, campaign_id, scheme) as cells:
        for stmt in _grouped(campaign_id, cells):
            for *key, n in session.execute(stmt):
                out[cast(CellKey, tuple(key))] = int(n)
    return out


def kept(session: Session, campaign_id: str) -> dict[CellKey, int]:
    """The kept counts of the campaign (rows whose count is not 0)."""
    return {cast(CellKey, tuple(key)): int(n) for *key, n in session.execute(
        select(*(_COUNTS.c[k] for k in ("campaign_id", "age_band", "gender", "district", "kind", "question_id",
                                         "value")), _COUNTS.c.n)
        .where(_COUNTS.c.campaign_id == campaign_id, _COUNTS.c.n != 0))}


def read_fingerprint(session: Session, campaign_id: str) -> str | None:
    """The fingerprint of the scheme the campaign's counts are kept for (None: not kept)."""
    row = _scheme_row(session, campaign_id, lock=False)
    return row[0] if row is not None else None


def scheme_of(session: Session, campaign_id: str) -> CellScheme | None:
    row = _scheme_row(session, campaign_id, lock=False)
    return _scheme(row[1]) if row is not None else None


Known = tuple[str | None, str | None, str | None]  # a cell as the report names it: None for unknown


@dataclass(frozen=True)
class CellCounts:
    """One campaign's kept counts per cell ((age band, gender, district), None for unknown)."""

    respondents: dict[Known, int]  # responses with at least one answer
    question_respondents: dict[tuple[Known, str], int]  # … to this question
    question_rows: dict[tuple[Known, str], int]  # answer rows of this question
    values: dict[tuple[Known, str, str], int]  # answer rows of this question with this value


def read(session: Session, campaign_id: str, scheme: CellScheme) -> CellCounts | None:
    """The kept counts when they are kept for `scheme`; None when not (no report asked yet, or config.toml
    or population.toml changed since): then the report groups the answers itself."""
    row = _scheme_row(session, campaign_id, lock=False)
    if row is None or row[0] != scheme.fingerprint:
        return None
    respondents: dict[Known, int] = {}
    question_respondents: dict[tuple[Known, str], int] = {}
    question_rows: dict[tuple[Known, str], int] = {}
    values: dict[tuple[Known, str, str], int] = {}
    for a, g, d, kind, q, v, n in session.execute(
        select(_COUNTS.c.age_band, _COUNTS.c.gender, _COUNTS.c.district, _COUNTS.c.kind, _COUNTS.c.question_id,
               _COUNTS.c.value, _COUNTS.c.n)
        .where(_COUNTS.c.campaign_id == campaign_id, _COUNTS.c.n != 0)
        .order_by(_COUNTS.c.age_band, _COUNTS.c.gender, _COUNTS.c.district, _COUNTS.c.kind, _COUNTS.c.question_id,
                  _COUNTS.c.value)
    ):
        cell: Known = (a or None, g or None, d or None)
        if kind == "v":
            values[(cell, q, v)] = n
        elif kind == "n":
            question_rows[(cell, q)] = n
        elif q == ANY_QUESTION:
            respondents[cell] = n
        else:
            question_respondents[(cell, q)] = n
    return CellCounts(respondents, question_respondents, question_rows, values)


@contextmanager
def _response_cells(session: Session, campaign_id: str, scheme: CellScheme) -> Iterator[Table]:
    """A temporary table of the campaign's responses and their cells (the CASE expressions and the
    gender lookup run once per response, not once per answer)."""
    table = Table(f"tmp_cells_{uuid.uuid4().hex[:8]}", MetaData(),
                  Column("response_id", BigInteger, primary_key=True),
                  Column("a", String(100), nullable=False), Column("g", String(100), nullable=False),
                  Column("d", String(100), nullable=False), prefixes=["TEMPORARY"])
    connection = session.connection()
    table.create(connection)
    try:
        a, g, d = _cells(scheme)
        session.execute(table.insert().from_select(
            ["response_id", "a", "g", "d"],
            select(_RESPONSES.c.id, a, g, d).select_from(_RESPONSES)
            .outerjoin(Member, Member.id == _RESPONSES.c.member_id).where(_RESPONSES.c.campaign_id == campaign_id)))
        yield table
    finally:
        table.drop(connection)


def _grouped(campaign_id: str, cells: Table) -> list[Select[Any]]:
    """The four GROUP BYs: values, rows and respondents per question, respondents of the campaign."""
    value = func.coalesce(Answer.choice, sql_cast(Answer.number, String))
    c = literal(campaign_id)
    base = [cells.c.a, cells.c.g, cells.c.d]
    joined = (Answer.__table__.join(cells, cells.c.response_id == Answer.response_id))
    where = Answer.campaign_id == campaign_id
    return [
        select(c, *base, literal("v"), Answer.question_id, value, func.count()).select_from(joined)
        .where(where, value.is_not(None)).group_by(*base, Answer.question_id, value),
        select(c, *base, literal("n"), Answer.question_id, literal(""), func.count()).select_from(joined)
        .where(where).group_by(*base, Answer.question_id),
        select(c, *base, literal("r"), Answer.question_id, literal(""), func.count(func.distinct(Answer.response_id)))
        .select_from(joined).where(where).group_by(*base, Answer.question_id),
        select(c, *base, literal("r"), literal(ANY_QUESTION), literal(""),
               func.count(func.distinct(Answer.response_id))).select_from(joined).where(where).group_by(*base),
    ]
