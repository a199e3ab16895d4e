"""Aggregation at scale: 100 000 members x 20 questions (2 000 000 answers), SQLite and PostgreSQL.

    .venv/bin/python bench/results.py                 # both databases
    .venv/bin/python bench/results.py --only sqlite

Builds the schema with the migrations (so the indexes are the real ones),
loads the data in bulk (raw INSERT/COPY, so the answer counts are then built
once by `answer_counts.rebuild`, the same GROUP BY migration 0005 runs), then
times:

- `count_answers` + `summarise`: the results email's figures, read from the
  kept counts (`answer_counts`, `respondent_counts`);
- the GROUP BY over all answers that the kept counts replace (for comparison);
- the segment breakdowns (invited and answered by age band, gender, district,
  tag; reply/click; after which reminder): GROUP BY over joins;
- raking and the weighted figures;
- `report_cells.ensure`: the counts per report cell (age band x gender x district) built from the
  answers, once (what the first report after a change of config.toml or population.toml does);
- `build_report` from those kept counts, and the same by GROUP BY (`by_grouping=True`: segments and
  weighting as above); the two reports are compared figure for figure (and as HTML and CSV);
- the same in `Store.reading()` (as the web report and `mailbot results` build it: on SQLite outside the
  write lock), with a writer recording answers in another thread meanwhile: how long its
  transactions waited while the report was being built;
- the web report (`Web.report_of`): kept (no answer since), and rebuilt after one new answer;
- `responses.record` replacing one member's 20 answers, with the counts kept, the cell counts too
  (one transaction each, as a reply or a web form does); afterwards the kept counts and cell counts
  are compared with their GROUP BY.

PostgreSQL runs in a throwaway schema that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailbot.campaigns import Question, QuestionType, Survey  # noqa: E402
from mailbot.panel.settings import Settings, load_settings  # noqa: E402
from mailbot.report.build import (  # noqa: E402
    _raking_dimensions,
    _weigh,
    build_report,
    cell_scheme,
)
from mailbot.report.population import Population  # noqa: E402
from mailbot.report.segments import (  # noqa: E402
    answered_by,
    answered_by_column,
    answered_by_tag,
    dimensions_for,
    invited_by,
    invited_by_tag,
)
from mailbot.results import summarise  # noqa: E402
from mailbot.store import Store, answer_counts, report_cells, responses  # noqa: E402
from mailbot.store.answer_counts import count_answers  # noqa: E402
from mailbot.store.models import Response  # noqa: E402
from tests.results.test_report_cells import assert_same, rendered  # noqa: E402

PG_URL = os.environ.get("MAILBOT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MEMBERS, QUESTIONS = 100_000, 20
T0 = datetime(2024, 3, 1, 9, tzinfo=UTC)


def survey() -> Survey:
    qs = []
    for i in range(QUESTIONS):
        kind = (QuestionType.CHOICE, QuestionType.SCALE, QuestionType.MULTI, QuestionType.CHOICE)[i % 4]
        if kind == QuestionType.SCALE:
            qs.append(Question(f"q{i}", i + 1, f"Spørsmål {i + 1}", kind, min=1, max=5))
        else:
            qs.append(Question(f"q{i}", i + 1, f"Spørsmål {i + 1}", kind, ("A", "B", "C", "D", "E")))
    return Survey("bench", "Benchmark", T0, T0.replace(month=4), tuple(qs))


def rows(s: Survey) -> tuple[list[tuple], list[tuple], list[tuple], list[tuple], list[tuple]]:  # type: ignore[type-arg]
    """members, tags, outbox, responses, answers: every member invited and answered all 20 questions."""
    rnd = random.Random(1)
    members, tags, outbox, responses, answers = [], [], [], [], []
    postcodes = ["1337", "1340", "1350", "1351", "1353", "1356", "1359", "1363", "1358", "1360"]
    aid = 0
    for m in range(1, MEMBERS + 1):
        members.append((m, f"m{m}@example.no", 1930 + rnd.randrange(80), rnd.choice(postcodes),
                        rnd.choice(("kvinne", "mann")), "active", T0, T0))
        tags.append((m, rnd.choice(("klima", "avfall", "helse"))))
        outbox.append((m, "bench", "invitation", m, "sent", 1, T0, T0, T0))
        if True:  # everyone answers: 100 000 x 20 questions, multi questions with two options each
            responses.append((m, "bench", m, rnd.choice(("reply", "click")),
                              rnd.choice(("invitation", "reminder-1", "reminder-2")), T0, T0))
            for q in s.questions:
                if q.type == QuestionType.SCALE:
                    aid += 1
                    answers.append((aid, m, "bench", q.id, None, rnd.randint(1, 5)))
                elif q.type == QuestionType.MULTI:
                    for o in rnd.sample(q.options, 2):
                        aid += 1
                        answers.append((aid, m, "bench", q.id, o, None))
                else:
                    aid += 1
                    answers.append((aid, m, "bench", q.id, rnd.choice(q.options), None))
    return members, tags, outbox, responses, answers


INSERTS = {
    "members": "INSERT INTO members (id, email, birth_year, postcode, gender, status, joined_at, changed_at, "
               "language) "
               "VALUES ({}, 'nb')",
    "member_tags": "INSERT INTO member_tags (member_id, tag) VALUES ({})",
    "outbox": "INSERT INTO outbox (id, campaign_id, step, member_id, status, attempts, not_before, created_at, "
              "sent_at) VALUES ({})",
    "responses": "INSERT INTO responses (id, campaign_id, member_id, source, after_step, first_at, updated_at) "
                 "VALUES ({})",
    "answers": "INSERT INTO answers (id, response_id, campaign_id, question_id, choice, number) VALUES ({})",
}


def load(store: Store, data: tuple[list[tuple], ...]) -> float:  # type: ignore[type-arg]
    start = time.perf_counter()
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        if not store.is_postgres:
            cur.execute("BEGIN")  # the store's connections autocommit; one transaction for the load
        for (table, sql), values in zip(INSERTS.items(), data, strict=True):
            if store.is_postgres:
                cols = sql.split("(", 1)[1].split(")", 1)[0]
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for v in values:
                        copy.write_row((*v, "nb") if table == "members" else v)
            else:
                marks = ", ".join("?" * len(values[0]))
                fixed = [tuple(x.replace(tzinfo=None) if isinstance(x, datetime) else x for x in v) for v in values]
                cur.executemany(sql.format(marks), fixed)
        if store.is_postgres:
            # COPY wrote the ids itself: move the id sequences past them, or the next INSERT collides.
            for table in ("members", "outbox", "responses", "answers"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        raw.commit()
        if store.is_postgres:
            # As autovacuum would: sets the visibility map, without which an index-only scan reads the heap.
            raw.driver_connection.autocommit = True  # type: ignore[union-attr]
            cur.execute("VACUUM ANALYZE")
            # Back to transactions before the connection returns to the pool: left in autocommit, every
            # later statement of the bench on it ran as a transaction of its own (and LOCK TABLE fails).
            raw.driver_connection.autocommit = False  # type: ignore[union-attr]
        else:
            cur.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - start


CONFIG = """
[panel]
organisation = "Bærum kommune"
address = "innbyggerpanel@baerum.example.no"
reply_domain = "svar.baerum.example.no"
[districts]
Sandvika = ["1300-1339", "1341", "1344"]
Rykkinn = ["1340", "1346", "1348", "1349"]
Lommedalen = ["1350"]
"Kolsås" = ["1351", "1352"]
"Bærums Verk" = ["1353", "1354"]
Bekkestua = ["1356", "1357", "1362"]
"Østerås" = ["1359", "1361"]
"Høvik" = ["1363", "1365", "1366"]
Stabekk = ["1358", "1368", "1369"]
Fornebu = ["1360", "1364", "1367"]
"""


def bench_settings() -> Settings:
    folder = Path(tempfile.mkdtemp(prefix="bench-config-"))
    (folder / "config.toml").write_text(CONFIG, encoding="utf-8")
    return load_settings(folder / "config.toml", load_env=False)


def timed(fn, repeat: int = 5) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    fn()  # warm the cache: the figures are for a database in use, not a cold disk
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(name: str, store: Store, data: tuple[list[tuple], ...] | None, s: Survey) -> None:  # type: ignore[type-arg]
    print(f"{name}: load average before: {load_average()}")
    start = time.perf_counter()
    store.upgrade()
    print(f"{name}: migrations in {time.perf_counter() - start:.1f} s (an existing file: 0005 counts its answers)")
    if data is not None:
        took = load(store, data)
        print(f"{name}: loaded {len(data[0]):,} members, {len(data[3]):,} responses, {len(data[4]):,} answers "
              f"in {took:.1f} s")
        start = time.perf_counter()
        with store.transaction() as session:
            answer_counts.rebuild(session, s.id)
        print(f"{name}: answer counts built from the answers (GROUP BY, as migration 0005) in "
              f"{time.perf_counter() - start:.1f} s")
    settings = bench_settings()
    population = Population(gender={"kvinne": 51, "mann": 49},
                            age_band={"15-29": 20, "30-44": 25, "45-59": 25, "60-74": 18, "75+": 12})

    def results() -> None:
        with store.transaction() as session:
            summarise(s, count_answers(session, s, MEMBERS), 5)

    scheme = cell_scheme(s, settings, population)
    start = time.perf_counter()
    with store.transaction() as session:
        fresh_cells = report_cells.read_fingerprint(session, s.id) != scheme.fingerprint
        report_cells.ensure(session, s.id, scheme, T0)
    how = "built from the answers (one GROUP BY, as the first report does)" if fresh_cells else "already kept"
    print(f"{name}: counts per report cell {how} in {time.perf_counter() - start:.1f} s")

    def report() -> None:
        with store.transaction() as session:
            build_report(session, s, settings, population)

    def report_grouped() -> None:
        with store.transaction() as session:
            build_report(session, s, settings, population, by_grouping=True)

    def cells_read() -> None:
        with store.transaction() as session:
            assert report_cells.read(session, s.id, scheme) is not None

    def scan() -> None:
        with store.transaction() as session:
            answer_counts.from_answers(session, s.id)

    dims = dimensions_for(s, settings, population.gender_tags, tuple(population.gender))

    def segments() -> None:
        with store.transaction() as session:
            for expr in dims.expressions.values():
                invited_by(session, s.id, expr)
                answered_by(session, s.id, expr)
            invited_by_tag(session, s.id)
            answered_by_tag(session, s.id)
            answered_by_column(session, s.id, Response.source)
            answered_by_column(session, s.id, Response.after_step)

    def weighting() -> None:
        with store.transaction() as session:
            counts = count_answers(session, s, MEMBERS)
            _weigh(session, s, dims, population, _raking_dimensions(dims, population), counts)

    med, best = timed(results)
    print(f"{name}: count_answers + summarise (kept counts)  median {med:.4f} s  best {best:.4f} s")
    with store.transaction() as session:
        assert answer_counts.read(session, s.id) == answer_counts.from_answers(session, s.id)
    med, best = timed(scan, repeat=3)
    print(f"{name}: the same by GROUP BY over all answers (what the counts replace)  "
          f"median {med:.3f} s  best {best:.3f} s")
    med, best = timed(segments, repeat=3)
    print(f"{name}: segment breakdowns ({len(dims.expressions)} dimensions + tags + reply/click + reminder)  "
          f"median {med:.3f} s  best {best:.3f} s")
    med, best = timed(weighting, repeat=3)
    print(f"{name}: raking + weighted figures  median {med:.3f} s  best {best:.3f} s")
    med, best = timed(report_grouped, repeat=3)
    print(f"{name}: build_report by GROUP BY (all of the above; the report before the cells)  "
          f"median {med:.3f} s  best {best:.3f} s")
    med, best = timed(cells_read)
    print(f"{name}: report_cells.read (the kept counts per cell)  median {med:.4f} s  best {best:.4f} s")
    print(f"{name}: load average now: {load_average()}")
    med, best = timed(report, repeat=5)
    print(f"{name}: **build_report from the kept cell counts**  median {med:.3f} s  best {best:.3f} s")
    with store.reading() as session:
        kept = build_report(session, s, settings, population)
        grouped = build_report(session, s, settings, population, by_grouping=True)
    assert kept.weighting is not None and kept.results.weighted
    assert_same(kept, grouped)
    assert rendered(kept) == rendered(grouped)
    print(f"{name}: the two reports compared: every figure the same (floats to 1e-9), HTML and CSV identical")
    beside_a_report(name, store, s, settings, population)
    web_report(name, store, s, settings)
    rnd = random.Random(2)
    took = []
    for m in rnd.sample(range(1, MEMBERS + 1), 300):
        answers = {q.id: (tuple(rnd.sample(q.options, 2)) if q.type == QuestionType.MULTI else
                          rnd.randint(1, 5) if q.type == QuestionType.SCALE else rnd.choice(q.options))
                   for q in s.questions}
        start = time.perf_counter()
        with store.transaction() as session:
            responses.record(session, s, m, answers, source="reply", after_step=None, now=T0)
        took.append(time.perf_counter() - start)
    print(f"{name}: responses.record replacing 20 answers, counts and cell counts kept (300 transactions)  "
          f"median {1000 * statistics.median(took):.1f} ms  p95 {1000 * sorted(took)[284]:.1f} ms")
    with store.transaction() as session:
        assert answer_counts.read(session, s.id) == answer_counts.from_answers(session, s.id)
        kept_for = report_cells.scheme_of(session, s.id)  # the web report's (no population file) by now
        assert kept_for is not None
        truth = {k: n for k, n in report_cells.from_answers(session, s.id, kept_for).items() if n}
        assert report_cells.kept(session, s.id) == truth
    print(f"{name}: after them, kept counts and cell counts equal their GROUP BY; load average {load_average()}")


def beside_a_report(name: str, store: Store, s: Survey, settings: Settings, population: Population) -> None:
    """build_report in a reading session while another thread records answers: the writer's waits."""
    import threading

    stop = threading.Event()
    waits: list[float] = []

    def writer() -> None:
        rnd = random.Random(3)
        while not stop.is_set():
            m = rnd.randint(1, MEMBERS)
            start = time.perf_counter()
            with store.transaction() as session:
                responses.record(session, s, m, {"q0": rnd.choice("ABCDE")}, source="reply", after_step=None,
                                 now=T0)
            waits.append(time.perf_counter() - start)
            time.sleep(0.01)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    time.sleep(0.3)
    start = time.perf_counter()
    with store.reading() as session:
        build_report(session, s, settings, population)
    took = time.perf_counter() - start
    stop.set()
    thread.join()
    print(f"{name}: build_report in Store.reading()  {took:.3f} s; meanwhile {len(waits)} recordings in another "
          f"thread, slowest {max(waits) * 1000:.0f} ms (median {statistics.median(waits) * 1000:.1f} ms)")


def web_report(name: str, store: Store, s: Survey, settings: Settings) -> None:
    """The public report page's HTML: kept while no answer changes, rebuilt after one."""
    from mailbot.tokens import Keys
    from mailbot.web import app as web_app

    web = web_app.Web(settings, store, Keys(("bench",)), {s.id: s}, clock=lambda: T0, topics=())
    after_close = s.closes
    start = time.perf_counter()
    first = web.report_of(s, after_close)
    built = time.perf_counter() - start
    web_app.REPORT_RECHECK = 0.0  # look at the answers on every request, the worst case
    kept = []
    for _ in range(20):
        start = time.perf_counter()
        assert web.report_of(s, after_close) is first
        kept.append(time.perf_counter() - start)
    with store.transaction() as session:
        responses.record(session, s, 7, {"q0": "E"}, source="staff", after_step=None, now=T0 + timedelta(days=40))
    start = time.perf_counter()
    again = web.report_of(s, after_close)
    rebuilt = time.perf_counter() - start
    assert again is not first
    web_app.REPORT_RECHECK = 1.0
    print(f"{name}: web report (no population file: cells of its own, built first): first build {built:.3f} s; "
          f"kept (answers looked at, none new) median "
          f"{statistics.median(kept) * 1000:.1f} ms; after one new answer rebuilt in {rebuilt:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--keep", type=Path, help="SQLite file to keep (and reuse when it exists) between runs")
    args = parser.parse_args()
    s = survey()
    data = rows(s)
    if args.only in (None, "sqlite") and args.keep:
        fresh = not args.keep.exists()
        store = Store(f"sqlite:///{args.keep}")
        try:
            run("SQLite", store, data if fresh else None, s)
        finally:
            store.dispose()
    elif args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite:///{tmp}/bench.sqlite3")
            try:
                run("SQLite", store, data, s)
            finally:
                store.dispose()
    if args.only in (None, "postgres"):
        schema = "bench_" + uuid.uuid4().hex[:10]
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        store = Store(f"{PG_URL}?options=-csearch_path%3D{schema}")
        try:
            run("PostgreSQL", store, data, s)
        finally:
            store.dispose()
            with admin.connect() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
