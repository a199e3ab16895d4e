"""The full report from the kept counts per report cell is the report by GROUP BY, figure for figure.

A generated panel (unknown birth years, postcodes outside every district, no gender, gender only as a
tag, members not invited, invited but silent, replaced answers, free text, erased members) is reported
both ways on SQLite and PostgreSQL: `build_report(by_grouping=True)` (the GROUP BY queries over answers
and members, the report as it was built before the cells) and `build_report` after
`report_cells.prepare`. Every figure is compared: counts, labels and hidden cells exactly, shares and
weights to 1e-9 (the database sums a weight per answer row; the cells multiply a count by the weight:
the same number up to the last bits of a float), and the HTML and CSV as staff get them, byte for byte.
Then answers are recorded and replaced, profiles changed (profile page, roster import, sign-up again),
members erased, and after each step the kept counts must equal their GROUP BY and the reports agree.
"""

from __future__ import annotations

import dataclasses
import io
import math
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from mailbot import membership
from mailbot.campaigns import AnswerValue, QuestionType, Survey
from mailbot.panel.settings import Settings, load_settings
from mailbot.report.build import Report, build_report, cell_scheme
from mailbot.report.export import write_aggregates
from mailbot.report.html import render_html
from mailbot.report.population import Population
from mailbot.store import Store, answer_counts, report_cells, responses
from mailbot.store import outbox as outbox_store
from mailbot.store.members import upsert_members
from mailbot.store.models import Member, Outbox
from mailbot.tokens import Keys
from tests.conftest import ROOT, make_survey
from tests.factories import Row, create_member

NOW = datetime(2022, 12, 5, 9, tzinfo=UTC)
KEYS = Keys(("test-key",))
CONSENT = membership.ConsentWording("Jeg samtykker.", "nb")
POSTCODES = ["1337", "1340", "1350", "1351", "1353", "1356", "1359", "1363", "1358", "1360", "1344", "1400",
             "0150", None]
POPULATIONS: dict[str, Population | None] = {
    "age, gender, district": Population(
        source="SSB", gender={"Kvinne": 52, "Mann": 48},
        age_band={"15-29": 20, "30-44": 25, "45-59": 25, "60-74": 18, "75+": 12},
        district={"Sandvika": 20, "Rykkinn": 8, "Lommedalen": 5, "Kolsås": 8, "Bærums Verk": 7, "Bekkestua": 12,
                  "Østerås": 10, "Høvik": 10, "Stabekk": 10, "Fornebu": 10}),
    "gender tags": Population(gender={"Kvinne": 1, "Mann": 1}, gender_tags={"k": "Kvinne", "m": "Mann"}),
    "no weighting": Population(gender={"kvinne": 1, "mann": 1}, weighting={"enabled": False}),  # type: ignore[arg-type]
    "none": None,
}


def panel_settings() -> Settings:
    return load_settings(ROOT / "config.toml", load_env=False)


def with_k(settings: Settings, k: int) -> Settings:
    from mailbot.panel.settings import PrivacySection

    config = settings.config.model_copy(update={"privacy": PrivacySection(min_group_size=k)})
    return dataclasses.replace(settings, config=config)


def answer(survey: Survey, rnd: random.Random) -> dict[str, AnswerValue]:
    out: dict[str, AnswerValue] = {}
    for q in survey.questions:
        if rnd.random() < 0.15:
            continue
        if q.type == QuestionType.MULTI:
            out[q.id] = tuple(rnd.sample(q.options, rnd.randint(1, 3)))
        elif q.type == QuestionType.SCALE:
            out[q.id] = rnd.randint(q.min or 1, q.max or 5)
        elif q.type == QuestionType.CHOICE:
            out[q.id] = rnd.choice(q.options)
        else:
            out[q.id] = rnd.choice(["Sandvika", "Ved stasjonen", "Fornebu"])
    return out


def generate(store: Store, survey: Survey, members: int, seed: int) -> list[int]:
    """A panel of `members`: most invited, most of those answered, some twice; returns the member ids."""
    rnd = random.Random(seed)
    with store.transaction() as s:
        ids = []
        for i in range(members):
            m = create_member(s, f"p{i}-{uuid.uuid4().hex[:6]}@example.no",
                              birth_year=None if rnd.random() < 0.05 else rnd.randrange(1925, 2010),
                              postcode=rnd.choice(POSTCODES),
                              tags=tuple(t for t in ("klima", "avfall", "helse") if rnd.random() < 0.4)
                              + ((rnd.choice(("k", "m")),) if rnd.random() < 0.7 else ()))
            m.gender = rnd.choice(["kvinne", "mann", "kvinne", "mann", "annet", None])
            ids.append(m.id)
        invited = [i for i in ids if rnd.random() < 0.9]
        outbox_store.queue(s, survey.id, "invitation", invited, NOW)
        s.execute(update(Outbox).where(Outbox.member_id.in_(invited)).values(status="sent", sent_at=NOW))
        for member_id in invited:
            if rnd.random() < 0.7:
                record(s, survey, member_id, rnd)
    return ids


def record(s: Any, survey: Survey, member_id: int, rnd: random.Random, n: int = 0) -> None:
    responses.record(s, survey, member_id, answer(survey, rnd), source=rnd.choice(("reply", "click", "staff")),
                     after_step=rnd.choice(("invitation", "reminder-1", "reminder-2", None)),
                     now=NOW + timedelta(minutes=n))


def assert_same(a: Any, b: Any, where: str = "report") -> None:
    """Every figure equal: ints, strings, None and hidden cells exactly; floats to 1e-9."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, float | int) and isinstance(b, float | int), f"{where}: {a!r} != {b!r}"
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), f"{where}: {a!r} != {b!r}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys {set(a) ^ set(b)}"
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), f"{where}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def rendered(report: Report) -> tuple[str, str]:
    out = io.StringIO()
    write_aggregates(report, out)
    return render_html(report, date(2022, 12, 20)), out.getvalue()


def both_ways(store: Store, survey: Survey, settings: Settings, population: Population | None,
              ) -> tuple[Report, Report]:
    report_cells.prepare(store, survey.id, cell_scheme(survey, settings, population), NOW)
    with store.reading() as s:
        assert report_cells.read(s, survey.id, cell_scheme(survey, settings, population)) is not None
        kept = build_report(s, survey, settings, population)
        grouped = build_report(s, survey, settings, population, by_grouping=True)
    return kept, grouped


def assert_reports_agree(store: Store, survey: Survey, settings: Settings, population: Population | None) -> None:
    kept, grouped = both_ways(store, survey, settings, population)
    assert_same(kept, grouped)
    assert rendered(kept) == rendered(grouped)


def assert_cells_are_true(store: Store, survey: Survey) -> None:
    with store.reading() as s:
        scheme = report_cells.scheme_of(s, survey.id)
        if scheme is None:
            return
        truth = {k: n for k, n in report_cells.from_answers(s, survey.id, scheme).items() if n}
        assert report_cells.kept(s, survey.id) == truth


@pytest.mark.parametrize("name", list(POPULATIONS))
def test_the_report_from_cells_is_the_report_by_grouping(store: Store, name: str) -> None:
    survey = make_survey()
    generate(store, survey, 400, seed=1)
    population = POPULATIONS[name]
    for k in (1, 5, 20):  # small groups hidden in different places
        assert_reports_agree(store, survey, with_k(panel_settings(), k), population)
    kept, _ = both_ways(store, survey, panel_settings(), population)
    # What was compared is a real report: segments, weights where population.toml asks for them.
    assert {t.dimension for t in kept.segments} >= {"age_band", "gender", "district", "tag"}
    if population is not None and population.weighting.enabled:
        assert kept.weighting is not None and kept.results.weighted
        assert kept.weighting.min_weight < 1 < kept.weighting.max_weight
    assert_cells_are_true(store, survey)


def test_cells_follow_answers_profiles_imports_and_erasure(store: Store) -> None:
    survey = make_survey()
    other = make_survey("ombruk-b")  # a second campaign's cells move with the same members
    ids = generate(store, survey, 120, seed=2)
    settings, population = panel_settings(), POPULATIONS["age, gender, district"]
    with store.transaction() as s:
        for m in ids[:40]:
            record(s, other, m, random.Random(m))
    gender_tags = POPULATIONS["gender tags"]
    report_cells.prepare(store, other.id, cell_scheme(other, settings, gender_tags), NOW)
    assert_reports_agree(store, survey, settings, population)
    rnd = random.Random(3)
    for n in range(60):
        m = rnd.choice(ids)
        what = rnd.choice(["record", "record", "profile", "import", "join", "erase"])
        with store.transaction() as s:
            if what == "record":
                record(s, rnd.choice((survey, other)), m, rnd, n)
            elif what == "profile":
                membership.change_profile(s, settings, m, NOW, language="nb",
                                          birth_year=rnd.choice((None, rnd.randrange(1930, 2007))),
                                          postcode=rnd.choice(["1337", "1363", "1360", None]),
                                          topics=rnd.sample(["k", "m", "klima"], rnd.randint(0, 2)),
                                          managed_topics=["k", "m", "klima"])
            elif what == "import":
                emails = [s.scalar(select(Member.email).where(Member.id == x)) for x in rnd.sample(ids, 5)]
                upsert_members(s, [Row(e, birth_year=rnd.randrange(1930, 2007), postcode=rnd.choice(["1350", "1359"]),
                                       tags=(rnd.choice(("k", "m", "helse")),)) for e in emails if e], NOW)
            elif what == "join":  # a member who had left joins again, with a new birth year and postcode
                email = s.scalar(select(Member.email).where(Member.id == m))
                if email:
                    s.execute(update(Member).where(Member.id == m).values(status="left"))
                    asked = membership.request_join(s, settings, KEYS, email, NOW, birth_year=rnd.randrange(1930, 2007),
                                                    postcode=rnd.choice(["1351", "1344"]), consent=CONSENT)
                    assert asked.signup_id is not None
                    joined = membership.confirm_join(s, settings, KEYS, asked.signup_id, NOW)
                    assert joined.outcome == "rejoined", joined
            else:
                membership.erase(s, m, NOW, actor="test")
        assert_cells_are_true(store, survey)
        assert_cells_are_true(store, other)
    assert_reports_agree(store, survey, settings, population)
    assert_reports_agree(store, other, settings, gender_tags)


def test_another_config_or_population_builds_the_cells_again(store: Store) -> None:
    survey = make_survey()
    generate(store, survey, 150, seed=4)
    settings, population = panel_settings(), POPULATIONS["age, gender, district"]
    assert_reports_agree(store, survey, settings, population)
    moved = dataclasses.replace(settings, config=settings.config.model_copy(update={"districts": {
        "Vest": ["1300-1349"], "Aust": ["1350-1399"]}}))
    with store.reading() as s:  # not kept for these districts: the report groups the answers (same figures)
        assert report_cells.read(s, survey.id, cell_scheme(survey, moved, None)) is None
        assert_same(build_report(s, survey, moved, None), build_report(s, survey, moved, None, by_grouping=True))
    assert_reports_agree(store, survey, moved, None)  # prepare builds them for the new districts
    with store.reading() as s:
        assert report_cells.read(s, survey.id, cell_scheme(survey, settings, population)) is None


def test_a_batch_keeps_the_cells_of_the_replies_whose_savepoint_held(store: Store) -> None:
    """As the inbound reader settles a batch (`replies._read_in_savepoint`): a savepoint per reply, the
    counts gathered and written once at the end; a reply that fails takes its cell changes with it."""
    survey = make_survey()
    ids = generate(store, survey, 30, seed=5)
    report_cells.prepare(store, survey.id, cell_scheme(survey, panel_settings(), None), NOW)
    with store.transaction() as s:
        counts = answer_counts.Pending()
        for i, m in enumerate(ids[:12]):
            try:
                with answer_counts.gathered(s) as changed, s.begin_nested():
                    record(s, survey, m, random.Random(i), i)
                    if i % 3 == 0:
                        raise RuntimeError("this reply fails")
            except RuntimeError:
                continue
            counts.merge(changed)
        assert counts.cells
        counts.flush(s)
    assert_cells_are_true(store, survey)
    assert_reports_agree(store, survey, panel_settings(), POPULATIONS["age, gender, district"])


def test_a_rebuild_beside_recording_threads_loses_no_change(store: Store) -> None:
    """Replies recorded in other threads while the cells are built again (another scheme, back and forth):
    on PostgreSQL the rebuild waits for those that counted under the old scheme and the later ones wait
    for it (`LOCK TABLE report_cell_schemes`); on SQLite one writer at a time. Nothing counted twice or lost."""
    import threading

    survey = make_survey()
    ids = generate(store, survey, 80, seed=6)
    settings = panel_settings()
    schemes = [cell_scheme(survey, settings, POPULATIONS["age, gender, district"]),
               cell_scheme(survey, settings, POPULATIONS["gender tags"])]
    report_cells.prepare(store, survey.id, schemes[0], NOW)
    stop = threading.Event()
    recorded: list[int] = []
    failures: list[BaseException] = []

    def writer(seed: int) -> None:
        rnd = random.Random(seed)
        # Members of their own: two first answers of one member at the same moment are another matter
        # (responses.record inserts the response after finding none: the second insert fails on PostgreSQL).
        mine = ids[seed::3]
        try:
            while not stop.is_set():
                with store.transaction() as s:
                    record(s, survey, rnd.choice(mine), rnd, len(recorded))
                    if rnd.random() < 0.2:
                        membership.change_profile(s, settings, rnd.choice(mine), NOW, language="nb",
                                                  birth_year=rnd.randrange(1930, 2007), postcode="1356",
                                                  topics=[rnd.choice(("k", "m"))], managed_topics=["k", "m"])
                recorded.append(1)
        except BaseException as exc:  # noqa: BLE001  reported by the test below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(6):
            with store.transaction() as s:
                report_cells.ensure(s, survey.id, schemes[(i + 1) % 2], NOW)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not failures, failures
    assert len(recorded) > 10
    assert_cells_are_true(store, survey)
    assert_reports_agree(store, survey, settings, POPULATIONS["age, gender, district"])
