"""Shared fixtures: a store on SQLite and on PostgreSQL, the demo panel's settings, factories.

Tests that take `store` run twice, once per database. PostgreSQL is expected
on 127.0.0.1:5432 (trust auth, database `test`); each test gets its own
schema, dropped afterwards. Locally a missing server skips those runs; in CI
(CI=true) it fails them, so a missing service can never pass silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

if "PYTEST_XDIST_WORKER" in os.environ:
    # A pytest-xdist worker inherits COLUMNS=80, and the CLI's module-level rich consoles fix their width
    # when first imported; without it each test's CliRunner(env={"COLUMNS": ...}) sets the width, as in a
    # run without workers.
    os.environ.pop("COLUMNS", None)

from mailbot.campaigns import Audience, Question, QuestionType, Survey
from mailbot.panel.settings import Settings, load_settings
from mailbot.store import Store

ROOT = Path(__file__).resolve().parents[1]
OSLO = ZoneInfo("Europe/Oslo")
PG_URL = os.environ.get("MAILBOT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need_service(what: str, reason: str) -> None:
    """Skip locally, fail in CI: a test that needs a missing service never passes silently."""
    if IN_CI:
        pytest.fail(f"{what} is required in CI: {reason}")
    pytest.skip(f"{what} not available: {reason}")


_pg_ok: bool | None = None


def postgres_available() -> bool:
    global _pg_ok
    if _pg_ok is None:
        try:
            engine = create_engine(PG_URL)
            with engine.connect() as c:
                c.execute(text("select 1"))
            engine.dispose()
            _pg_ok = True
        except Exception:
            _pg_ok = False
    return _pg_ok


def _pg_store() -> Iterator[Store]:
    if not postgres_available():
        need_service("PostgreSQL on 127.0.0.1:5432", "cannot connect")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    store = Store(f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    try:
        store.upgrade()
        yield store
    finally:
        store.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated store: once on SQLite (a file, WAL), once on PostgreSQL."""
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'mailbot.sqlite3'}")
        s.upgrade()
        yield s
        s.dispose()
    else:
        yield from _pg_store()


@pytest.fixture
def pg_store() -> Iterator[Store]:
    """An empty, migrated store on PostgreSQL only, for what exists only there (several web workers)."""
    yield from _pg_store()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'mailbot.sqlite3'}")
    s.upgrade()
    yield s
    s.dispose()


PANEL_CONFIG = """
[panel]
name = "Innbyggerpanelet"
organisation = "Bærum kommune"
address = "innbyggerpanel@baerum.example.no"
reply_domain = "svar.baerum.example.no"
public_url = "http://127.0.0.1:8080"

[database]
url = "sqlite:///mailbot.sqlite3"

[transport]
kind = "local"
port = {port}
mailboxes = "mailboxes"

[paths]
templates = "{templates}"

[districts]
Sandvika = ["1300-1319"]
Bekkestua = ["1356-1357"]
"""


def write_panel(folder: Path, port: int = 8025) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "schedules").mkdir(exist_ok=True)
    cfg = folder / "config.toml"
    cfg.write_text(PANEL_CONFIG.format(port=port, templates=(ROOT / "templates").as_posix()), encoding="utf-8")
    return cfg


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(write_panel(tmp_path / "panel"), load_env=False)


def oslo(y: int, mo: int, d: int, h: int = 9, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=OSLO)


def make_survey(id: str = "ombruk-2022", *, opens: datetime | None = None, closes: datetime | None = None,
                reminders: tuple[int, ...] = (4, 9), audience: Audience | None = None) -> Survey:
    """The reuse-shop survey of December 2022, as in schedules/ombruk-2022.toml."""
    from datetime import timedelta

    return Survey(
        id=id, title="Behov for en ombruksbutikk i Bærum",
        opens=opens or oslo(2022, 12, 1, 9), closes=closes or oslo(2022, 12, 15, 23, 59),
        reminders=tuple(timedelta(days=d) for d in reminders), audience=audience or Audience(),
        questions=(
            Question("need", 1, "Er det behov for en ombruksbutikk i Bærum?", QuestionType.CHOICE,
                     ("Ja", "Nei", "Vet ikke")),
            Question("goods", 2, "Hvilke varer bør butikken selge?", QuestionType.MULTI,
                     ("Møbler", "Klær", "Sportsutstyr", "Elektronikk", "Bøker")),
            Question("satisfaction", 3, "Hvor fornøyd er du med dagens tilbud for gjenbruk?", QuestionType.SCALE,
                     min=1, max=5, min_label="svært misfornøyd", max_label="svært fornøyd"),
            Question("location", 4, "Hvor i Bærum bør butikken ligge?", QuestionType.TEXT, required=False),
        ),
    )
