"""Signed tokens: in reply addresses (`panel+TOKEN@…`) and in links.

Reply-address tokens live in an address local part: at most 64 octets and
possibly lower-cased by a server on the way, so they are lowercase base32 of
the outbox row id plus a truncated HMAC — case-insensitive and short.
Link tokens (itsdangerous) carry member, campaign and purpose and expire.

Errors: `BadToken` (forged, tampered, or not ours) and `ExpiredToken` (was
ours, now too old: the resident gets told it expired, not that it is bad).
Key rotation: the first key signs, every key verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class BadToken(Exception):
    """The token was not made by us, or was changed."""


class ExpiredToken(Exception):
    """The token is ours but too old to use."""

    def __init__(self, signed_at: datetime | None = None):
        super().__init__("expired")
        self.signed_at = signed_at


_MAC_BYTES = 8  # 64 bits: forging needs ~2^63 tries against a rate-limited inbox


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _unb32(text: str) -> bytes:
    s = text.upper()
    return base64.b32decode(s + "=" * (-len(s) % 8))


@dataclass(frozen=True)
class Keys:
    """Token keys, newest first. Old keys keep links already sent working."""

    keys: tuple[str, ...]

    @classmethod
    def from_env_values(cls, current: str, old: str = "") -> Keys:
        olds = tuple(k.strip() for k in old.split(",") if k.strip())
        return cls((current, *olds))

    def _mac(self, key: str, purpose: bytes, payload: bytes) -> bytes:
        return hmac.new(key.encode(), purpose + b"\0" + payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def address_token(self, outbox_id: int, purpose: str = "reply") -> str:
        """Token for `local+TOKEN@domain`, naming one outbox row (member, campaign, step)."""
        payload = outbox_id.to_bytes(max(1, (outbox_id.bit_length() + 7) // 8), "big")
        return _b32(payload + self._mac(self.keys[0], purpose.encode(), payload))

    def read_address_token(self, token: str, purpose: str = "reply") -> int:
        """The outbox row id in a token; BadToken if forged or mangled."""
        try:
            raw = _unb32(token.strip())
        except (ValueError, TypeError):
            raise BadToken(token) from None
        if len(raw) <= _MAC_BYTES or _b32(raw) != token.strip().lower():
            raise BadToken(token)  # too short, or a non-canonical spelling of the same bytes
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if any(hmac.compare_digest(mac, self._mac(k, purpose.encode(), payload)) for k in self.keys):
            return int.from_bytes(payload, "big")
        raise BadToken(token)

    # ---- links

    def _serializers(self, purpose: str) -> list[URLSafeTimedSerializer]:
        return [URLSafeTimedSerializer(k, salt=f"mailbot.{purpose}") for k in self.keys]

    def link_token(self, purpose: str, data: dict[str, object]) -> str:
        return self._serializers(purpose)[0].dumps(data)

    def read_link_token(self, purpose: str, token: str,
                        max_age_seconds: int | None = None) -> dict[str, object]:
        expired: SignatureExpired | None = None
        for s in self._serializers(purpose):
            try:
                value = s.loads(token, max_age=max_age_seconds)
            except SignatureExpired as exc:
                expired = exc
                continue
            except BadSignature:
                continue
            if not isinstance(value, dict):
                raise BadToken(token)
            return value
        if expired is not None:
            raise ExpiredToken(expired.date_signed)
        raise BadToken(token)


def reply_address(local: str, token: str, domain: str) -> str:
    return f"{local}+{token}@{domain}"


def token_from_address(address: str, local: str) -> str | None:
    """`panel+abc@x` -> "abc" when the local part before '+' is ours (case-insensitive)."""
    addr = address.strip().strip("<>")
    user = addr.rsplit("@", 1)[0]
    base, plus, token = user.partition("+")
    if not plus or base.lower() != local.lower() or not token:
        return None
    return token.lower()
