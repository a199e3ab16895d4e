"""The one place that owns database connections and sessions.

Everything else calls named functions in the `mailbot.store.*` modules inside
`store.transaction()`, which commits or rolls back as a whole. SQLite runs in
WAL mode with a busy timeout so the daemon, a cron `tick` and the CLI can share
one file; PostgreSQL is used as is.

SQLite has one writer at a time and every transaction here is a writer (BEGIN
IMMEDIATE). Within one process the transactions on a file therefore queue, in
order of arrival, on a lock of that file (`WriteQueue`) before they begin:
under a burst of web requests (40 threads) the waiting happens in Python, not
in SQLite's busy handler, which polls with growing sleeps, favours no one, and
after its timeout gives up with "database is locked" (a resident's click lost
to an error page). The busy timeout still covers other processes.

`Store.reading()` is for work that only reads and takes long (a report at
100 000 members): on SQLite it begins a deferred transaction on an engine of
its own, neither queueing for nor taking the write lock (WAL readers do not
block the writer, nor it them); on PostgreSQL it reads one REPEATABLE READ
snapshot. Either way it is rolled back at the end.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class Store:
    def __init__(self, url: str, *, echo: bool = False):
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if url.startswith("sqlite"):
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        self._queue: WriteQueue | None = None
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin_immediate)
            self._queue = _write_queue(self.engine.url.database or "")
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_engine: Engine | None = None
        self._read_sessions: sessionmaker[Session] | None = None
        self._read_mutex = threading.Lock()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed at the end, or rolled back on any error.

        On SQLite it first waits its turn for the file's write lock in this process (see `WriteQueue`).
        """
        with self._queue or nullcontext(), self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session that only reads, rolled back at the end; on SQLite it does not take the write lock."""
        database = self.engine.url.database or ""
        if self.is_sqlite and (not database or database == ":memory:" or database.startswith("file:")):
            with self.transaction() as session:  # a second engine would open another, empty database
                yield session
            return
        with self._read_session_factory()() as session:
            if self.is_postgres:
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            try:
                yield session
            finally:
                session.rollback()

    def _read_session_factory(self) -> sessionmaker[Session]:
        if not self.is_sqlite:
            return self._sessions
        with self._read_mutex:
            if self._read_sessions is None:
                engine = create_engine(self.engine.url, future=True,
                                       connect_args={"timeout": 30, "check_same_thread": False})
                event.listen(engine, "connect", _sqlite_pragmas)
                event.listen(engine, "begin", _sqlite_begin_deferred)
                self._read_engine = engine
                self._read_sessions = sessionmaker(engine, expire_on_commit=False)
            return self._read_sessions

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (safe to call every start)."""
        from alembic import command
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    def has_schema(self) -> bool:
        return inspect(self.engine).has_table("members")

    def dispose(self) -> None:
        self.engine.dispose()
        if self._read_engine is not None:
            self._read_engine.dispose()


class WriteQueue:
    """A re-entrant lock handed to waiting threads first come, first served.

    `threading.Lock` wakes an arbitrary waiter (and a newcomer may barge in
    ahead of all of them); here the releasing thread hands the lock to the
    oldest waiter, so no request waits behind more than those that came first.
    """

    def __init__(self) -> None:
        self._reset()
        _all_queues.add(self)

    def _reset(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[tuple[int, threading.Lock]] = deque()
        self._owner: int | None = None
        self._depth = 0

    def acquire(self) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner is None:
                self._owner, self._depth = me, 1
                return
            if self._owner == me:
                self._depth += 1
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append((me, turn))
        turn.acquire()  # released by the thread that hands us the lock (owner and depth already set)

    def release(self) -> None:
        with self._mutex:
            if self._owner != threading.get_ident():
                raise RuntimeError("release of a WriteQueue not held by this thread")
            self._depth -= 1
            if self._depth:
                return
            if self._waiters:
                self._owner, turn = self._waiters.popleft()
                self._depth = 1
                turn.release()
            else:
                self._owner = None

    def __enter__(self) -> WriteQueue:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


_queues: dict[str, WriteQueue] = {}
_queues_mutex = threading.Lock()
_all_queues: weakref.WeakSet[WriteQueue] = weakref.WeakSet()


def _after_fork() -> None:
    # A forked child has only the forking thread: locks held by the others would never be released.
    global _queues_mutex
    _queues_mutex = threading.Lock()
    for q in list(_all_queues):
        q._reset()


os.register_at_fork(after_in_child=_after_fork)


def _write_queue(database: str) -> WriteQueue:
    """One queue per SQLite file in this process, shared by every Store on it; an in-memory one per Store."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return WriteQueue()
    key = os.path.realpath(database)
    with _queues_mutex:
        return _queues.setdefault(key, WriteQueue())


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front: two processes claiming the
    # outbox serialise instead of both reading the same rows (SQLite's single-writer path).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(connection: Any) -> None:
    # A reader's BEGIN: the write lock is never asked for, so a long report holds up no writer.
    connection.exec_driver_sql("BEGIN")


def utcnow() -> datetime:
    """For edges only (the daemon's clock); the core takes `now` as an argument."""
    return datetime.now(UTC)
