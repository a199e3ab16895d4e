"""The inbound SMTP/LMTP server, for deployments where Postfix or an MX delivers to the bot.

An aiosmtpd server that takes mail for the panel's reply addresses only:
`panel@`, `panel+TOKEN@` and `bounces+TOKEN@` at the reply domain(s). Anything
else is refused at RCPT with `550 5.1.1`, so the sending MTA bounces it, not
the bot. A message over the size limit gets `552 5.3.4` (at MAIL when the
client announces SIZE, after DATA otherwise).

The one promise: `250` means the raw bytes are committed to the database.
`handle_DATA` hands the bytes to a writer thread (`GroupCommit`) and answers
only when the transaction holding them has committed; if storing fails it
answers `451 4.3.0` and the MTA keeps the message and tries again. Messages
that arrive together on parallel connections share one transaction, so the
commit cost is paid once for many `250`s. A message delivered twice (an MTA retry
after a lost `250`, or the same message by SMTP and by IMAP) has the same
digest and is read once.

LMTP (RFC 2033) answers DATA once per accepted recipient. The message is
stored once for all of them, so every recipient gets the same answer.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Awaitable, Callable, Sequence
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

# (raw bytes, envelope sender, recipients) -> the new inbound id or None if known; committed when it returns.
Keep = Callable[[bytes, str, Sequence[str]], Awaitable[int | None]]

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


@dataclass
class _Pending:
    raw: bytes
    mail_from: str
    rcpt_tos: list[str]
    future: asyncio.Future[int | None]
    loop: asyncio.AbstractEventLoop


class GroupCommit:
    """A `Keep`: one writer thread stores what is waiting in one transaction and then wakes every sender.

    A failed group is retried one message per transaction, so a message that
    cannot be stored gets its `451` without taking the others with it.
    """

    def __init__(self, store: Store, via: str, clock: Callable[[], datetime] = utcnow, max_group: int = 50):
        self.store = store
        self.via = via
        self.clock = clock
        self.max_group = max_group
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self) -> GroupCommit:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"mailbot-{self.via}-store", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    async def __call__(self, raw: bytes, mail_from: str, rcpt_tos: Sequence[str]) -> int | None:
        if self._thread is None:
            raise RuntimeError("GroupCommit is not started")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int | None] = loop.create_future()
        self._queue.put(_Pending(raw, mail_from, list(rcpt_tos), future, loop))
        return await future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group, stopping = [first], False
            while len(group) < self.max_group:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                group.append(more)
            self._commit(group)
            if stopping:
                return

    def _commit(self, group: list[_Pending]) -> None:
        try:
            with self.store.transaction() as session:
                now = self.clock()
                ids = [store_raw(session, p.raw, via=self.via, now=now, envelope_from=p.mail_from or None,
                                 envelope_to=p.rcpt_tos) for p in group]
        except Exception as exc:
            if len(group) > 1:
                for p in group:
                    self._commit([p])
                return
            _settle(group[0], None, exc)
            return
        for p, new_id in zip(group, ids, strict=True):
            _settle(p, new_id, None)


def _settle(pending: _Pending, result: int | None, error: Exception | None) -> None:
    def settle() -> None:
        if pending.future.done():  # the client went away meanwhile
            return
        if error is not None:
            pending.future.set_exception(error)
        else:
            pending.future.set_result(result)

    pending.loop.call_soon_threadsafe(settle)


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
        try:
            new_id = await self.keep(raw, envelope.mail_from or "", list(envelope.rcpt_tos))
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
        self.keep = keep
        self.handler = InboundHandler(keep, settings)
        self.port = settings.port or free_port(settings.host)
        self._controller: Controller | UnixSocketController | None = None

    @classmethod
    def for_store(cls, store: Store, settings: ReceiverSettings) -> InboundServer:
        return cls(GroupCommit(store, via=settings.protocol), settings)

    def start(self) -> InboundServer:
        s = self.settings
        kwargs: dict[str, Any] = {
            "data_size_limit": s.max_size,
            "server_hostname": s.server_name,
            "server_kwargs": {"decode_data": False},
        }
        if isinstance(self.keep, GroupCommit):
            self.keep.start()
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
        if isinstance(self.keep, GroupCommit):
            self.keep.stop()

    def __enter__(self) -> InboundServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


