"""The inbound SMTP/LMTP server, for deployments where Postfix or an MX delivers to the bot.

An aiosmtpd server that takes mail for the panel's reply addresses only:
`panel@`, `panel+TOKEN@` and `bounces+TOKEN@` at the reply domain(s). Anything
else is refused at RCPT with `550 5.1.1`, so the sending MTA bounces it, not
the bot. A message over the size limit gets `552 5.3.4` (at MAIL when the
client announces SIZE, after DATA otherwise).

The one promise: `250` means the raw bytes are committed to the database.
`handle_DATA` runs `store_raw` in a worker thread and answers only when the
transaction has committed; if storing fails it answers `451 4.3.0` and the
MTA keeps the message and tries again. A message delivered twice (an MTA retry
after a lost `250`, or the same message by SMTP and by IMAP) has the same
digest and is read once.

LMTP (RFC 2033) answers DATA once per accepted recipient. The message is
stored once for all of them, so every recipient gets the same answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, AnyStr, Literal

from aiosmtpd.controller import Controller, UnixSocketController
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from mailbot.store import Store, utcnow
from mailbot.store.inbound import store_raw
from mailbot.transport.local import free_port

log = logging.getLogger("mailbot.receiver")

# (raw bytes, envelope sender, recipients) -> the new inbound id or None if known; commits before returning.
Keep = Callable[[bytes, str, Sequence[str]], int | None]

Protocol = Literal["smtp", "lmtp"]

_TOO_BIG_AT_MAIL = "552 Error: message size exceeds fixed maximum message size"
_TOO_BIG_AT_DATA = "552 Error: Too much mail data"


@dataclass(frozen=True)
class ReceiverSettings:
    """Where the server listens and which addresses it takes mail for."""

    domains: tuple[str, ...]  # the reply domain(s), e.g. ("svar.baerum.kommune.no",)
    local_part: str = "innbyggerpanel"  # the panel's local part; "+TOKEN" may follow
    bounce_local_part: str = "bounces"  # VERP envelope sender; only with "+TOKEN"
    protocol: Protocol = "lmtp"
    host: str = "127.0.0.1"
    port: int = 8024  # 0 picks a free port
    socket_path: str | None = None  # listen on a Unix socket instead (Postfix: lmtp:unix:…)
    socket_mode: int = 0o660  # Postfix's lmtp client must be able to write to the socket
    max_size: int = 25 * 1024 * 1024
    server_name: str | None = None  # the name in the greeting; the machine's FQDN if None

    def __post_init__(self) -> None:
        if not self.domains:
            raise ValueError("at least one reply domain is needed")
        if self.protocol not in ("smtp", "lmtp"):
            raise ValueError(f'protocol must be "smtp" or "lmtp", not {self.protocol!r}')


def recipient_allowed(address: str, settings: ReceiverSettings) -> bool:
    """True for panel@, panel+TOKEN@ and bounces+TOKEN@ at one of the reply domains (any case)."""
    local, at, domain = address.strip().rpartition("@")
    domains = {d.lower().rstrip(".") for d in settings.domains}
    if not at or not local or domain.lower().rstrip(".") not in domains:
        return False
    local = local.lower()
    panel, bounces = settings.local_part.lower(), settings.bounce_local_part.lower()
    base, plus, token = local.partition("+")
    if base == panel:
        return not plus or bool(token)
    return base == bounces and bool(token)


def keeper(store: Store, via: str, clock: Callable[[], datetime] = utcnow) -> Keep:
    """A `Keep` that stores the raw message in its own transaction, committed before it returns."""

    def keep(raw: bytes, mail_from: str, rcpt_tos: Sequence[str]) -> int | None:
        with store.transaction() as session:
            return store_raw(session, raw, via=via, now=clock(), envelope_from=mail_from or None,
                             envelope_to=rcpt_tos)

    return keep


class InboundHandler:
    """aiosmtpd handler: refuse unknown recipients, store before `250`, `451` if storing fails."""

    def __init__(self, keep: Keep, settings: ReceiverSettings):
        self.keep = keep
        self.settings = settings

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if not recipient_allowed(address, self.settings):
            return "550 5.1.1 No such recipient here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw: bytes = envelope.original_content or b""
        status = await self._store(raw, envelope)
        if isinstance(server, LMTP):
            # RFC 2033: one reply per accepted recipient, in RCPT order.
            return "\r\n".join([status] * len(envelope.rcpt_tos))
        return status

    async def _store(self, raw: bytes, envelope: Envelope) -> str:
        if len(raw) > self.settings.max_size:
            return too_big(self.settings.max_size)
        loop = asyncio.get_running_loop()
        try:
            new_id = await loop.run_in_executor(None, self.keep, raw, envelope.mail_from or "",
                                                list(envelope.rcpt_tos))
        except Exception:  # the MTA keeps the message and tries again
            log.exception("could not store a message from %s", envelope.mail_from)
            return "451 4.3.0 Could not store the message; try again later"
        return "250 2.0.0 Stored" if new_id is not None else "250 2.0.0 Already stored"


def too_big(limit: int) -> str:
    return f"552 5.3.4 Message too big; the limit is {limit} bytes"


class _Statuses:
    """aiosmtpd answers an oversized message itself; say so with enhanced codes, once per LMTP recipient."""

    max_size: int

    async def push(self, status: AnyStr) -> None:
        text = status.decode() if isinstance(status, bytes) else str(status)
        if text in (_TOO_BIG_AT_MAIL, _TOO_BIG_AT_DATA):
            at_data, text = text == _TOO_BIG_AT_DATA, too_big(self.max_size)
            envelope = getattr(self, "envelope", None)
            if at_data and isinstance(self, LMTP) and envelope is not None and envelope.rcpt_tos:
                text = "\r\n".join([text] * len(envelope.rcpt_tos))
        await super().push(text)  # type: ignore[misc]


class PanelSMTP(_Statuses, SMTP):
    pass


class PanelLMTP(_Statuses, LMTP):
    pass


class _PanelServers:
    """Controller mixin: build our SMTP or LMTP protocol object for each connection."""

    handler: InboundHandler
    SMTP_kwargs: dict[str, Any]

    def factory(self) -> SMTP:
        cls: type[SMTP] = PanelLMTP if self.handler.settings.protocol == "lmtp" else PanelSMTP
        server = cls(self.handler, **self.SMTP_kwargs)
        server.max_size = self.handler.settings.max_size  # type: ignore[attr-defined]
        return server


class _InetController(_PanelServers, Controller):
    pass


class _UnixController(_PanelServers, UnixSocketController):
    pass


class InboundServer:
    """Start/stop the inbound server in its own thread; `port=0` picks a free port (see `.port`)."""

    def __init__(self, keep: Keep, settings: ReceiverSettings):
        self.settings = settings
        self.handler = InboundHandler(keep, settings)
        self.port = settings.port or free_port(settings.host)
        self._controller: Controller | UnixSocketController | None = None

    @classmethod
    def for_store(cls, store: Store, settings: ReceiverSettings) -> InboundServer:
        return cls(keeper(store, via=settings.protocol), settings)

    def start(self) -> InboundServer:
        s = self.settings
        kwargs: dict[str, Any] = {
            "data_size_limit": s.max_size,
            "server_hostname": s.server_name,
            "server_kwargs": {"decode_data": False},
        }
        controller: Controller | UnixSocketController
        if s.socket_path:
            Path(s.socket_path).unlink(missing_ok=True)
            controller = _UnixController(self.handler, unix_socket=s.socket_path, **kwargs)
            controller.start()
            Path(s.socket_path).chmod(s.socket_mode)
        else:
            controller = _InetController(self.handler, hostname=s.host, port=self.port, **kwargs)
            controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()
            if self.settings.socket_path:
                Path(self.settings.socket_path).unlink(missing_ok=True)

    def __enter__(self) -> InboundServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


