"""DKIM signing of outgoing mail (dkimpy), on when a key is configured.

`[dkim] selector` and `domain` in config.toml name the DNS record
(`<selector>._domainkey.<domain>`); the private key is a PEM file named by
the environment variable MAILBOT_DKIM_KEY_FILE, never by config.toml. The
signature covers List-Unsubscribe and List-Unsubscribe-Post, as Gmail and
Yahoo demand of bulk senders since 2024, and From twice ("over-signing"), so
no one can add a second From without breaking it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import dkim as dkimpy

from mailbot.panel.settings import Settings

KEY_FILE_ENV = "MAILBOT_DKIM_KEY_FILE"

# Signed when present; a header listed but absent is signed as empty, so
# listing In-Reply-To keeps anyone from adding one later.
SIGNED_HEADERS = (
    b"from", b"from", b"to", b"subject", b"date", b"message-id", b"reply-to", b"in-reply-to", b"references",
    b"mime-version", b"content-type", b"list-id", b"list-unsubscribe", b"list-unsubscribe-post",
    b"auto-submitted",
)


class DkimKeyProblem(Exception):
    """The key named by MAILBOT_DKIM_KEY_FILE is missing or unreadable."""


@dataclass(frozen=True)
class DkimSigner:
    selector: str
    domain: str
    private_key: bytes

    @classmethod
    def from_settings(cls, settings: Settings, env: dict[str, str] | None = None) -> DkimSigner | None:
        """A signer when [dkim] selector and domain are set; None when DKIM is off."""
        d = settings.config.dkim
        if not (d.selector and d.domain):
            return None
        path = (env if env is not None else os.environ).get(KEY_FILE_ENV, "")
        if not path:
            raise DkimKeyProblem(f"[dkim] is set in config.toml but {KEY_FILE_ENV} is not: point it at the "
                                 "PEM private key file (e.g. in .env beside config.toml)")
        try:
            key = Path(path).read_bytes()
        except OSError as exc:
            raise DkimKeyProblem(f"{KEY_FILE_ENV}={path}: cannot read the DKIM key ({exc.strerror})") from None
        if b"PRIVATE KEY" not in key:
            raise DkimKeyProblem(f"{KEY_FILE_ENV}={path}: not a PEM private key")
        return cls(d.selector, d.domain, key)

    def sign(self, message: bytes) -> bytes:
        """The message with a DKIM-Signature header in front."""
        header = dkimpy.sign(message, self.selector.encode(), self.domain.encode(), self.private_key,
                             canonicalize=(b"relaxed", b"relaxed"), include_headers=list(SIGNED_HEADERS))
        return header + message
