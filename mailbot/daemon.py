"""`mailbot run`: the whole bot in one asyncio process.

One event loop holds:

- the scheduler (APScheduler 3 `AsyncIOScheduler`) running a tick every
  `every` seconds — read inbound, carry out due steps, send — in a worker
  thread, never two at once;
- the SMTP servers: the local post office for `transport.kind = "local"`
  (outgoing mail into Maildirs, replies into the database), and/or the
  inbound SMTP/LMTP receiver an MTA delivers replies to (`--inbound`);
- the web app under uvicorn (the one-click pages from `mailbot.web` when it
  is installed) with `/healthz` and `/metrics` in front of it.

What is due is recomputed from the database on every tick, so the scheduler
holds no campaign state: a reminder due while the daemon was down goes out on
the first tick after it starts. The one job is set up deliberately anyway —
`coalesce=True` (after a stall, run once, not once per missed interval),
`misfire_grace_time=None` (run however late: APScheduler 3's default grace
of one second would silently drop a tick after a pause), `max_instances=1`.

Planning (reading replies, carrying out due steps) happens only in the
process holding the planner lock (`mailbot.workers.Leadership`: a PostgreSQL
advisory lock, or a file lock beside the SQLite database); a daemon that does
not hold it only sends, and takes the lock over on a later tick when its
holder dies. `--workers N` adds N-1 send-only worker processes
(`python -m mailbot.workers --send-only`), stopped with the daemon.

Sending keeps to `[sending]` per_minute/per_hour/per_day (counted in the
database, so all workers together keep to them); `--max-per-minute` lowers
the per-minute limit for this process and spaces its emails evenly.

Stopping (SIGTERM or SIGINT): the tick in progress gets the answer to the
email it is sending and tries no more; the rows it had claimed but not tried
go back to the queue at once. No new tick starts, the worker processes get
SIGTERM, then the web server and the mail servers stop. Nothing is left in
"sending"; the exit code is 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from mailbot.bot import Bot, TickReport
from mailbot.metrics import CONTENT_TYPE, Metrics
from mailbot.pacing import Limits, RateLimiter
from mailbot.sending import SendOptions
from mailbot.store.models import Inbound, Outbox
from mailbot.transport.local import PostOfficeHandler, port_is_listening

log = logging.getLogger("mailbot.daemon")

HEALTH_TIMEOUT = 5.0  # seconds a health check may take before it counts as failed


class DaemonError(Exception):
    """The daemon cannot start: a port taken, a bad --inbound address. The message says which."""


@dataclass(frozen=True)
class Listen:
    """Where an inbound mail server listens: `lmtp://127.0.0.1:8024`, `smtp://0.0.0.0:25`, `lmtp:/run/x.sock`."""

    protocol: str  # "smtp" or "lmtp"
    host: str = "127.0.0.1"
    port: int = 0
    socket_path: str | None = None

    @classmethod
    def parse(cls, value: str) -> Listen:
        scheme, sep, rest = value.partition(":")
        if not sep or scheme not in ("smtp", "lmtp"):
            raise DaemonError(f"--inbound {value!r}: write lmtp://HOST:PORT, smtp://HOST:PORT or lmtp:/path/to.sock")
        if not rest.startswith("//"):
            if not rest.startswith("/"):
                raise DaemonError(f"--inbound {value!r}: a socket path must be absolute (lmtp:/run/mailbot.sock)")
            return cls(scheme, socket_path=rest)
        parts = urlsplit(value)
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            raise DaemonError(f"--inbound {value!r}: name the host and the port, e.g. {scheme}://127.0.0.1:8024")
        return cls(scheme, parts.hostname, port)


@dataclass(frozen=True)
class DaemonOptions:
    every: float = 60.0  # seconds between ticks
    web: bool = True  # serve the resident pages (mailbot.web), if installed
    host: str = "127.0.0.1"  # HTTP: resident pages, /healthz, /metrics
    port: int = 8080
    inbound: Listen | None = None  # the SMTP/LMTP receiver for an MTA (not needed with "local")
    max_per_minute: float | None = None  # lowers [sending] per_minute here and spaces sends evenly
    workers: int = 1  # this process plus workers-1 send-only worker processes
    http: bool = True  # False: no HTTP server at all (tests, or a second daemon on one machine)
    # More than 1: the resident pages in a `mailbot web --workers N` child on web_port (PostgreSQL only);
    # this process's own HTTP server (on `port`) then serves /healthz and /metrics only.
    web_workers: int = 1
    web_port: int = 8080


def web_port(public_url: str) -> int:
    """The port the resident pages are served on: the public URL's own when it names one, else 8080."""
    parts = urlsplit(public_url)
    try:
        return parts.port or 8080
    except ValueError:
        return 8080


@dataclass
class TickState:
    """What /healthz says about the scheduler and the last tick."""

    running_since: float | None = None
    last_end: float | None = None
    last_error: str | None = None
    ticks: int = 0


def status_counts(bot: Bot) -> Mapping[str, Mapping[str, int]]:
    """Outbox and inbound rows by status, for /metrics."""
    with bot.store.transaction() as s:
        outbox = dict(s.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).tuples().all())
        inbound = dict(s.execute(select(Inbound.status, func.count()).group_by(Inbound.status)).tuples().all())
    return {"outbox": outbox, "inbound": inbound}


class _Uvicorn:
    """uvicorn's Server without its own signal handling: the daemon owns SIGTERM."""

    def __init__(self, app: Any, sock: socket.socket):
        import uvicorn

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield

        config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, log_level="warning")
        self.server = Server(config)
        self.sock = sock
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        while not self.server.started:
            if self.task.done():
                self.task.result()
                raise DaemonError("the web server stopped while starting")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task
        self.sock.close()


class Daemon:
    """Scheduler, mail servers and web server in the running event loop; `await run()` until stopped."""

    def __init__(self, bot: Bot, options: DaemonOptions | None = None, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.bot = bot
        self.options = options or DaemonOptions()
        self.clock = clock
        self.metrics = Metrics(lambda: status_counts(bot))
        self.state = TickState()
        self.stopping = threading.Event()  # read by the tick thread between emails
        self._stopped = asyncio.Event()
        self._tick_future: asyncio.Future[TickReport | None] | None = None
        self._servers: list[asyncio.AbstractServer] = []
        self._stoppers: list[Callable[[], None]] = []  # run after the servers have closed
        self._web: _Uvicorn | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.http_port: int | None = None
        from mailbot.workers import Leadership

        self.leadership = Leadership(bot.store)
        self.leading = False
        self.workers: list[subprocess.Popen[bytes]] = []
        self.web_pages: subprocess.Popen[bytes] | None = None  # the `mailbot web` child (web_workers > 1)
        self.send_options, self.limiter = self._pacing()

    def _pacing(self) -> tuple[SendOptions | None, RateLimiter | None]:
        """[sending] limits, with --max-per-minute as a lower per-minute limit spaced evenly."""
        cap = self.options.max_per_minute
        if not cap:
            return None, None
        opts = self.bot.composer.options
        per_minute = max(1, int(cap)) if not opts.limits.per_minute else min(opts.limits.per_minute,
                                                                              max(1, int(cap)))
        limits = Limits(per_minute, opts.limits.per_hour, opts.limits.per_day)
        limiter = RateLimiter(Limits(cap, opts.limits.per_hour, opts.limits.per_day), sleep=self.stopping.wait,
                              burst=1)
        return dataclasses.replace(opts, limits=limits), limiter

    # ------------------------------------------------------------ life cycle

    def request_stop(self) -> None:
        if not self.stopping.is_set():
            log.info("stopping: finishing the email in hand, handing the rest back")
        self.stopping.set()
        self._stopped.set()

    async def run(self, *, ready: Callable[[Daemon], None] | None = None) -> int:
        """Serve until SIGTERM/SIGINT or `request_stop()`; 0 after a clean stop."""
        loop = asyncio.get_running_loop()
        installed = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.request_stop)
                installed.append(sig)
        try:
            await self._start()
            if ready is not None:
                ready(self)
            await self._stopped.wait()
        finally:
            await self._shutdown()
            for sig in installed:
                loop.remove_signal_handler(sig)
        return 0

    async def _start(self) -> None:
        await self._start_mail_servers()
        if self.options.http:
            await self._start_http()
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.scheduler.add_job(
            self._tick_job, IntervalTrigger(seconds=self.options.every, timezone=UTC), id="tick",
            name="tick", next_run_time=datetime.now(UTC),
            coalesce=True, misfire_grace_time=None, max_instances=1, replace_existing=True,
        )
        self.scheduler.start()
        self._start_workers()
        log.info("daemon started every=%s web=%s http_port=%s transport=%s", self.options.every,
                 self.options.web, self.http_port, self.bot.settings.config.transport.kind)

    def _start_web_pages(self) -> None:
        """The resident pages in their own processes (`mailbot web --workers N`), so clicks use every core."""
        self.web_pages = subprocess.Popen(
            [sys.executable, "-c", "from mailbot.cli import main; main()", "web", "-c", str(self.bot.settings.file),
             "--workers", str(self.options.web_workers), "--host", self.options.host,
             "--port", str(self.options.web_port)])
        log.info("started the resident pages pid=%s web_workers=%s port=%s", self.web_pages.pid,
                 self.options.web_workers, self.options.web_port)

    def _watch_web_pages(self) -> None:
        """A web child that died (a bug, the OOM killer) is started again: the pages must stay up."""
        if self.web_pages is not None and self.web_pages.poll() is not None and not self.stopping.is_set():
            log.error("the resident pages stopped (exit %s): starting them again", self.web_pages.returncode)
            self._start_web_pages()

    def _start_workers(self) -> None:
        """workers-1 send-only processes on the same config; SIGTERM on stop, each finishing its email."""
        if self.options.web_workers > 1:
            self._start_web_pages()
        for _ in range(max(0, self.options.workers - 1)):
            self.workers.append(subprocess.Popen(
                [sys.executable, "-m", "mailbot.workers", "-c", str(self.bot.settings.file), "--send-only"]))
        if self.workers:
            log.info("started send-only workers pids=%s", ",".join(str(p.pid) for p in self.workers))

    def _stop_workers(self) -> None:
        children = [*self.workers, *([self.web_pages] if self.web_pages is not None else [])]
        self.web_pages = None  # stopped like a worker: SIGTERM, then wait
        for p in children:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in children:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                log.error("worker pid=%s did not stop within 60 s: killed (its rows go back after "
                          "[sending] sending_timeout)", p.pid)
                p.kill()
                p.wait()
        self.workers.clear()

    async def _shutdown(self) -> None:
        self.stopping.set()
        workers = asyncio.ensure_future(asyncio.to_thread(self._stop_workers))
        if self._tick_future is not None and not self._tick_future.done():
            log.info("waiting for the tick in progress")
            with contextlib.suppress(Exception):
                await self._tick_future
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await workers
        await asyncio.to_thread(self.leadership.release)
        if self._web is not None:
            await self._web.stop()
            self._web = None
        for server in self._servers:
            server.close()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)
        self._servers.clear()
        for stop in self._stoppers:
            await asyncio.to_thread(stop)
        self._stoppers.clear()
        log.info("daemon stopped ticks=%s", self.state.ticks)

    # ------------------------------------------------------------ ticks

    async def _tick_job(self) -> None:
        if self.stopping.is_set():
            return
        self._watch_web_pages()
        self._tick_future = asyncio.ensure_future(asyncio.to_thread(self._tick))
        # Shielded: the scheduler cancelling this job at shutdown must not orphan the tick's result.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(self._tick_future)

    def _tick(self) -> TickReport | None:
        started = time.monotonic()
        self.state.running_since = time.time()
        try:
            leading = self.leadership.try_acquire()
            if leading != self.leading:
                log.info("planner lock %s", "taken: this daemon plans" if leading else
                         "held elsewhere: this daemon only sends")
                self.leading = leading
            with self.bot.transport() as transport:
                report = self.bot.tick(self.clock(), transport, stopping=self.stopping.is_set, plan=leading,
                                       limiter=self.limiter, options=self.send_options)
        except Exception as exc:  # the loop never dies: log, count, try again next tick
            self.state.last_error = f"{type(exc).__name__}: {exc}"
            self.metrics.ticks.labels("failed").inc()
            log.error("tick failed error=%s", type(exc).__name__, exc_info=True)
            return None
        finally:
            self.state.running_since = None
            self.state.last_end = time.time()
            self.state.ticks += 1
        seconds = time.monotonic() - started
        self.state.last_error = None
        self.metrics.record_tick(report, seconds)
        s, i = report.sent, report.inbound
        if s.sent or s.deferred or s.failed or i.replies or i.commands or i.machines or report.steps:
            log.info("tick sent=%s deferred=%s failed=%s replies=%s answered=%s needs_human=%s steps=%s seconds=%.2f",
                     s.sent, s.deferred, s.failed, i.replies, i.answered, i.needs_human, len(report.steps),
                     seconds)
        for d in report.steps:
            log.info("step campaign=%s step=%s queued=%s", d.campaign_id, d.step, d.queued)
        return report

    # ------------------------------------------------------------ mail servers

    def _count_received(self, keep: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any) -> Any:
            result = keep(*args)
            self.metrics.received.inc()
            return result

        return counted

    async def _start_mail_servers(self) -> None:
        from aiosmtpd.smtp import SMTP

        bot = self.bot
        t = bot.settings.config.transport
        loop = asyncio.get_running_loop()
        fqdn = await asyncio.to_thread(socket.getfqdn)
        if t.kind == "local":
            handler = PostOfficeHandler(bot.mailbox_root(), [bot.settings.panel.reply_domain],
                                        self._count_received(bot.store_inbound))

            def post_office() -> SMTP:
                return SMTP(handler, data_size_limit=handler.max_size + 1024, decode_data=False, hostname=fqdn)

            self._servers.append(await self._serve(loop, post_office, t.host, t.port, None, "local post office"))
        inbound = self.options.inbound or self._configured_receiver()
        if inbound is not None:
            self._servers.append(await self._start_receiver(loop, inbound, fqdn))
        self._start_imap()

    def _configured_receiver(self) -> Listen | None:
        c = self.bot.settings.config.inbound
        if c.kind not in ("lmtp", "smtp"):
            return None
        return Listen(c.kind, c.host, c.port, c.socket or None)

    def _start_imap(self) -> None:
        """The IMAP poller runs in a thread of its own (IDLE blocks); stopped with the daemon."""
        imap = self.bot.imap_settings()
        if imap is None:
            return
        from mailbot.transport.imap import run_forever

        stop = threading.Event()
        thread = threading.Thread(target=run_forever, args=(self.bot.store, imap, stop), name="imap",
                                  daemon=True)
        thread.start()

        def stop_imap() -> None:
            stop.set()
            thread.join(timeout=30)

        self._stoppers.append(stop_imap)
        log.info("reading mailbox what=imap host=%s folder=%s", imap.host, imap.folder)

    async def _start_receiver(self, loop: asyncio.AbstractEventLoop, where: Listen, fqdn: str) -> asyncio.Server:
        from aiosmtpd.smtp import SMTP

        from mailbot.transport.receiver import (
            GroupCommit,
            InboundHandler,
            PanelLMTP,
            PanelSMTP,
            ReceiverSettings,
        )

        panel = self.bot.settings.panel
        settings = ReceiverSettings(domains=(panel.reply_domain,), local_part=panel.local_part,
                                    protocol="lmtp" if where.protocol == "lmtp" else "smtp",
                                    host=where.host, port=where.port, socket_path=where.socket_path)
        store = GroupCommit(self.bot.store, via=where.protocol).start()
        self._stoppers.append(store.stop)

        async def keep(raw: bytes, mail_from: str, rcpt_tos: Sequence[str]) -> int | None:
            new_id = await store(raw, mail_from, rcpt_tos)
            self.metrics.received.inc()
            return new_id

        handler = InboundHandler(keep, settings)
        cls = PanelLMTP if where.protocol == "lmtp" else PanelSMTP

        def receiver() -> SMTP:
            server = cls(handler, data_size_limit=settings.max_size, decode_data=False, hostname=fqdn)
            server.max_size = settings.max_size
            return server

        return await self._serve(loop, receiver, where.host, where.port, where.socket_path,
                                 f"inbound {where.protocol.upper()} server")

    async def _serve(self, loop: asyncio.AbstractEventLoop, factory: Callable[[], asyncio.Protocol], host: str,
                     port: int, socket_path: str | None, what: str) -> asyncio.Server:
        try:
            if socket_path:
                from pathlib import Path

                Path(socket_path).unlink(missing_ok=True)
                server = await loop.create_unix_server(factory, socket_path)
                Path(socket_path).chmod(0o660)  # Postfix's lmtp client must be able to write to it
                log.info("listening what=%s socket=%s", what.replace(" ", "-"), socket_path)
            else:
                server = await loop.create_server(factory, host, port, reuse_address=True)
                log.info("listening what=%s host=%s port=%s", what.replace(" ", "-"), host, port)
        except OSError as exc:
            where = socket_path or f"{host}:{port}"
            raise DaemonError(f"cannot start the {what} on {where}: {exc.strerror or exc}") from None
        return server

    # ------------------------------------------------------------ HTTP

    async def _start_http(self) -> None:
        app = self.http_app()
        sock = socket.socket(socket.AF_INET6 if ":" in self.options.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.options.host, self.options.port))
        except OSError as exc:
            sock.close()
            raise DaemonError(f"cannot serve the web pages on {self.options.host}:{self.options.port}: "
                              f"{exc.strerror or exc} (use --port, or --no-web)") from None
        sock.listen(128)
        sock.setblocking(False)
        self.http_port = int(sock.getsockname()[1])
        self._web = _Uvicorn(app, sock)
        await self._web.start()
        log.info("listening what=http host=%s port=%s", self.options.host, self.http_port)

    def http_app(self) -> Starlette:
        """/healthz and /metrics, in front of the resident pages when `mailbot.web` is there and wanted."""
        routes: list[Route | Mount] = [
            Route("/healthz", self._healthz, methods=["GET", "HEAD"]),
            Route("/metrics", self._metrics, methods=["GET"]),
        ]
        if self.options.web:
            web = self._resident_pages()
            if web is not None:
                routes.append(Mount("/", app=web))
        return Starlette(routes=routes)

    def _resident_pages(self) -> Any:
        try:
            from mailbot.web import create_app
        except ImportError:
            log.warning("web pages not available: mailbot.web.create_app is missing; serving /healthz only")
            return None
        bot = self.bot
        return create_app(bot.settings, bot.store, bot.keys, bot.campaigns)

    async def _metrics(self, request: Request) -> Response:
        body = await asyncio.to_thread(self.metrics.render)
        return Response(body, media_type=CONTENT_TYPE)

    async def _healthz(self, request: Request) -> Response:
        checks = await self.health()
        ok = all(c["ok"] for c in checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                            status_code=200 if ok else 503)

    async def health(self) -> dict[str, dict[str, Any]]:
        """Database reachable, mail server reachable, scheduler alive: each {"ok": bool, …}."""
        t = self.bot.settings.config.transport

        def database() -> None:
            with self.bot.store.engine.connect() as c:
                c.execute(text("SELECT 1"))

        def mail() -> None:
            if not port_is_listening(t.host, t.port):
                raise ConnectionError(f"nothing answers on {t.host}:{t.port}")

        out: dict[str, dict[str, Any]] = {}
        for name, check in (("database", database), ("mail_server", mail)):
            out[name] = await _timed(asyncio.to_thread(check))
        out["scheduler"] = self._scheduler_health()
        return out

    def _scheduler_health(self) -> dict[str, Any]:
        sched = self.scheduler
        job = sched.get_job("tick") if sched is not None and sched.running else None
        st = self.state
        info: dict[str, Any] = {"ok": job is not None and not self.stopping.is_set(), "ticks": st.ticks,
                                "ticking": st.running_since is not None}
        if job is not None and job.next_run_time is not None:
            info["next_tick"] = job.next_run_time.isoformat()
        if st.last_end is not None:
            info["last_tick"] = datetime.fromtimestamp(st.last_end, UTC).isoformat()
        if st.last_error:
            info["last_error"] = st.last_error
        return info


async def _timed(check: Awaitable[None]) -> dict[str, Any]:
    started = time.monotonic()
    try:
        await asyncio.wait_for(check, HEALTH_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - any failure is "not healthy", said in the answer
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "ms": round(1000 * (time.monotonic() - started), 1)}


def run(bot: Bot, options: DaemonOptions, *, ready: Callable[[Daemon], None] | None = None) -> int:
    """Run the daemon in a new event loop until it is stopped; the exit code."""

    async def main() -> int:
        return await Daemon(bot, options).run(ready=ready)

    return asyncio.run(main())


__all__ = ["Daemon", "DaemonError", "DaemonOptions", "Listen", "run", "status_counts", "web_port"]
