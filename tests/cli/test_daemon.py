"""`mailbot run`: scheduler settings, /healthz and /metrics, and a clean stop on SIGTERM that loses nothing."""

from __future__ import annotations

import asyncio
import mailbox
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from mailbot.bot import Bot
from mailbot.cli import app
from mailbot.daemon import Daemon, DaemonError, DaemonOptions, Listen
from mailbot.panel.settings import load_settings
from mailbot.store import Store
from mailbot.transport.local import free_port, mailbox_dir
from tests.cli.conftest import MAILBOT, ROOT, write_members, write_open_survey

MEMBERS = 40


def statuses(db: Path) -> dict[str, int]:
    with sqlite3.connect(db, timeout=30) as c:
        return dict(c.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def start(panel: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MAILBOT_TOKEN_KEY": "daemon-test-key"}
    return subprocess.Popen([*MAILBOT, "run", "--every", "1", "--port", str(port), *extra], cwd=panel, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def stop(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError("the daemon did not stop within 60 s:\n" + err.decode()) from None
    return proc.returncode, err.decode()


def test_sigterm_mid_send_loses_nothing_and_a_restart_finishes(panel: Path) -> None:
    write_open_survey(panel, alone=True)
    result = CliRunner().invoke(app, ["members", "import", str(write_members(panel, MEMBERS))])
    assert result.exit_code == 0, result.output
    db = panel / "var" / "mailbot.sqlite3"
    port = free_port()

    proc = start(panel, port, "--max-per-minute", "600")  # ten a second: slow enough to stop half-way
    try:
        wait_for("the first emails", lambda: statuses(db).get("sent", 0) >= 5 or proc.poll() is not None)
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert health.status_code == 200, health.text
        assert health.json()["status"] == "ok"
        assert set(health.json()["checks"]) == {"database", "mail_server", "scheduler"}
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert "mailbot_queue_depth " in metrics and "mailbot_sent_total" in metrics
        home = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)  # the resident pages are mounted
        assert home.status_code == 200
    finally:
        code, log = stop(proc)
    assert code == 0, log
    after_stop = statuses(db)
    assert set(after_stop) <= {"sent", "queued"}, after_stop  # nothing left in "sending"
    assert 0 < after_stop.get("sent", 0) < MEMBERS, after_stop  # it really stopped half-way
    assert "stopping" in log and "daemon stopped" in log
    assert "@example.org" not in log

    proc = start(panel, port, "--no-web")
    try:
        wait_for("the rest", lambda: statuses(db) == {"sent": MEMBERS} or proc.poll() is not None)
    except AssertionError:
        code, log = stop(proc)
        raise AssertionError(f"{statuses(db)}\n{log}") from None
    code, log = stop(proc)
    assert code == 0, log
    assert statuses(db) == {"sent": MEMBERS}
    root = panel / "var" / "mailboxes"
    for i in range(MEMBERS):  # every resident got the invitation exactly once
        assert len(mailbox.Maildir(mailbox_dir(root, f"person{i}@example.org"), create=False)) == 1


def test_a_taken_port_is_a_clear_error(panel: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = start(panel, port)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert f"cannot serve the web pages on 127.0.0.1:{port}" in err.decode()
    assert "Traceback" not in err.decode()


def test_the_tick_job_is_set_up_to_survive_downtime(panel: Path) -> None:
    bot = Bot(load_settings(panel / "config.toml")).prepare()

    async def scenario() -> None:
        daemon = Daemon(bot, DaemonOptions(every=3600, http=False))
        await daemon._start()
        try:
            assert daemon.scheduler is not None
            job = daemon.scheduler.get_job("tick")
            assert job.coalesce is True
            assert job.misfire_grace_time is None  # never silently skipped after a pause
            assert job.max_instances == 1
            health = await daemon.health()
            assert all(c["ok"] for c in health.values()), health
        finally:
            daemon.request_stop()
            await daemon._shutdown()

    asyncio.run(scenario())


def test_healthz_is_503_when_the_database_is_unreachable(panel: Path) -> None:
    bot = Bot(load_settings(panel / "config.toml")).prepare()

    async def scenario() -> None:
        daemon = Daemon(bot, DaemonOptions(every=3600, http=False))
        await daemon._start()
        try:
            bot.store.dispose()
            bot.store = Store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
            app_ = daemon.http_app()
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_), base_url="http://t") as client:
                answer = await client.get("/healthz")
            assert answer.status_code == 503
            body = answer.json()
            assert body["status"] == "unavailable"
            assert body["checks"]["database"]["ok"] is False
            assert body["checks"]["mail_server"]["ok"] is True
        finally:
            daemon.request_stop()
            await daemon._shutdown()

    asyncio.run(scenario())


def test_the_inbound_lmtp_server_stores_replies_in_the_same_loop(panel: Path) -> None:
    import smtplib

    from sqlalchemy import func, select

    from mailbot.store.models import Inbound

    bot = Bot(load_settings(panel / "config.toml")).prepare()
    port = free_port()

    async def scenario() -> None:
        daemon = Daemon(bot, DaemonOptions(every=3600, http=False, inbound=Listen("lmtp", "127.0.0.1", port)))
        await daemon._start()
        try:
            def deliver() -> None:
                with smtplib.LMTP("127.0.0.1", port) as lmtp:
                    lmtp.sendmail("kari@example.org", ["innbyggerpanel@svar.baerum.example.no"],
                                  b"From: kari@example.org\r\nSubject: hei\r\n\r\n1 A\r\n")
                    refused = lmtp.sendmail("kari@example.org", ["someone.else@svar.baerum.example.no"], b"x")
                    assert refused  # never reached: unknown recipients are refused at RCPT

            with pytest.raises(smtplib.SMTPRecipientsRefused):
                await asyncio.to_thread(deliver)
            assert daemon.metrics.received._value.get() == 1
        finally:
            daemon.request_stop()
            await daemon._shutdown()

    asyncio.run(scenario())
    with bot.store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Inbound)) == 1


@pytest.mark.parametrize(("text", "expected"), [
    ("lmtp://127.0.0.1:8024", Listen("lmtp", "127.0.0.1", 8024)),
    ("smtp://0.0.0.0:25", Listen("smtp", "0.0.0.0", 25)),
    ("lmtp:/run/mailbot/lmtp.sock", Listen("lmtp", socket_path="/run/mailbot/lmtp.sock")),
])
def test_inbound_addresses(text: str, expected: Listen) -> None:
    assert Listen.parse(text) == expected


@pytest.mark.parametrize("text", ["127.0.0.1:8024", "imap://x:1", "lmtp://127.0.0.1", "lmtp:run/x.sock"])
def test_bad_inbound_addresses_say_what_to_write(text: str) -> None:
    with pytest.raises(DaemonError, match="--inbound"):
        Listen.parse(text)


def test_run_with_a_bad_inbound_address_is_bad_input(panel: Path) -> None:
    result = CliRunner().invoke(app, ["run", "--inbound", "127.0.0.1:8024"])
    assert result.exit_code == 2
    assert "lmtp://HOST:PORT" in result.stderr
