"""One-click answers under load: 200 concurrent clients POSTing to uvicorn on loopback.

    .venv/bin/python bench/web.py [--clients 200] [--clicks 5000] [--procs 2] [--database URL | --postgres]
                                  [--workers 1 2]

Each click answers for a different member (its own token and form guard, built
before the clock starts), so afterwards every click must be found recorded
exactly once with the value sent. Prints clicks per second, p50/p99/max latency,
errors (which must be 0) with the status, body or exception of each failed
request, the server's log lines, the CPU seconds of server and clients and
`uptime`. The server runs in its own process (uvicorn, one worker) against
SQLite in a temporary folder unless --database names another, or --postgres
asks for a throwaway schema in MAILBOT_TEST_POSTGRES. The clients run in
--procs processes of their own, each an asyncio loop of plain HTTP/1.1
keep-alive connections (a few lines over asyncio streams, far lighter than an
HTTP library, so the load generator takes less of the CPU the server needs).
A client gives up on a request after --timeout seconds and counts it as an
error; a keep-alive connection the server closed (uvicorn: idle 5 s) before
any byte of the answer is resent once on a new one, as browsers do, and
counted. The per-IP rate limit is switched off: every client comes from 127.0.0.1.

`--workers 1 2` runs the whole once per number of web processes
(`mailbot.web.workers.serve`, as `mailbot web --workers N` does; PostgreSQL
only for more than 1), each on a fresh schema, and prints the clicks/s of
each against the first (issue 12: >= 1.6x from 1 to 2). Server CPU then
counts the parent and its workers.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import func, insert, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailbot.campaigns import Question, QuestionType, Survey  # noqa: E402
from mailbot.panel.settings import load_settings  # noqa: E402
from mailbot.store import Store  # noqa: E402
from mailbot.store.models import Answer, Member, Response  # noqa: E402
from mailbot.tokens import Keys  # noqa: E402
from mailbot.web import RateLimit, create_app  # noqa: E402
from mailbot.web.guard import form_guard  # noqa: E402

KEYS = Keys(("bench-key",))
PG_URL = os.environ.get("MAILBOT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
OPTIONS = ("Ja", "Nei", "Vet ikke")
CONFIG = """
[panel]
organisation = "Bærum kommune"
address = "innbyggerpanel@baerum.example.no"
reply_domain = "svar.baerum.example.no"
[database]
url = "{url}"
"""


def survey() -> Survey:
    now = datetime.now(UTC)
    return Survey(id="bench", title="Benk", opens=now - timedelta(days=1), closes=now + timedelta(days=7),
                  questions=(Question("need", 1, "Er det behov?", QuestionType.CHOICE, OPTIONS),))


def serve(config: str, port: int, log: str, workers: int = 1) -> None:
    import uvicorn

    from mailbot.web.workers import serve as serve_workers

    out = open(log, "w", buffering=1)  # noqa: SIM115 - lives as long as the process
    os.dup2(out.fileno(), 2)
    sys.stderr = out
    settings = load_settings(Path(config), load_env=False)
    bench_survey = survey()

    def make_app() -> Any:
        return create_app(settings, Store(settings.database_url), KEYS, [bench_survey], rate_limit=RateLimit(0, 0))

    if workers > 1:
        serve_workers(make_app, "127.0.0.1", port, workers)
        return
    uvicorn.run(make_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


Job = tuple[int, str, str, bytes]  # member id, value, path, form body


def build_jobs(ids: list[int]) -> list[Job]:
    jobs = []
    for i, member_id in enumerate(ids):
        value = OPTIONS[i % 3]
        token = KEYS.link_token("answer", {"m": member_id, "c": "bench"})
        body = urlencode({"guard": form_guard(KEYS, "answer", token), "answer": value}).encode()
        jobs.append((member_id, value, f"/svar/{token}/need/{quote(value)}", body))
    return jobs


async def post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int, path: str,
               body: bytes) -> tuple[int, bytes]:
    writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                 f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
                 .encode() + body)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next((int(x.split(":", 1)[1]) for x in lines[1:] if x.lower().startswith("content-length:")), None)
    if length is None:
        raise ValueError(f"no content-length: {lines[0]}")
    return status, await reader.readexactly(length)


async def client_loop(port: int, jobs: list[Job], clients: int, timeout: float,
                      start: Any) -> tuple[list[float], list[str], float, float, float, int]:
    queue: collections.deque[Job] = collections.deque(jobs)
    latencies: list[float] = []
    failures: list[str] = []
    stale = 0

    async def client() -> None:
        nonlocal stale
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while queue:
            member_id, value, path, body = queue.popleft()
            t0 = time.monotonic()
            for attempt in range(2):
                reused = conn is not None
                try:
                    if conn is None:
                        conn = await asyncio.open_connection("127.0.0.1", port)
                    status, text = await asyncio.wait_for(post(*conn, port, path, body), timeout)
                    if status != 200:
                        failures.append(f"member {member_id}: HTTP {status} after {time.monotonic() - t0:.1f} s: "
                                        f"{text[:300]!r}")
                    break
                except Exception as exc:  # noqa: BLE001 - every failure is reported, none stops the run
                    if conn is not None:
                        conn[1].close()
                    conn = None
                    if reused and attempt == 0 and (
                            isinstance(exc, ConnectionResetError | BrokenPipeError)
                            or (isinstance(exc, asyncio.IncompleteReadError) and not exc.partial)):
                        # The server closed this idle keep-alive connection (uvicorn: after 5 s) as we
                        # sent on it, before any byte of an answer: browsers resend then, so do we (counted).
                        stale += 1
                        continue
                    failures.append(f"member {member_id}: {type(exc).__name__} {exc!s:.200} "
                                    f"after {time.monotonic() - t0:.1f} s")
                    break
            latencies.append(time.monotonic() - t0)
        if conn is not None:
            conn[1].close()

    while not start.is_set():
        await asyncio.sleep(0.001)
    began = time.monotonic()
    cpu0 = time.process_time()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, failures, began, time.monotonic(), time.process_time() - cpu0, stale


def client_process(port: int, jobs: list[Job], clients: int, timeout: float, start: Any, out: Any) -> None:
    out.put(asyncio.run(client_loop(port, jobs, clients, timeout, start)))


def cpu_seconds(pid: int) -> float:
    """CPU seconds of the process and of its children (the web workers)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--clicks", type=int, default=5000)
    parser.add_argument("--procs", type=int, default=2, help="client processes (the clients are shared out)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds a client waits for one answer")
    parser.add_argument("--database", default="")
    parser.add_argument("--postgres", action="store_true", help="a throwaway schema in MAILBOT_TEST_POSTGRES")
    parser.add_argument("--workers", type=int, nargs="+", default=[1],
                        help="web processes; several numbers: one run each, compared (default: 1)")
    args = parser.parse_args()
    code = 0
    rates: list[tuple[int, float]] = []
    for workers in args.workers:
        folder = Path(tempfile.mkdtemp(prefix="mailbot-bench-"))
        schema = ""
        if args.postgres:
            schema = "bench_" + uuid.uuid4().hex[:10]
            admin = Store(PG_URL)
            with admin.engine.begin() as c:
                c.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        else:
            url = args.database or f"sqlite:///{folder / 'bench.sqlite3'}"
        try:
            print(f"web workers      {workers}")
            ok, rate = run(args, folder, url, workers)
            code = code or ok
            rates.append((workers, rate))
        finally:
            if schema:
                with admin.engine.begin() as c:
                    c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    if len(rates) > 1:
        first_workers, first = rates[0]
        print("scaling          " + ", ".join(f"{w} workers {r:.0f} clicks/s = {r / first:.2f}x of {first_workers}"
                                              for w, r in rates[1:]))
    return code


def run(args: argparse.Namespace, folder: Path, url: str, web_workers: int = 1) -> tuple[int, float]:
    config = folder / "config.toml"
    config.write_text(CONFIG.format(url=url), "utf-8")
    store = Store(url)
    store.upgrade()
    now = datetime.now(UTC)
    with store.transaction() as s:
        rows = [{"email": f"b{i}@example.no", "language": "nb", "status": "active", "joined_at": now,
                 "changed_at": now} for i in range(args.clicks)]
        ids = list(s.scalars(insert(Member).returning(Member.id, sort_by_parameter_order=True), rows))
    jobs = build_jobs(ids)
    port = free_port()
    log = folder / "server.log"
    spawn = multiprocessing.get_context("spawn")
    server = spawn.Process(target=serve, args=(str(config), port, str(log), web_workers))
    server.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                print("the server did not start", file=sys.stderr)
                return 1, 0.0
            time.sleep(0.1)
    start = spawn.Event()
    out = spawn.Queue()
    procs = max(1, args.procs)
    workers = [spawn.Process(target=client_process, daemon=True, args=(
        port, jobs[i::procs], args.clients // procs + (i < args.clients % procs), args.timeout, start, out))
        for i in range(procs)]
    for w in workers:
        w.start()
    time.sleep(1.0)  # let the client processes import and wait at the start line
    server_cpu0 = cpu_seconds(server.pid or 0)
    start.set()
    try:
        results = [out.get() for _ in workers]
        server_cpu = cpu_seconds(server.pid or 0) - server_cpu0
    finally:
        for w in workers:
            w.join(10)
        server.terminate()
        server.join(10)
    latencies = [x for r in results for x in r[0]]
    failures = [x for r in results for x in r[1]]
    elapsed = max(r[3] for r in results) - min(r[2] for r in results)
    client_cpu = sum(r[4] for r in results)
    stale = sum(r[5] for r in results)
    with store.transaction() as s:
        responses = s.scalar(select(func.count()).select_from(Response)) or 0
        answers = dict(s.execute(select(Response.member_id, Answer.choice)
                                 .join(Answer, Answer.response_id == Response.id)).all())
        answer_rows = s.scalar(select(func.count()).select_from(Answer)) or 0
    expected = {member_id: value for member_id, value, _, _ in jobs}
    exact = responses == len(jobs) and answer_rows == len(jobs) and answers == expected
    q = statistics.quantiles(latencies, n=100)
    print(f"database         {store.engine.dialect.name}")
    print(f"clients          {args.clients} in {procs} processes")
    print(f"clicks           {len(jobs)} in {elapsed:.2f} s")
    print(f"clicks/second    {len(jobs) / elapsed:.0f}")
    print(f"latency p50      {q[49] * 1000:.1f} ms")
    print(f"latency p99      {q[98] * 1000:.1f} ms")
    print(f"latency max      {max(latencies) * 1000:.1f} ms")
    print(f"CPU seconds      server {server_cpu:.1f}, clients {client_cpu:.1f}")
    print(f"errors           {len(failures)}")
    print(f"resent           {stale} (keep-alive connection closed by the server before any answer)")
    for f in failures[:10]:
        print(f"  {f}")
    print(f"recorded once    {'yes' if exact else 'NO'} ({responses} responses, {answer_rows} answers)")
    logged = log.read_text("utf-8", "replace").splitlines() if log.exists() else []
    if logged:
        print(f"server log       {len(logged)} lines; the last 30:")
        for line in logged[-30:]:
            print(f"  {line}")
    print(f"uptime           {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    store.dispose()
    return (0 if not failures and exact else 1), len(jobs) / elapsed


if __name__ == "__main__":
    sys.exit(main())
