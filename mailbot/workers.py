"""Several senders, one planner: workers sharing one database, on one machine or many.

Every worker sends: claims keep them apart (SKIP LOCKED on PostgreSQL, the
write lock on SQLite), so N workers never take the same row. Exactly one of
them plans (reads inbound mail, carries out due steps) — the one holding the
leader lock:

- PostgreSQL: `pg_try_advisory_lock` (per schema) on a dedicated connection. The lock
  belongs to that session: when the holder dies (kill -9, a lost machine, a
  cut network) PostgreSQL ends the session and the lock with it, and another
  worker takes it on its next try. No lease to tune, no clock to trust.
- SQLite: an exclusive `flock` on a file beside the database; the kernel
  drops it when the holding process dies.

No job store is shared between schedulers (APScheduler 3 cannot do that
safely): planning is recomputed from the database by whoever leads.

`python -m mailbot.workers -c config.toml --workers 4` runs four worker
processes; `--send-only` runs one that never plans (for extra machines).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from mailbot.sending import SendOptions, SendReport, Transport, send_concurrently
from mailbot.store import Store

log = logging.getLogger("mailbot.workers")

LEADER_NAME = "mailbot-planner"


def _lock_key(name: str) -> int:
    # A stable signed 32-bit key derived from a readable name; the lock's second key is the schema's
    # hash, so panels in separate schemas of one database (and parallel test runs) do not share a planner.
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)


_PG_KEYS = ":k, hashtext(current_schema())"


class Leadership:
    """The planner's lock: `try_acquire` is cheap and safe to call every round."""

    def __init__(self, store: Store, name: str = LEADER_NAME):
        self.store = store
        self.name = name
        self.key = _lock_key(name)
        self._conn: Connection | None = None
        self._file: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        if self._file is not None:
            return True
        if self._conn is None:
            return False
        try:  # the lock lives as long as this session; make sure the session still does
            self._conn.execute(text("SELECT 1"))
            return True
        except Exception:
            log.warning("lost the planner lock (connection gone)")
            self._forget()
            return False

    def try_acquire(self) -> bool:
        if self.held:
            return True
        if self.store.is_postgres:
            conn = self.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                got = bool(conn.execute(text(f"SELECT pg_try_advisory_lock({_PG_KEYS})"), {"k": self.key}).scalar())
            except Exception:
                conn.close()
                raise
            if got:
                self._conn = conn
                log.info("took the planner lock (pid %s)", os.getpid())
            else:
                conn.close()
            return got
        return self._try_file()

    def _try_file(self) -> bool:
        import fcntl

        path = self._lock_path()
        if path is None:  # an in-memory database belongs to this process alone
            self._file = open(os.devnull, "wb")  # noqa: SIM115 - held until release()
            return True
        f = open(path, "ab")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return False
        self._file = f
        return True

    def _lock_path(self) -> Path | None:
        db = self.store.engine.url.database
        if not db or db == ":memory:":
            return None
        return Path(f"{db}.{self.name}.lock")

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(text(f"SELECT pg_advisory_unlock({_PG_KEYS})"), {"k": self.key})
        self._forget()

    def _forget(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None
        if self._file is not None:
            self._file.close()  # closing drops the flock
        self._file = None

    def __enter__(self) -> Leadership:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@dataclass
class WorkerReport:
    rounds: int = 0
    planned: int = 0  # rounds in which this worker held the lock and planned
    sent: SendReport | None = None


class Worker:
    """One process's loop: plan when leading, send always, sleep when idle, stop on request."""

    def __init__(self, bot: Any, transports: Callable[[], list[Transport]], *, send_only: bool = False,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), idle: float = 1.0,
                 plan_every: float = 30.0, stop: threading.Event | None = None,
                 options: SendOptions | None = None, exit_when_idle: bool = False):
        self.bot = bot
        self.transports = transports
        self.send_only = send_only
        self.clock = clock
        self.idle = idle
        self.plan_every = plan_every
        self.stop = stop or threading.Event()
        self.options = options
        self.exit_when_idle = exit_when_idle
        self.leadership = Leadership(bot.store)

    def plan(self, now: datetime) -> bool:
        """Read inbound and carry out due steps, if this worker holds the planner lock."""
        if self.send_only or not self.leadership.try_acquire():
            return False
        self.bot.read_inbound(now)
        self.bot.carry_out_due(now)
        return True

    def run(self) -> WorkerReport:
        report = WorkerReport(sent=SendReport())
        transports = self.transports()
        last_plan: datetime | None = None
        try:
            while not self.stop.is_set():
                report.rounds += 1
                now = self.clock()
                if last_plan is None or (now - last_plan).total_seconds() >= self.plan_every:
                    if self.plan(now):
                        report.planned += 1
                    last_plan = now
                kwargs: dict[str, Any] = {"clock": self.clock}
                if self.options is not None:
                    kwargs["options"] = self.options
                sent = send_concurrently(self.bot.store, self.bot.composer, transports, now, **kwargs)
                assert report.sent is not None
                report.sent.add(sent)
                busy = sent.claimed and not sent.relay_down and not sent.rate_limited
                if not busy:
                    # A relay that is down, or a full rate window, is a pause, not the end of the work.
                    if self.exit_when_idle and not sent.relay_down and not sent.rate_limited:
                        break
                    self.stop.wait(self.idle)
        finally:
            for t in transports:
                t.close()
            self.leadership.release()
        return report


# ---------------------------------------------------------------- processes


def _transports_for(bot: Any, n: int) -> Callable[[], list[Transport]]:
    from mailbot.transport.smtp import SmtpSender, SmtpSettings

    t = bot.settings.config.transport
    password = os.environ.get("MAILBOT_SMTP_PASSWORD", "") if t.username else ""
    settings = SmtpSettings(t.host, t.port, t.security, t.username, password, t.timeout,
                            reconnect_after=bot.settings.config.sending.reconnect_after)
    return lambda: [SmtpSender(settings) for _ in range(n)]


def worker_main(config: str, send_only: bool = False, exit_when_idle: bool = False, idle: float = 1.0) -> int:
    """One worker process: load the panel, then plan (when leading) and send until SIGTERM."""
    from mailbot.bot import Bot
    from mailbot.panel.settings import load_settings

    settings = load_settings(config)
    bot = Bot(settings).prepare()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    worker = Worker(bot, _transports_for(bot, settings.config.sending.concurrency), send_only=send_only,
                    stop=stop, exit_when_idle=exit_when_idle, idle=idle)
    report = worker.run()
    assert report.sent is not None
    log.info("worker %s done: sent %s, deferred %s, failed %s", os.getpid(), report.sent.sent,
             report.sent.deferred, report.sent.failed)
    bot.store.dispose()
    return 0


def run_workers(config: str, n: int, *, send_only: bool = False, exit_when_idle: bool = False) -> int:
    """`n` worker processes (one plans at a time); SIGTERM/SIGINT stops them all, each finishing its batch."""
    if n <= 1:
        return worker_main(config, send_only, exit_when_idle)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=worker_main, args=(config, send_only, exit_when_idle), name=f"mailbot-worker-{i}")
             for i in range(n)]
    for p in procs:
        p.start()

    def forward(signum: int, _frame: object) -> None:
        for p in procs:
            if p.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for p in procs:
        p.join()
    return max((p.exitcode or 0) for p in procs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mailbot.workers", description=__doc__.split("\n")[0])
    parser.add_argument("-c", "--config", default="config.toml")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--send-only", action="store_true", help="never plan; only send")
    parser.add_argument("--exit-when-idle", action="store_true", help="stop when nothing is due (tests, cron)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(process)d %(levelname)s %(name)s %(message)s")
    return run_workers(args.config, args.workers, send_only=args.send_only, exit_when_idle=args.exit_when_idle)


if __name__ == "__main__":
    sys.exit(main())
