"""A fake relay for outbound tests: a real aiosmtpd server on loopback that counts what it gets.

Like Mailman's testing/mta.py, the handler can refuse: per recipient (`refuse`:
address -> "550 5.1.1 …"), at random (`temp_rate`: share of RCPTs answered
421 or 451), or wholesale (`down`: every RCPT answered 421). It keeps only
who got how many messages (and, on request, the bytes), so 5 000 messages
cost next to nothing. `python -m tests.outbound.mta PORT` runs it alone, in
its own process, for the benchmarks (stdin: `count`, `stats`).
"""

from __future__ import annotations

import random
import socket
import sys
import threading
import time
from collections import Counter
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class RelayHandler:
    def __init__(self, *, keep: bool = False, temp_rate: float = 0.0, seed: int = 1):
        self.received: Counter[str] = Counter()
        self.messages: list[tuple[str, bytes]] = []
        self.keep = keep
        self.refuse: dict[str, str] = {}
        self.temp_rate = temp_rate
        self.down = False
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.refused = 0
        self.content_bytes = 0  # DATA content received, all messages (the benchmarks compare loops by it)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if self.down:
            self.refused += 1
            return "421 4.3.2 Service not available, closing transmission channel"
        if address in self.refuse:
            return self.refuse[address]
        if self.temp_rate and self.rng.random() < self.temp_rate:
            self.refused += 1
            return self.rng.choice(["451 4.7.1 Greylisted, try again later", "421 4.7.0 Too many messages"])
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.content_bytes += len(envelope.original_content or b"") * len(envelope.rcpt_tos)
            for r in envelope.rcpt_tos:
                self.received[r] += 1
                if self.keep:
                    self.messages.append((r, envelope.original_content or b""))
        return "250 2.0.0 Ok: queued"

    def duplicates(self) -> int:
        return sum(n - 1 for n in self.received.values() if n > 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Relay:
    """Start/stop a RelayHandler on loopback."""

    def __init__(self, handler: RelayHandler | None = None, port: int = 0, **kw: Any):
        self.handler = handler or RelayHandler()
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     data_size_limit=50 * 1024 * 1024, **kw)

    def __enter__(self) -> Relay:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def main() -> None:
    port = int(sys.argv[1])
    with Relay(port=port) as relay:
        print(f"listening {port}", flush=True)
        try:
            while True:
                line = sys.stdin.readline()
                if not line:
                    break
                if line.strip() == "count":
                    print(sum(relay.handler.received.values()), flush=True)
                elif line.strip() == "stats":  # messages and content bytes so far
                    h = relay.handler
                    print(sum(h.received.values()), h.content_bytes, flush=True)
        except KeyboardInterrupt:
            pass
        time.sleep(0)


if __name__ == "__main__":
    main()
