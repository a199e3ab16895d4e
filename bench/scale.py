"""A panel of 10 000 and of 100 000: `python bench/scale.py [--send N]` prints planning time, send rate and memory.

Each size runs in a fresh subprocess (so peak memory is that size's own):
members are inserted, the reuse-shop survey's invitation is planned by the
real planner (`Bot.carry_out_due`: members streamed in batches, one outbox
row each), then the first N of them (default 5 000) are sent through the real
send path into an aiosmtpd sink in its own process. Memory is the process's
peak resident set (`ru_maxrss`) after planning and after sending; the
criterion is peak(100 000) <= 1.5 x peak(10 000).

Then every invitation is marked sent and `Bot.tick` runs two hours later,
when nothing is due (no step, nothing to send, no mail in): median and worst
of 5 ticks. The criterion is <= 0.5 s at 100 000 members: a tick does work
for what changed, not for the panel. `--database postgres` runs the same in
a throwaway PostgreSQL schema (MAILBOT_TEST_POSTGRES) instead of SQLite.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class NothingDue:
    """The transport of a tick with nothing due: sending anything is a failure of the bench."""

    def send(self, message: bytes, envelope_from: str, recipient: str) -> str:
        raise AssertionError("a tick with nothing due sent an email")

    def close(self) -> None:
        pass


def one_size(n: int, send: int, database: str = "sqlite") -> dict[str, float]:
    import os
    import statistics
    import uuid
    from datetime import timedelta

    from sqlalchemy import create_engine, insert, text

    from mailbot.sending import send_due
    from mailbot.store import Store
    from mailbot.store.models import Member, Outbox
    from mailbot.transport.smtp import SmtpSender, SmtpSettings
    from tests.outbound.conftest import NOW, make_bot
    from tests.outbound.mta import free_port

    port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "tests.outbound.mta", str(port)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert sink.stdout is not None
    sink.stdout.readline()
    out: dict[str, float] = {"members": n}
    schema = None
    pg_url = os.environ.get("MAILBOT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with tempfile.TemporaryDirectory() as tmp:
        if database == "postgres":
            schema = "bench_scale_" + uuid.uuid4().hex[:10]
            with create_engine(pg_url, isolation_level="AUTOCOMMIT").connect() as c:
                c.execute(text(f'CREATE SCHEMA "{schema}"'))
            store = Store(f"{pg_url}?options=-csearch_path%3D{schema}")
        else:
            store = Store(f"sqlite:///{tmp}/scale.sqlite3")
        store.upgrade()
        bot = make_bot(Path(tmp), store, port)
        with store.transaction() as s:
            for start in range(0, n, 10_000):
                s.execute(insert(Member), [
                    {"email": f"beboer{i}@example.no", "name": f"Beboer {i}", "language": "nb", "status": "active",
                     "joined_at": NOW, "changed_at": NOW} for i in range(start, min(n, start + 10_000))])
        out["rss_before_plan_mb"] = peak_mb()
        t0 = time.perf_counter()
        steps = bot.carry_out_due(NOW)
        out["plan_s"] = time.perf_counter() - t0
        out["queued"] = sum(d.queued for d in steps)
        out["rss_after_plan_mb"] = peak_mb()
        with store.transaction() as s:  # send the first `send` of them (the others wait: not due yet)
            from sqlalchemy import update

            s.execute(update(Outbox).where(Outbox.member_id > send).values(not_before=NOW.replace(year=2030)))
        smtp = SmtpSender(SmtpSettings("127.0.0.1", port, reconnect_after=1_000_000))
        t0 = time.perf_counter()
        report = send_due(store, bot.composer, smtp, NOW)
        out["send_per_s"] = report.sent / (time.perf_counter() - t0)
        out["sent"] = report.sent
        smtp.close()
        out["rss_peak_mb"] = peak_mb()
        with store.transaction() as s:  # every invitation delivered: nothing left to do
            s.execute(update(Outbox).values(status="sent", sent_at=NOW, attempts=1))
        later = NOW + timedelta(hours=2)
        ticks = []
        for _ in range(5):
            t0 = time.perf_counter()
            tick = bot.tick(later, NothingDue())
            ticks.append(time.perf_counter() - t0)
            assert not tick.steps and not tick.sent.claimed, tick
        out["tick_s"] = statistics.median(ticks)
        out["tick_max_s"] = max(ticks)
        store.dispose()
        if schema is not None:
            with create_engine(pg_url, isolation_level="AUTOCOMMIT").connect() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    assert sink.stdin is not None
    sink.stdin.close()
    sink.wait()
    return out


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        print(json.dumps(one_size(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])))
        return
    import os

    send = int(sys.argv[sys.argv.index("--send") + 1]) if "--send" in sys.argv else 5000
    database = sys.argv[sys.argv.index("--database") + 1] if "--database" in sys.argv else "sqlite"
    print(f"{database}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    results = {}
    for n in (10_000, 100_000):
        done = subprocess.run([sys.executable, __file__, "--one", str(n), str(send), database], cwd=ROOT,
                              check=True, capture_output=True, text=True)
        results[n] = json.loads(done.stdout.strip().splitlines()[-1])
        r = results[n]
        print(f"members={n} queued={r['queued']:.0f} plan_s={r['plan_s']:.2f} "
              f"plan_per_s={r['queued'] / r['plan_s']:.0f} sent={r['sent']:.0f} send_per_s={r['send_per_s']:.0f} "
              f"rss_after_plan_mb={r['rss_after_plan_mb']:.0f} rss_peak_mb={r['rss_peak_mb']:.0f} "
              f"tick_nothing_due_s={r['tick_s']:.3f} (worst {r['tick_max_s']:.3f})", flush=True)
    ratio = results[100_000]["rss_peak_mb"] / results[10_000]["rss_peak_mb"]
    print(f"memory_ratio_100k_over_10k={ratio:.2f} (target <= 1.5)")
    print(f"tick_nothing_due_100k={results[100_000]['tick_s']:.3f} s (target <= 0.5); "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
