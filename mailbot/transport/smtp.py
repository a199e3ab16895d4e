"""Sending over SMTP: one connection reused for many messages, reopened on error.

The sender knows nothing about campaigns: it takes bytes, an envelope sender
and one recipient, and returns the server's answer or raises a SendError.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass

from mailbot.transport import PermanentSendError, TemporarySendError


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


class SmtpSender:
    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._conn: smtplib.SMTP | None = None
        self._sent_on_conn = 0

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        if not s.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        conn: smtplib.SMTP
        if s.security == "tls":
            conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.security == "starttls":
                conn.starttls(context=context)
        if s.username:
            conn.login(s.username, s.password)
        return conn

    def send(self, message: bytes, envelope_from: str, recipient: str) -> str:
        """Deliver one message to one recipient; returns the server's reply text."""
        for attempt in (1, 2):
            try:
                if self._conn is None or self._sent_on_conn >= self.settings.reconnect_after:
                    self.close()
                    self._conn = self._connect()
                    self._sent_on_conn = 0
                refused = self._conn.sendmail(envelope_from, [recipient], message)
                self._sent_on_conn += 1
                if refused:  # cannot happen with one recipient, but keep the contract
                    code, text = refused[recipient]
                    raise _error(code, text)
                return "250 accepted"
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = exc.recipients[recipient]
                raise _error(code, text) from None
            except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                raise _error(exc.smtp_code, exc.smtp_error) from None
            except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError, OSError,
                    smtplib.SMTPHeloError, smtplib.SMTPAuthenticationError) as exc:
                self._drop()
                # A connection reused from earlier may have timed out on the server: one fresh try.
                if attempt == 1 and isinstance(exc, smtplib.SMTPServerDisconnected):
                    continue
                raise TemporarySendError(f"connection: {exc}") from None
        raise TemporarySendError("connection lost twice")

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
        self._conn = None

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
        self._conn = None


def _error(code: int, text: bytes | str) -> TemporarySendError | PermanentSendError:
    msg = f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
    return PermanentSendError(msg) if 500 <= code < 600 else TemporarySendError(msg)
