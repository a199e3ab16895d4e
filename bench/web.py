"""One-click answers under load: 200 concurrent clients POSTing to uvicorn on loopback.

    .venv/bin/python bench/web.py [--clients 200] [--clicks 5000] [--database URL]

Each click answers for a different member, so afterwards every click must be
found recorded exactly once with the value sent. Prints clicks per second,
p50/p99 latency and errors (which must be 0). The server runs in its own
process (uvicorn, one worker) against SQLite in a temporary folder unless
--database names another (e.g. a PostgreSQL URL). The per-IP rate limit is
switched off: every client comes from 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailbot.campaigns import Question, QuestionType, Survey  # noqa: E402
from mailbot.config import load_settings  # noqa: E402
from mailbot.store import Store  # noqa: E402
from mailbot.store.models import Answer, Member, Response  # noqa: E402
from mailbot.tokens import Keys  # noqa: E402
from mailbot.web import RateLimit, create_app  # noqa: E402
from mailbot.web.guard import form_guard  # noqa: E402

KEYS = Keys(("bench-key",))
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


def serve(config: str, port: int) -> None:
    import uvicorn

    settings = load_settings(Path(config), load_env=False)
    store = Store(settings.database_url)
    app = create_app(settings, store, KEYS, [survey()], rate_limit=RateLimit(0, 0))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run_clients(base: str, jobs: list[tuple[int, str]], clients: int) -> tuple[list[float], int, float]:
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:

        async def client() -> None:
            nonlocal errors
            while not queue.empty():
                member_id, value = queue.get_nowait()
                token = KEYS.link_token("answer", {"m": member_id, "c": "bench"})
                data = {"guard": form_guard(KEYS, "answer", token), "answer": value}
                t0 = time.perf_counter()
                try:
                    r = await http.post(f"/svar/{token}/need/{value}", data=data)
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - t0)
                errors += not ok

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    return latencies, errors, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--clicks", type=int, default=5000)
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mailbot-bench-"))
    url = args.database or f"sqlite:///{folder / 'bench.sqlite3'}"
    config = folder / "config.toml"
    config.write_text(CONFIG.format(url=url), "utf-8")
    store = Store(url)
    store.upgrade()
    now = datetime.now(UTC)
    with store.transaction() as s:
        rows = [{"email": f"b{i}@example.no", "language": "nb", "status": "active", "joined_at": now,
                 "changed_at": now} for i in range(args.clicks)]
        ids = list(s.scalars(insert(Member).returning(Member.id, sort_by_parameter_order=True), rows))
    jobs = [(member_id, OPTIONS[i % 3]) for i, member_id in enumerate(ids)]
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(str(config), port), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/", timeout=1)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                print("the server did not start", file=sys.stderr)
                return 1
            time.sleep(0.1)
    try:
        latencies, errors, elapsed = asyncio.run(run_clients(base, jobs, args.clients))
    finally:
        server.terminate()
        server.join(10)
    with store.transaction() as s:
        responses = s.scalar(select(func.count()).select_from(Response)) or 0
        answers = dict(s.execute(select(Response.member_id, Answer.choice)
                                 .join(Answer, Answer.response_id == Response.id)).all())
        answer_rows = s.scalar(select(func.count()).select_from(Answer)) or 0
    expected = dict(jobs)
    exact = responses == len(jobs) and answer_rows == len(jobs) and answers == expected
    q = statistics.quantiles(latencies, n=100)
    print(f"database         {store.engine.dialect.name}")
    print(f"clients          {args.clients}")
    print(f"clicks           {len(jobs)} in {elapsed:.2f} s")
    print(f"clicks/second    {len(jobs) / elapsed:.0f}")
    print(f"latency p50      {q[49] * 1000:.1f} ms")
    print(f"latency p99      {q[98] * 1000:.1f} ms")
    print(f"errors           {errors}")
    print(f"recorded once    {'yes' if exact else 'NO'} ({responses} responses, {answer_rows} answers)")
    store.dispose()
    return 0 if errors == 0 and exact else 1


if __name__ == "__main__":
    sys.exit(main())
