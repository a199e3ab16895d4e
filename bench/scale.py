"""A panel of 10 000 and of 100 000: `python bench/scale.py [--send N]` prints planning time, send rate and memory.

Each size runs in a fresh subprocess (so peak memory is that size's own):
members are inserted, the reuse-shop survey's invitation is planned by the
real planner (`Bot.carry_out_due`: members streamed in batches, one outbox
row each), then the first N of them (default 5 000) are sent through the real
send path into an aiosmtpd sink in its own process. Memory is the process's
peak resident set (VmHWM) after planning and after sending; the
criterion is peak(100 000) <= 1.5 x peak(10 000).

Then every invitation is marked sent and `Bot.tick` runs two hours later,
when nothing is due (no step, nothing to send, no mail in): median and worst
of 5 ticks. The criterion is <= 0.5 s at 100 000 members: a tick does work
for what changed, not for the panel. `--database postgres` runs the same in
a throwaway PostgreSQL schema (MAILBOT_TEST_POSTGRES) instead of SQLite.

`--mta postfix [--workers W] [--concurrency C] [--per-minute M]` sends the
whole panel, every invitation, through a real MTA on loopback: a Postfix
instance of the bench's own (tests/deployment/postfix.py: its config, queue
and ports under a temporary folder; /etc/postfix is neither read nor
changed) that relays the members' domain to a sink process (`--serve-sink`,
aiosmtpd) counting every message by recipient and Message-ID. The send path
is `mailbot.workers.Worker`: the loop of `python -m mailbot.workers` and of
the send-only processes `mailbot run --workers W` starts (the daemon's own
tick calls the same `send_due`: claim, compose, send, record). This process
leads (plans) and sends, W-1 send-only worker processes send too, each with
C SMTP connections (`[sending] concurrency`), all claiming the real outbox
and keeping to `[sending] per_minute = M` (counted in the database for every
worker; 0 = none). Defaults W=2, C=1, M=60 000: above what 2 cores reach, so
the limit is counted on every claim but does not bind. The clock starts at
the planned invitation's time and runs at real speed. Once no row is queued, sending or
deferred, the bench waits for Postfix's queue to drain (`postqueue -p`:
empty), then compares what the sink got with the outbox: duplicates (a
recipient or Message-ID more than once) and missing (a sent row whose
Message-ID the sink never saw for its recipient). Printed per size: wall
time of the send path and to the drained queue, messages/s, peak RSS of
every sending process (the criterion: peak(100 000) <= 1.5 x peak(10 000)),
duplicates, missing, and the load average.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_mb() -> float:
    """This process's peak resident set since its exec (VmHWM): Linux carries ru_maxrss across fork and exec,
    so a worker process started from a big parent would show the parent's size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
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


# ---------------------------------------------------------------- --mta postfix: the whole panel through Postfix

MEMBERS_DOMAIN = "example.no"  # the members' addresses (tests.outbound.conftest.address): relayed to the sink


def serve_sink(port: int) -> None:
    """The sink Postfix relays to: counts (recipient, Message-ID); stdin `stats`, `dump PATH`, EOF stops."""
    import re
    from collections import Counter

    from aiosmtpd.controller import Controller

    message_id = re.compile(rb"(?im)^message-id:[ \t]*(<[^>\r\n]*>)")
    got: Counter[tuple[str, str]] = Counter()

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            content = envelope.original_content or b""  # type: ignore[attr-defined]
            head = content[:content.find(b"\r\n\r\n")] if b"\r\n\r\n" in content else content[:16384]
            m = message_id.search(head)
            mid = m.group(1).decode("ascii", "replace") if m else ""
            for r in envelope.rcpt_tos:  # type: ignore[attr-defined]
                got[(r.lower(), mid)] += 1
            return "250 2.0.0 Ok: counted"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port, data_size_limit=50 * 1024 * 1024)
    controller.start()
    print("ready", flush=True)
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "stats":
            print(sum(got.values()), len(got), flush=True)
        elif cmd == "dump":
            with open(arg, "w", encoding="utf-8") as f:
                for (r, mid), k in got.items():
                    f.write(f"{r}\t{mid}\t{k}\n")
            print("ok", flush=True)
    controller.stop()


class Sink:
    def __init__(self) -> None:
        from tests.outbound.mta import free_port

        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve-sink", str(self.port)], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"

    def ask(self, line: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def messages(self) -> int:
        return int(self.ask("stats").split()[0])

    def dump(self, path: Path) -> dict[tuple[str, str], int]:
        assert self.ask(f"dump {path}") == "ok"
        out = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            r, mid, k = line.split("\t")
            out[(r, mid)] = int(k)
        return out

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def start_postfix(base: Path, sink_port: int) -> Any:
    """tests/deployment's Postfix instance, relaying the members' domain to the sink (nothing else configured)."""
    from tests.deployment.postfix import PostfixInstance
    from tests.dovecot.server import free_port, self_signed_certificate

    conf = base / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    cert, key = base / "cert.pem", base / "key.pem"
    self_signed_certificate(cert, key, "mx.bench.invalid")
    key.chmod(0o644)  # smtpd runs as postfix
    return PostfixInstance(
        base, municipality="bench.invalid", residents="innbyggere.bench.invalid",
        dovecot_lmtp_port=free_port(), sasl_socket=base / "no-sasl", cert=cert, key=key,
        main_from_docs=f"relay_domains = {MEMBERS_DOMAIN}\ntransport_maps = hash:{conf}/transport",
        maps={"transport": f"{MEMBERS_DOMAIN} smtp:[127.0.0.1]:{sink_port}\n"},
    ).start()


def postqueue_empty(instance: Any) -> bool:
    import shutil

    done = subprocess.run([shutil.which("postqueue") or "/usr/sbin/postqueue", "-c", str(instance.conf), "-p"],
                          capture_output=True, text=True, timeout=60)
    return done.returncode == 0 and "Mail queue is empty" in done.stdout


def bench_clock(epoch: float) -> Any:
    """The panel's clock: the planned invitation's time when sending starts, then real seconds."""
    from datetime import timedelta

    from tests.outbound.conftest import NOW

    return lambda: NOW + timedelta(seconds=time.time() - epoch)


def panel_bot(panel: Path, url: str) -> Any:
    from mailbot.bot import Bot
    from mailbot.config import load_settings
    from mailbot.store import Store
    from mailbot.tokens import Keys
    from tests.conftest import make_survey

    settings = load_settings(panel / "config.toml", load_env=False)
    return Bot(settings, campaigns=[make_survey()], store=Store(url), keys=Keys(("test-key",)))


def pending(store: Any) -> int:
    from sqlalchemy import func, select

    from mailbot.store.models import Outbox

    with store.reading() as s:
        return int(s.scalar(select(func.count()).select_from(Outbox)
                            .where(Outbox.status.in_(("queued", "sending", "deferred")))) or 0)


def work(bot: Any, epoch: float, send_only: bool) -> dict[str, Any]:
    """`mailbot.workers.Worker` (the loop of `mailbot run` and its --workers), stopped once nothing is pending."""
    import threading

    from mailbot.workers import Worker, _transports_for

    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.5):
            if pending(bot.store) == 0:
                stop.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    worker = Worker(bot, _transports_for(bot, bot.settings.config.sending.concurrency), send_only=send_only,
                    clock=bench_clock(epoch), idle=0.5, stop=stop)
    t0 = time.perf_counter()
    report = worker.run()
    took = time.perf_counter() - t0
    stop.set()
    s = report.sent
    assert s is not None
    return {"sent": s.sent, "deferred": s.deferred, "failed": s.failed, "claimed": s.claimed,
            "rate_limited": bool(s.rate_limited), "relay_down": bool(s.relay_down), "rounds": report.rounds,
            "seconds": took, "rss_peak_mb": peak_mb()}


def worker_process(panel: str, url: str, epoch: float) -> None:
    bot = panel_bot(Path(panel), url)
    out = work(bot, epoch, send_only=True)
    bot.store.dispose()
    print(json.dumps(out), flush=True)


def one_size_postfix(n: int, database: str, workers: int, concurrency: int, per_minute: int) -> dict[str, Any]:
    import os
    import uuid

    from sqlalchemy import create_engine, insert, select, text

    from mailbot.store.models import Member, Outbox
    from tests.outbound.conftest import NOW, write_config

    out: dict[str, Any] = {"members": n, "workers": workers, "concurrency": concurrency, "per_minute": per_minute}
    pg_url = os.environ.get("MAILBOT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = None
    sink = Sink()
    instance = None
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp_name:
        tmp = Path(tmp_name)
        tmp.chmod(0o755)  # Postfix's daemons run as the postfix user (as tests/deployment's new_root)
        try:
            instance = start_postfix(tmp / "postfix", sink.port)
            if database == "postgres":
                schema = "bench_scale_" + uuid.uuid4().hex[:10]
                with create_engine(pg_url, isolation_level="AUTOCOMMIT").connect() as c:
                    c.execute(text(f'CREATE SCHEMA "{schema}"'))
                url = f"{pg_url}?options=-csearch_path%3D{schema}"
            else:
                url = f"sqlite:///{tmp}/scale.sqlite3"
            write_config(tmp / "panel", instance.smtp_port,
                         f"\n[sending]\nconcurrency = {concurrency}\nper_minute = {per_minute}\n")
            bot = panel_bot(tmp / "panel", url)
            store = bot.store
            store.upgrade()
            with store.transaction() as s:
                for start in range(0, n, 10_000):
                    s.execute(insert(Member), [
                        {"email": f"beboer{i}@{MEMBERS_DOMAIN}", "name": f"Beboer {i}", "language": "nb",
                         "status": "active", "joined_at": NOW, "changed_at": NOW}
                        for i in range(start, min(n, start + 10_000))])
            t0 = time.perf_counter()
            steps = bot.carry_out_due(NOW)
            out["plan_s"] = time.perf_counter() - t0
            out["queued"] = sum(d.queued for d in steps)
            out["rss_after_plan_mb"] = peak_mb()
            out["load_before"] = os.getloadavg()

            epoch = time.time()
            helpers = [subprocess.Popen([sys.executable, __file__, "--worker", str(tmp / "panel"), url, repr(epoch)],
                                        cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(workers - 1)]
            t0 = time.perf_counter()
            lead = work(bot, epoch, send_only=False)
            reports = [lead]
            for h in helpers:
                stdout, _ = h.communicate(timeout=3600)
                assert h.returncode == 0, f"a worker process exited {h.returncode}"
                reports.append(json.loads(stdout.strip().splitlines()[-1]))
            out["send_s"] = time.perf_counter() - t0
            # The Postfix queue drains into the sink.
            sent = sum(r["sent"] for r in reports)
            last, last_change = -1, time.monotonic()
            while True:
                got = sink.messages()
                if got != last:
                    last, last_change = got, time.monotonic()
                if got >= sent and postqueue_empty(instance):
                    break
                if time.monotonic() - last_change > 120:
                    instance.flush()
                if time.monotonic() - last_change > 600:
                    raise RuntimeError(f"the Postfix queue did not drain: sink has {got} of {sent}")
                time.sleep(0.2)
            out["drained_s"] = time.perf_counter() - t0
            out["load_after"] = os.getloadavg()
            out["postqueue_empty"] = postqueue_empty(instance)
            out["sent"] = sent
            out["deferred"] = sum(r["deferred"] for r in reports)
            out["failed"] = sum(r["failed"] for r in reports)
            out["rate_limited"] = any(r["rate_limited"] for r in reports)
            out["sent_per_process"] = [r["sent"] for r in reports]
            out["rss_per_process_mb"] = [round(r["rss_peak_mb"], 1) for r in reports]
            out["rss_peak_mb"] = max(r["rss_peak_mb"] for r in reports)

            at_sink = sink.dump(tmp / "sink.tsv")
            with store.reading() as s:
                rows = s.execute(select(Member.email, Outbox.message_id, Outbox.status)
                                 .join(Member, Member.id == Outbox.member_id)).all()
            statuses: dict[str, int] = {}
            for _, _, status in rows:
                statuses[status] = statuses.get(status, 0) + 1
            out["outbox"] = statuses
            expected = {(email.lower(), mid) for email, mid, status in rows if status == "sent"}
            by_recipient: dict[str, int] = {}
            by_mid: dict[str, int] = {}
            for (r, mid), k in at_sink.items():
                by_recipient[r] = by_recipient.get(r, 0) + k
                by_mid[mid] = by_mid.get(mid, 0) + k
            out["sink_messages"] = sum(at_sink.values())
            out["duplicates_by_recipient"] = sum(k - 1 for k in by_recipient.values() if k > 1)
            out["duplicates_by_message_id"] = sum(k - 1 for k in by_mid.values() if k > 1)
            out["missing"] = len(expected - at_sink.keys())  # sent rows the sink never saw
            out["unexpected"] = len(at_sink.keys() - expected)  # at the sink, but not a sent row
            out["not_sent"] = n - len(expected)  # members whose invitation did not end "sent"
            with store.reading() as s:  # the throttle: the most claims in any 60 s (the window it counts)
                claims = sorted(s.scalars(select(Outbox.claimed_at).where(Outbox.claimed_at.is_not(None))).all())
            busiest, j = 0, 0
            for i, t in enumerate(claims):
                while (t - claims[j]).total_seconds() >= 60:
                    j += 1
                busiest = max(busiest, i - j + 1)
            out["busiest_minute"] = busiest
            store.dispose()
        finally:
            if instance is not None:
                instance.stop()
            sink.stop()
            if schema is not None:
                with create_engine(pg_url, isolation_level="AUTOCOMMIT").connect() as c:
                    c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    return out


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def main_postfix(database: str, sizes: list[int], workers: int, concurrency: int, per_minute: int) -> None:
    print(f"{database} through Postfix, workers={workers} concurrency={concurrency} per_minute={per_minute}; "
          f"/proc/loadavg {loadavg()}", flush=True)
    results = {}
    for n in sizes:
        done = subprocess.run([sys.executable, __file__, "--one-postfix", str(n), database, str(workers),
                               str(concurrency), str(per_minute)], cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stdout[-5000:], done.stderr[-5000:], sep="\n")
            raise SystemExit(f"members={n}: the run failed")
        r = results[n] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"members={n} queued={r['queued']} plan_s={r['plan_s']:.1f} sent={r['sent']} "
              f"deferred={r['deferred']} failed={r['failed']} rate_limited={r['rate_limited']} "
              f"per_process={r['sent_per_process']}\n"
              f"  send_path_s={r['send_s']:.1f} ({r['sent'] / r['send_s']:.0f} msg/s) "
              f"drained_s={r['drained_s']:.1f} ({r['sent'] / r['drained_s']:.0f} msg/s end to end) "
              f"postqueue_empty={r['postqueue_empty']}\n"
              f"  rss_after_plan_mb={r['rss_after_plan_mb']:.0f} rss_peak_mb={r['rss_peak_mb']:.0f} "
              f"per_process={r['rss_per_process_mb']}\n"
              f"  sink_messages={r['sink_messages']} duplicates recipient={r['duplicates_by_recipient']} "
              f"message_id={r['duplicates_by_message_id']} missing={r['missing']} unexpected={r['unexpected']} "
              f"not_sent={r['not_sent']} outbox={r['outbox']}\n"
              f"  throttle: most claims in any 60 s={r['busiest_minute']} (per_minute={r['per_minute']})\n"
              f"  loadavg before={' '.join(f'{x:.2f}' for x in r['load_before'])} "
              f"after={' '.join(f'{x:.2f}' for x in r['load_after'])}", flush=True)
    if len(sizes) >= 2:
        small, big = results[sizes[0]], results[sizes[-1]]
        print(f"memory_ratio_{sizes[-1]}_over_{sizes[0]}={big['rss_peak_mb'] / small['rss_peak_mb']:.2f} "
              f"(target <= 1.5)")
    ok = all(r["duplicates_by_recipient"] == r["duplicates_by_message_id"] == r["missing"] == r["unexpected"]
             == r["not_sent"] == 0 and r["postqueue_empty"] for r in results.values())
    print(f"duplicates 0, missing 0, queue empty: {'yes' if ok else 'NO'}; /proc/loadavg {loadavg()}")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        print(json.dumps(one_size(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])))
        return
    if len(sys.argv) > 2 and sys.argv[1] == "--one-postfix":
        n, database, workers, concurrency, per_minute = sys.argv[2:7]
        print(json.dumps(one_size_postfix(int(n), database, int(workers), int(concurrency), int(per_minute))))
        return
    if len(sys.argv) > 2 and sys.argv[1] == "--serve-sink":
        serve_sink(int(sys.argv[2]))
        return
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        worker_process(sys.argv[2], sys.argv[3], float(sys.argv[4]))
        return
    import os

    def opt(name: str, default: str) -> str:
        return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default

    send = int(opt("--send", "5000"))
    database = opt("--database", "sqlite")
    if opt("--mta", "sink") == "postfix":
        sizes = [int(x) for x in opt("--sizes", "10000,100000").split(",")]
        main_postfix(database, sizes, int(opt("--workers", "2")), int(opt("--concurrency", "1")),
                     int(opt("--per-minute", "60000")))
        return
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
