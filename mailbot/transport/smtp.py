"""Sending over SMTP: one connection reused for many messages, reopened after N or on error.

The sender knows nothing about campaigns: it takes bytes, an envelope sender
and one recipient, and returns the server's answer (kept in the send ledger)
or raises a SendError:

    4xx at MAIL, RCPT or DATA, a dropped connection, a timeout -> TemporarySendError
    5xx for this recipient                                       -> PermanentSendError

Security: "tls" (implicit TLS, port 465), "starttls" (port 587; refusing to
go on in the clear when the server does not offer STARTTLS) or "none" (a
relay on this machine). AUTH with user name and password when a user name is set.
One SmtpSender is one connection: use one per thread.

`send` is `begin` then `end`: `begin` runs MAIL, RCPT and DATA and writes the
content, `end` reads the server's answer to it. The sender composes the next
email between the two, while the relay digests this one — the same commands
and bytes as `smtplib.SMTP.sendmail`, only the waiting is put to use.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass

from mailbot.transport import PermanentSendError, TemporarySendError


class RelayUnavailable(TemporarySendError):
    """No connection to the relay at all (refused, timed out, TLS or login failed): not this recipient's fault."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str = "none"  # none | starttls | tls
    username: str = ""
    password: str = ""
    timeout: float = 30.0
    reconnect_after: int = 500  # messages per connection before a fresh one
    verify_tls: bool = True
    cafile: str | None = None  # trust this CA too (a municipality's own relay, tests)


SendErrorKind = TemporarySendError | PermanentSendError


class SmtpSender:
    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._conn: smtplib.SMTP | None = None
        self._sent_on_conn = 0
        self._awaiting = False  # content written, answer not read yet
        self.connections = 0  # opened so far: tests check that connections are reused

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context(cafile=s.cafile)
        if not s.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        conn: smtplib.SMTP
        if s.security == "tls":
            conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if conn.sock is not None:
                # Commands and replies are small and strictly alternate: Nagle only adds latency.
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.ehlo()
            if s.security == "starttls":
                conn.starttls(context=context)  # raises SMTPNotSupportedError if not offered
                conn.ehlo()
            if s.username:
                conn.login(s.username, s.password)
        except Exception:
            conn.close()
            raise
        self.connections += 1
        return conn

    def send(self, message: bytes, envelope_from: str, recipient: str) -> str:
        """Deliver one message to one recipient; returns the server's reply to DATA."""
        self.begin(message, envelope_from, recipient)
        return self.end()

    def begin(self, message: bytes, envelope_from: str, recipient: str) -> None:
        """MAIL, RCPT, DATA and the content; `end` reads the answer. Refusals before the content raise here."""
        assert not self._awaiting, "end() the message in hand first"
        for attempt in (1, 2):
            try:
                if self._conn is None or self._sent_on_conn >= self.settings.reconnect_after:
                    self.close()
                    self._conn = self._connect()
                    self._sent_on_conn = 0
                self._start(self._conn, message, envelope_from, recipient)
                self._awaiting = True
                return
            except smtplib.SMTPAuthenticationError as exc:
                self._drop()
                raise RelayUnavailable(f"login refused: {_text(exc.smtp_code, exc.smtp_error)}") from None
            except (smtplib.SMTPServerDisconnected, smtplib.SMTPHeloError, smtplib.SMTPNotSupportedError,
                    ssl.SSLError, OSError) as exc:
                self._drop()
                # A connection reused from earlier may have been closed by the server: one fresh try.
                if attempt == 1 and isinstance(exc, smtplib.SMTPServerDisconnected) and self._sent_on_conn:
                    continue
                raise RelayUnavailable(f"connection: {type(exc).__name__}: {exc}") from None
        raise RelayUnavailable("connection lost twice")

    def end(self) -> str:
        """The server's answer to the content sent by `begin`: its text on 250, else a SendError."""
        assert self._awaiting and self._conn is not None, "begin() first"
        self._awaiting = False
        conn = self._conn
        try:
            code, text = conn.getreply()
        except (smtplib.SMTPServerDisconnected, ssl.SSLError, OSError) as exc:
            self._drop()  # the content went out; whether it was kept, only the server knows
            raise RelayUnavailable(f"connection: {type(exc).__name__}: {exc}") from None
        if code != 250:
            self._after_refusal(conn, code)
            raise _error(code, text)
        self._sent_on_conn += 1
        return _text(code, text)

    def _start(self, conn: smtplib.SMTP, message: bytes, envelope_from: str, recipient: str) -> None:
        code, text = conn.mail(envelope_from)
        if code != 250:
            self._after_refusal(conn, code)
            raise _error(code, text)
        code, text = conn.rcpt(recipient)
        if code not in (250, 251):
            self._after_refusal(conn, code)
            raise _error(code, text)
        code, text = conn.docmd("data")
        if code != 354:  # refused before the content
            self._after_refusal(conn, code)
            raise _error(code, text)
        conn.send(_content(message))  # what smtplib's data() writes: dots doubled, ending in CRLF.CRLF

    def _after_refusal(self, conn: smtplib.SMTP, code: int) -> None:
        if code == 421:  # the server is closing the channel
            self._drop()
            return
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        self._awaiting = False
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
        self._conn = None

    def close(self) -> None:
        if self._awaiting:  # a message in hand: read its answer rather than cut it off
            with contextlib.suppress(Exception):
                self.end()
        if self._conn is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._conn.quit()
            with contextlib.suppress(OSError):
                self._conn.close()
        self._conn = None


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _content(message: bytes) -> bytes:
    q = _LEADING_DOT.sub(b"..", message)
    if q[-2:] != b"\r\n":
        q += b"\r\n"
    return q + b".\r\n"


def _text(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"


def _error(code: int, text: bytes | str) -> SendErrorKind:
    msg = _text(code, text)
    if code == 421:  # "service not available, closing channel": the relay, not this recipient
        return RelayUnavailable(msg)
    return PermanentSendError(msg) if 500 <= code < 600 else TemporarySendError(msg)
