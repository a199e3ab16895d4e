"""Fixtures for the receiving edges: a real Dovecot, a fresh mailbox per test, reply factories.

One Dovecot runs for the session (`tests/dovecot/`); each test logs in as a
user of its own, so it starts with an empty INBOX. Tests that restart the
server take `own_dovecot`, a private instance.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from email.message import EmailMessage
from typing import Any

import pytest
from imapclient import IMAPClient

from mailbot.transport.imap import ImapSettings
from tests.conftest import need_service
from tests.dovecot.server import DovecotServer, dovecot_binary

REPLY_DOMAIN = "svar.baerum.example.no"


def reply(n: int = 1, *, to: str = f"innbyggerpanel+abc1@{REPLY_DOMAIN}", size: int = 0,
          headers: dict[str, str] | None = None) -> bytes:
    """A resident's reply as bytes with CRLF line ends, as a server hands it over."""
    msg = EmailMessage()
    msg["From"] = f"Kari Nordmann {n} <kari{n}@example.com>"
    msg["To"] = to
    msg["Subject"] = f"Re: Behov for en ombruksbutikk i Bærum ({n})"
    msg["Message-ID"] = f"<svar-{n}@example.com>"  # the same n gives the same bytes
    for k, v in (headers or {}).items():
        msg[k] = v
    body = f"1 A\n2 Møbler, klær\n3 4\n4 Sandvika sentrum, svar nummer {n}\n"
    if size:
        filler = "Ombruk er bra for miljøet og for lommeboka. " * (size // 44 + 1)
        body += filler[: max(0, size - len(body))]
        body += "\n"
    msg.set_content(body)
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def _start(server: DovecotServer) -> DovecotServer:
    if dovecot_binary() is None:
        need_service("Dovecot", "the dovecot binary is not installed (apt-get install dovecot-imapd)")
    try:
        return server.start()
    except RuntimeError as exc:
        server.remove()
        need_service("Dovecot", str(exc))
        raise


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    server = _start(DovecotServer())
    yield server
    server.remove()


@pytest.fixture
def own_dovecot() -> Iterator[DovecotServer]:
    """A Dovecot for one test, which may stop and restart it."""
    server = _start(DovecotServer())
    yield server
    server.remove()


class Mailbox:
    """A fresh user on a Dovecot, with the poller's settings and a side door for the test."""

    def __init__(self, server: DovecotServer, tmp_path: Any):
        self.server = server
        self.user = "u" + uuid.uuid4().hex[:10]
        self.settings = ImapSettings(
            host=server.host, port=server.port, security="none", username=self.user, password=server.password,
            state_path=str(tmp_path / "imap-state.json"), reconnect_min=0.1, reconnect_max=0.5, timeout=10,
        )

    def with_(self, **changes: Any) -> ImapSettings:
        return replace(self.settings, **changes)

    def client(self) -> IMAPClient:
        c = IMAPClient(self.server.host, self.server.port, ssl=False, timeout=10)
        c.login(self.user, self.server.password)
        return c

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        with self.client() as c:
            if not c.folder_exists(folder):
                c.create_folder(folder)
            for m in messages:
                c.append(folder, m)

    def flags(self, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        with self.client() as c:
            c.select_folder(folder, readonly=True)
            uids = c.search(["ALL"])
            return {uid: d[b"FLAGS"] for uid, d in c.fetch(uids, ["FLAGS"]).items()} if uids else {}

    def count(self, folder: str) -> int:
        with self.client() as c:
            if not c.folder_exists(folder):
                return 0
            return int(c.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"])


@pytest.fixture
def mailbox(dovecot: DovecotServer, tmp_path: Any) -> Mailbox:
    return Mailbox(dovecot, tmp_path)


@pytest.fixture
def make_reply() -> Callable[..., bytes]:
    return reply
