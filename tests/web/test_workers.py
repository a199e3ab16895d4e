"""`mailbot web --workers N`: the resident pages in N processes on one port (issue 12)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mailbot.store import Store
from mailbot.transport.local import free_port, port_is_listening
from tests.conftest import write_panel


def _mailbot(config: Path, store: Store, *args: str, command: str = "web") -> subprocess.Popen[str]:
    env = {**os.environ, "MAILBOT_DATABASE_URL": store.url, "MAILBOT_TOKEN_KEY": "test-key"}
    extra = ["--every", "3600"] if command == "run" else []
    argv = [str(Path(sys.executable).parent / "mailbot"), command, "--config", str(config), *extra, *args]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.parametrize(("command", "option"), [("web", "--workers"), ("run", "--web-workers")])
def test_several_web_workers_on_sqlite_are_refused_and_nothing_starts(tmp_path: Path, command: str, option: str):
    store = Store(f"sqlite:///{tmp_path / 'panel.sqlite3'}")
    port = free_port()
    proc = _mailbot(write_panel(tmp_path / "panel"), store, option, "2", "--port", str(port), command=command)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert f"{option} 2 needs PostgreSQL" in err
    assert not port_is_listening("127.0.0.1", port)


@pytest.mark.postgres
def test_web_workers_share_one_port_and_stop_cleanly_on_sigterm(tmp_path: Path, pg_store: Store):
    store = pg_store
    port = free_port()
    proc = _mailbot(write_panel(tmp_path / "panel"), store, "--workers", "3", "--port", str(port))
    try:
        deadline = time.monotonic() + 120
        while not port_is_listening("127.0.0.1", port):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the web workers did not start"
            time.sleep(0.1)
        for _ in range(12):  # a new connection each: the kernel shares them out between the workers
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                assert client.get("/").status_code == 200
        assert len(_children(proc.pid)) >= 3
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert not port_is_listening("127.0.0.1", port)



@pytest.mark.postgres
def test_run_serves_the_pages_in_web_workers_and_its_health_beside_them(tmp_path: Path, pg_store: Store):
    port, health = free_port(), free_port()
    proc = _mailbot(write_panel(tmp_path / "panel"), pg_store, "--web-workers", "2", "--port", str(port),
                    "--health-port", str(health), command="run")
    try:
        deadline = time.monotonic() + 120
        while not (port_is_listening("127.0.0.1", port) and port_is_listening("127.0.0.1", health)):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the daemon and its web workers did not start"
            time.sleep(0.1)
        for _ in range(6):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                assert client.get("/").status_code == 200
        checked = httpx.get(f"http://127.0.0.1:{health}/healthz", timeout=30)
        assert checked.status_code in (200, 503) and "checks" in checked.json()
        assert httpx.get(f"http://127.0.0.1:{health}/", timeout=30).status_code == 404  # no pages here
        web = [c for c in _children(proc.pid) if _children(c)]  # the `mailbot web` child and its workers
        assert web and len(_children(web[0])) >= 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(90) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert not port_is_listening("127.0.0.1", port) and not port_is_listening("127.0.0.1", health)
