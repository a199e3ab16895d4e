"""`mailbot demo --serve` as a newcomer tries it: the printed email exists, its link answers, a reply is read.

The demo runs as a subprocess, the way the README says to start it; the test
reads what it printed, opens that file, clicks that link (GET, then the form's
POST) and replies over SMTP to the printed address, then stops it with SIGTERM.
`mailbot run` in the demo folder starts too: the token key is in its `.env`.
"""

from __future__ import annotations

import os
import re
import signal
import smtplib
import subprocess
import sys
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.dovecot.server import free_port, listening
from tests.web.conftest import guard_of

pytestmark = pytest.mark.slow

MAILBOT = [str(Path(sys.executable).parent / "mailbot")]


def _wait_for(proc: subprocess.Popen[str], pattern: str, timeout: float = 120.0) -> list[str]:
    """Lines printed until one matches `pattern` (the process must still be running)."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"the demo stopped: {proc.wait()}\n" + "".join(lines))
        lines.append(line)
        if re.search(pattern, line):
            return lines
    raise AssertionError("the demo did not say it: " + "".join(lines))


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")}
    env["MAILBOT_TOKEN_KEY"] = "a-key-of-the-shell-that-must-not-matter"
    env["COLUMNS"] = "400"
    return env


def test_demo_serve_keeps_an_open_survey_up_and_says_what_to_open_and_click(tmp_path: Path) -> None:
    port = free_port()
    demo = tmp_path / "demo-out"
    proc = subprocess.Popen([*MAILBOT, "demo", "--serve", "--members", "20", "--port", str(port), "--dir", str(demo)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(), cwd=tmp_path)
    try:
        said = "".join(_wait_for(proc, r"Ctrl-C stops"))
        mail_file = Path(re.search(r"Open the invitation to .*:\n\s+(\S+)", said).group(1))  # type: ignore[union-attr]
        link = re.search(r"Click its answer link:\n\s+(\S+)", said).group(1)  # type: ignore[union-attr]
        reply_to, smtp_port = re.search(r"or reply to (\S+) through 127\.0\.0\.1:(\d+)", said).groups()  # type: ignore[union-attr]
        assert link.startswith(f"http://127.0.0.1:{port}/svar/")

        invitation = message_from_bytes(mail_file.read_bytes(), policy=policy.default)
        assert isinstance(invitation, EmailMessage)
        body = invitation.get_body(("plain",))
        assert body is not None and link in body.get_content()
        assert str(invitation["Reply-To"]) == reply_to

        with httpx.Client(timeout=30) as web:
            page = web.get(link)
            assert page.status_code == 200, page.text[:500]
            assert "for gammel" not in page.text and 'for="q-location"' in page.text
            done = web.post(link, data={"guard": guard_of(page.text), "q-need": "Ja", "q-goods": ["Møbler"],
                                        "q-satisfaction": "4", "q-location": "Sandvika"})
            assert done.status_code == 200 and "for gammel" not in done.text

        # A reply to the printed address, through the printed port: read by the running demo.
        reply = EmailMessage()
        reply["From"] = str(invitation["To"])
        reply["To"] = reply_to
        reply["Subject"] = "Re: " + str(invitation["Subject"])
        reply["In-Reply-To"] = str(invitation["Message-ID"])
        reply.set_content("1 Nei\n2 Klær\n3 2\n")
        before = set(mail_file.parent.glob("*"))
        with smtplib.SMTP("127.0.0.1", int(smtp_port)) as smtp:
            smtp.send_message(reply)
        engine = create_engine(f"sqlite:///{demo / 'mailbot.sqlite3'}")
        resident = invitation["To"].addresses[0].addr_spec

        def need() -> list[str]:
            with engine.connect() as c:
                return list(c.execute(text(
                    "select a.choice from answers a join responses r on r.id = a.response_id "
                    "join members m on m.id = r.member_id where m.email = :e and a.question_id = 'need'"),
                    {"e": resident}).scalars().all())

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and need() != ["Nei"]:
            time.sleep(0.5)
        assert need() == ["Nei"], "the reply did not change the clicked answer"
        while time.monotonic() < deadline and not set(mail_file.parent.glob("*")) - before:
            time.sleep(0.5)
        engine.dispose()
        assert set(mail_file.parent.glob("*")) - before, "the demo did not answer the reply"
    finally:
        code = _stop(proc)
    assert code == 0

    # The folder is a panel of its own: `mailbot run` there reads the key from .env and starts.
    assert "MAILBOT_TOKEN_KEY=" in (demo / ".env").read_text()
    env = {k: v for k, v in _env().items() if k != "MAILBOT_TOKEN_KEY"}
    run = subprocess.Popen([*MAILBOT, "run", "--every", "30"], cwd=demo, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not listening(port) and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert run.poll() is None, run.stdout.read() if run.stdout else ""
        assert httpx.get(link, timeout=30).status_code == 200
    finally:
        assert _stop(run) == 0
