"""The embedded local post office: the default transport, nothing to set up.

An aiosmtpd server on loopback that takes the bot's outgoing mail into one
Maildir per recipient (so a person can open what was sent with any mail
program or just look at the files) and takes mail addressed to the reply
domain into the inbound table, stored before `250` is answered. Outgoing mail
really crosses SMTP, even here.
"""

from __future__ import annotations

import asyncio
import mailbox
import re
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

# (raw bytes, envelope sender, recipients) -> None; must commit before returning.
StoreInbound = Callable[[bytes, str, Sequence[str]], None]

_SAFE = re.compile(r"[^a-z0-9@._+-]")


def mailbox_dir(root: Path, address: str) -> Path:
    """Where the local transport keeps a recipient's mail: one folder per address."""
    return root / _SAFE.sub("_", address.strip().lower())


class PostOfficeHandler:
    def __init__(self, mailboxes: Path, inbound_domains: Sequence[str], store_inbound: StoreInbound,
                 max_size: int = 25 * 1024 * 1024):
        self.mailboxes = mailboxes
        self.inbound_domains = {d.lower() for d in inbound_domains}
        self.store_inbound = store_inbound
        self.max_size = max_size

    def _is_inbound(self, address: str) -> bool:
        return address.rsplit("@", 1)[-1].lower() in self.inbound_domains

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if "@" not in address or any(c in address for c in "\r\n"):
            return "550 5.1.3 Bad recipient address syntax"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw: bytes = envelope.original_content or b""
        if len(raw) > self.max_size:
            return "552 5.3.4 Message too big"
        inbound = [r for r in envelope.rcpt_tos if self._is_inbound(r)]
        outgoing = [r for r in envelope.rcpt_tos if not self._is_inbound(r)]
        loop = asyncio.get_running_loop()
        try:
            if inbound:
                await loop.run_in_executor(None, self.store_inbound, raw, envelope.mail_from or "", inbound)
            if outgoing:
                await loop.run_in_executor(None, self._deliver, raw, outgoing)
        except Exception as exc:  # the sender keeps the message and tries again
            return f"451 4.3.0 Could not store the message: {type(exc).__name__}"
        return "250 OK"

    def _deliver(self, raw: bytes, recipients: Sequence[str]) -> None:
        self.mailboxes.mkdir(parents=True, exist_ok=True)
        for r in recipients:
            box = mailbox.Maildir(mailbox_dir(self.mailboxes, r), create=True)
            box.add(raw)


class LocalPostOffice:
    """Start/stop the embedded server; `port=0` picks a free one."""

    def __init__(self, handler: PostOfficeHandler, host: str = "127.0.0.1", port: int = 0):
        self.handler = handler
        self.host = host
        self.port = port or free_port(host)
        self._controller: Controller | None = None

    def start(self) -> LocalPostOffice:
        self._controller = Controller(self.handler, hostname=self.host, port=self.port,
                                      data_size_limit=self.handler.max_size + 1024,
                                      server_kwargs={"decode_data": False})
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> LocalPostOffice:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_is_listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
