"""What stands between the internet and the pages: headers, a rate limit, and form guards.

- Every response carries a strict Content-Security-Policy (no script at all,
  no framing), `Referrer-Policy: no-referrer` (the tokens in our URLs must not
  leak to another site), `nosniff` and `Cache-Control: no-store`.
- Every request spends a token from its client's bucket (per IP, in memory):
  a burst is allowed, a flood gets 429 with Retry-After.
- Every form carries a guard: an HMAC of the link token and the form's
  purpose, so a POST made from another site, or with a guard from another
  form or another token, records nothing. Checked in constant time, with
  every key (rotation), and made with the newest.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailbot.tokens import Keys

CSP = ("default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"interest-cohort=(), camera=(), microphone=(), geolocation=()"),
]
NO_STORE = (b"cache-control", b"no-store")


def form_guard(keys: Keys, purpose: str, token: str) -> str:
    """The hidden field value binding a form to its link token and purpose."""
    return _mac(keys.keys[0], purpose, token)


def check_guard(keys: Keys, purpose: str, token: str, value: str | None) -> bool:
    if not value or len(value) > 100:
        return False
    return any(hmac.compare_digest(value, _mac(k, purpose, token)) for k in keys.keys)


def _mac(key: str, purpose: str, token: str) -> str:
    msg = f"mailbot.form\0{purpose}\0{token}".encode()
    return hmac.new(key.encode(), msg, hashlib.sha256).hexdigest()[:32]


@dataclass
class RateLimit:
    """Token bucket per client: `burst` requests at once, refilled at `per_second`."""

    per_second: float = 2.0
    burst: float = 40.0
    clock: Callable[[], float] = time.monotonic
    max_clients: int = 50_000
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def allow(self, client: str) -> float:
        """0.0 if the request may go ahead, else the seconds to wait."""
        now = self.clock()
        tokens, last = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.per_second)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.per_second
        if len(self._buckets) >= self.max_clients and client not in self._buckets:
            self._forget_full(now)
        self._buckets[client] = (tokens - 1.0, now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        # Buckets that have refilled completely carry no information: drop them.
        full_after = self.burst / self.per_second
        for k in [k for k, (_, last) in self._buckets.items() if now - last >= full_after]:
            del self._buckets[k]
        if len(self._buckets) >= self.max_clients:
            self._buckets.clear()


class Guard:
    """ASGI middleware: rate limit first, then security headers on every response."""

    def __init__(self, app: ASGIApp, limit: RateLimit | None, too_many: Callable[[float], bytes]):
        self.app = app
        self.limit = limit
        self.too_many = too_many

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.limit is not None:
            client = scope.get("client")
            wait = self.limit.allow(client[0] if client else "?")
            if wait > 0:
                body = self.too_many(wait)
                await send({"type": "http.response.start", "status": 429, "headers": [
                    *SECURITY_HEADERS, NO_STORE, (b"content-type", b"text/html; charset=utf-8"),
                    (b"retry-after", str(max(1, int(wait + 0.999))).encode()),
                    (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"cache-control"
                           or scope["path"].startswith("/static/")]
                headers += SECURITY_HEADERS
                if not scope["path"].startswith("/static/"):
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
