"""Claims per second on PostgreSQL with 1, 2 and 4 workers: `python bench/claims.py [ROWS] [--batch B]`.

Each run queues ROWS invitations (default 20 000) in a fresh schema on
127.0.0.1:5432, then starts the workers as separate processes; each claims
batches of B (default 200, the sender's default) with the real
`outbox.claim` (SELECT … FOR UPDATE SKIP LOCKED, suppression check, UPDATE to
"sending") and records them sent (`outbox.record`, as the sender does), until
nothing is left. Printed: rows claimed per second by all workers together,
and that no row was claimed twice.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from mailbot.states import OutboxState  # noqa: E402
from mailbot.store import Store  # noqa: E402
from mailbot.store import outbox as outbox_store  # noqa: E402
from mailbot.store.models import Outbox  # noqa: E402
from tests.conftest import PG_URL  # noqa: E402
from tests.outbound.conftest import NOW, queue_invitations  # noqa: E402


def worker(url: str, batch: int, start: multiprocessing.synchronize.Event, out: multiprocessing.Queue) -> None:
    store = Store(url)
    claimed: list[int] = []
    start.wait()
    while True:
        with store.transaction() as s:
            rows = outbox_store.claim(s, NOW, batch)
        if not rows:
            break
        with store.transaction() as s:
            outbox_store.record(s, [outbox_store.Outcome(r.outbox_id, OutboxState.SENT, NOW, "250 ok", "<x@y>")
                                    for r in rows])
        claimed += [r.outbox_id for r in rows]
    out.put(claimed)
    store.dispose()


def run(workers: int, rows: int, batch: int) -> tuple[float, int]:
    schema = "bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    try:
        store = Store(url)
        store.upgrade()
        queue_invitations(store, rows)
        ctx = multiprocessing.get_context("spawn")
        start, out = ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=worker, args=(url, batch, start, out)) for _ in range(workers)]
        for p in procs:
            p.start()
        time.sleep(1.0)  # all connected and waiting
        t0 = time.perf_counter()
        start.set()
        claimed = [i for _ in procs for i in out.get()]
        took = time.perf_counter() - t0
        for p in procs:
            p.join()
        with store.transaction() as s:
            sent = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "sent"))
        assert sent == rows == len(claimed), (sent, rows, len(claimed))
        store.dispose()
        return rows / took, len(claimed) - len(set(claimed))
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    rows = int(next((a for a in sys.argv[1:] if a.isdigit()), "20000"))
    batch = int(sys.argv[sys.argv.index("--batch") + 1]) if "--batch" in sys.argv else 200
    for n in (1, 2, 4):
        rate, twice = run(n, rows, batch)
        print(f"postgresql workers={n} rows={rows} batch={batch} claims_per_s={rate:.0f} claimed_twice={twice}",
              flush=True)


if __name__ == "__main__":
    main()
