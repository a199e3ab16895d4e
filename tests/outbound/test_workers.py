"""Several workers, crashes and overlapping cron runs: nothing twice, nothing lost, one planner.

Workers run as real processes (`python -m mailbot.workers`, `mailbot tick`)
against the same database as the test and a real SMTP relay on loopback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mailbot.states import OutboxState
from mailbot.store import Store
from mailbot.store import outbox as outbox_store
from mailbot.store.models import Outbox
from mailbot.workers import Leadership
from tests.conftest import ROOT
from tests.outbound.conftest import address, queue_invitations, write_config
from tests.outbound.mta import Relay


def panel_dir(tmp_path: Path, relay: Relay, extra: str = "") -> Path:
    cfg = write_config(tmp_path / "panel", relay.port, extra)
    (cfg.parent / "schedules" / "ombruk-2022.toml").write_text(
        (ROOT / "schedules" / "ombruk-2022.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return cfg


def env_for(store: Store) -> dict[str, str]:
    return {**os.environ, "MAILBOT_DATABASE_URL": store.url, "MAILBOT_TOKEN_KEY": "test-key",
            "PYTHONPATH": str(ROOT)}


def start_workers(cfg: Path, store: Store, n: int = 1, *more: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "mailbot.workers", "-c", str(cfg), "--workers", str(n),
                             "--exit-when-idle", *more], env=env_for(store), cwd=ROOT,
                            start_new_session=True)


def counts(store: Store) -> dict[str, int]:
    with store.transaction() as s:
        return dict(s.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all())  # type: ignore[arg-type]


@pytest.mark.slow
def test_kill_9_in_the_middle_of_5000_then_restart_loses_nothing_and_duplicates_only_what_was_in_flight(
        tmp_path, store, capsys):
    total = 5000
    with Relay() as relay:
        cfg = panel_dir(tmp_path, relay, "\n[sending]\nconcurrency = 2\n")
        queue_invitations(store, total)
        started = time.monotonic()
        workers = start_workers(cfg, store, 2)
        deadline = time.monotonic() + 120
        while sum(relay.handler.received.values()) < total // 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(workers.pid, signal.SIGKILL)  # the parent and both worker processes, mid-send
        workers.wait()
        time.sleep(0.2)
        delivered_at_kill = sum(relay.handler.received.values())
        in_flight = counts(store).get(OutboxState.SENDING.value, 0)
        assert 0 < delivered_at_kill < total and in_flight > 0
        with store.transaction() as s:  # the sending timeout passes; the restarted worker's sweep frees them
            outbox_store.sweep(s, datetime.now(UTC) + timedelta(hours=1), timedelta(minutes=15))
        again = start_workers(cfg, store, 2)
        assert again.wait(timeout=150) == 0
        handler = relay.handler
        took = time.monotonic() - started
    assert counts(store) == {"sent": total}
    assert set(handler.received) == {address(i) for i in range(total)}
    duplicates = handler.duplicates()
    with capsys.disabled():
        print(f"\n[kill -9] {store.engine.dialect.name}: delivered before kill {delivered_at_kill}, "
              f"in flight {in_flight}, duplicates {duplicates}, {took:.1f} s in all")
    assert duplicates <= in_flight


@pytest.mark.slow
@pytest.mark.postgres
def test_four_workers_on_postgresql_send_each_email_once(tmp_path):
    from tests.conftest import _pg_store

    gen = _pg_store()
    store = next(gen)
    try:
        with Relay() as relay:
            cfg = panel_dir(tmp_path, relay)
            queue_invitations(store, 2000)
            assert start_workers(cfg, store, 4).wait(timeout=150) == 0
            received = relay.handler.received
        assert counts(store) == {"sent": 2000}
        assert received == {address(i): 1 for i in range(2000)}
    finally:
        gen.close()


@pytest.mark.slow
def test_two_ticks_started_at_the_same_moment_send_each_email_once(tmp_path, store):
    with Relay() as relay:
        cfg = panel_dir(tmp_path, relay)
        queue_invitations(store, 1000)
        cmd = [str(Path(sys.executable).parent / "mailbot"), "tick", "-c", str(cfg), "--now", "2022-12-01T11:00"]
        env = env_for(store)
        ticks = [subprocess.Popen(cmd + ["--json"], env=env, cwd=ROOT, stdout=subprocess.PIPE) for _ in range(2)]
        for t in ticks:
            t.communicate(timeout=150)
        received = relay.handler.received
    assert counts(store) == {"sent": 1000}
    assert received == {address(i): 1 for i in range(1000)}


HOLD = """
import sys, time
from mailbot.store import Store
from mailbot.workers import Leadership
lead = Leadership(Store(sys.argv[1]))
print("held" if lead.try_acquire() else "not", flush=True)
time.sleep(60)
"""


def test_one_planner_at_a_time_and_a_new_one_when_the_holder_dies(store):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, store.url], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT, env=env_for(store))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        mine = Leadership(store)
        assert not mine.try_acquire()
        holder.send_signal(signal.SIGKILL)  # no clean release: the lock must die with the session/process
        holder.wait()
        deadline = time.monotonic() + 10
        while not mine.try_acquire():
            assert time.monotonic() < deadline, "the lock did not pass on"
            time.sleep(0.1)
        assert mine.held
        assert not Leadership(store).try_acquire()
        mine.release()
        assert Leadership(store).try_acquire()
    finally:
        holder.kill()
        holder.wait()


def tick_json(cfg: Path, store: Store) -> dict[str, object]:
    import json

    cmd = [str(Path(sys.executable).parent / "mailbot"), "tick", "-c", str(cfg), "--now", "2022-12-01T11:00", "--json"]
    done = subprocess.run(cmd, env=env_for(store), cwd=ROOT, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def test_a_tick_while_another_process_holds_the_planner_lock_only_sends(tmp_path, store):
    with Relay() as relay:
        cfg = panel_dir(tmp_path, relay)
        queue_invitations(store, 3, step="reminder-9")  # queued earlier: any tick sends it
        lead = Leadership(store)
        assert lead.try_acquire()
        try:
            follower = tick_json(cfg, store)
        finally:
            lead.release()
        assert follower["planned"] is False and follower["steps"] == [] and follower["sent"] == 3
        leader = tick_json(cfg, store)  # the lock is free: this one plans (the survey's invitation is due)
        assert leader["planned"] is True
        assert [s["step"] for s in leader["steps"]] == ["invitation"]  # type: ignore[union-attr,index]


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.slow
def test_run_with_workers_sends_from_several_processes_and_stops_them_all_on_sigterm(tmp_path, store):
    from mailbot.transport.local import free_port

    total = 3000
    with Relay() as relay:
        cfg = panel_dir(tmp_path, relay)
        queue_invitations(store, total, step="reminder-9")
        cmd = [str(Path(sys.executable).parent / "mailbot"), "run", "-c", str(cfg), "--workers", "3", "--no-web",
               "--every", "1", "--port", str(free_port())]
        daemon = subprocess.Popen(cmd, env=env_for(store), cwd=ROOT, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while sum(relay.handler.received.values()) < total // 5 and time.monotonic() < deadline:
                time.sleep(0.05)
            workers = children(daemon.pid)
            assert len(workers) == 2, workers  # the daemon plans and sends; two more only send
        finally:
            daemon.send_signal(signal.SIGTERM)
            _, err = daemon.communicate(timeout=90)
        assert daemon.returncode == 0, err.decode()
        for w in workers:  # stopped and reaped with the daemon
            assert not Path(f"/proc/{w}").exists()
        after = counts(store)
        delivered = sum(relay.handler.received.values())
    assert set(after) <= {"sent", "queued"}, after  # nothing left "sending": claimed rows were handed back
    assert after.get("sent", 0) == delivered and relay.handler.duplicates() == 0


def test_a_worker_told_to_exit_when_idle_waits_out_a_full_rate_window_and_sends_the_rest(tmp_path, store):
    import threading

    from mailbot.workers import Worker, _transports_for
    from tests.outbound.conftest import NOW, make_bot

    class Pause(threading.Event):
        """The worker's idle wait: the test's clock moves on a minute instead of sleeping one."""

        waits = 0

        def wait(self, timeout: float | None = None) -> bool:
            Pause.waits += 1
            return self.is_set()

    with Relay() as relay:
        bot = make_bot(tmp_path, store, relay.port, "\n[sending]\nper_minute = 50\n")
        queue_invitations(store, 120)
        worker = Worker(bot, _transports_for(bot, 1), send_only=True, exit_when_idle=True, idle=0.01,
                        clock=lambda: NOW + timedelta(minutes=Pause.waits))
        worker.stop = Pause()
        worker.run()
        assert counts(store) == {OutboxState.SENT: 120}
        assert sum(relay.handler.received.values()) == 120 and relay.handler.duplicates() == 0
        assert Pause.waits >= 2  # it waited for two new windows rather than stopping at the first full one
