"""How fast mail comes in: SMTP receive -> store, against a sink that discards; IMAP batched vs single.

    .venv/bin/python bench/inbound.py [--messages 2000] [--imap-messages 400] [--database URL]

1. The same smtplib client sends the same 3 KB replies over one connection,
   first to an aiosmtpd sink that answers 250 and forgets, then to the bot's
   receiver, which commits each message to the database before its 250.
   `ratio` = receiver rate / sink rate: what durability costs (target >= 0.8).
   The stored messages are then read with `mailbot.reading.read_message`
   (if present) and the whole pipeline rate is printed.
2. Messages appended to a throwaway Dovecot are polled with `batch=50`
   and with `batch=1` (one FETCH and one transaction per message).

Each measurement is the best of `--rounds`, the sink and the receiver
alternating, so that a noisy neighbour hurts both alike.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import smtplib
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: E402
from sqlalchemy import select  # noqa: E402

from mailbot.store import Store  # noqa: E402
from mailbot.store.models import Inbound  # noqa: E402
from mailbot.transport.local import free_port  # noqa: E402
from mailbot.transport.receiver import InboundServer, ReceiverSettings  # noqa: E402

DOMAIN = "svar.baerum.example.no"
PANEL = f"innbyggerpanel+k7q2mz@{DOMAIN}"
SENDER = "kari@example.com"
NOW = datetime(2022, 12, 2, 9, 0, tzinfo=UTC)


def reply(n: int, size: int = 3072) -> bytes:
    """A resident's reply of at least `size` bytes: answers on top, the quoted survey below."""
    text = f"1 A\n2 Møbler, klær\n3 4\n4 Sandvika sentrum ({n})\n\nDen 1. des. 2022 kl. 09:00 skrev Innbyggerpanelet:\n"
    quoted = "> 1. Er det behov for en ombruksbutikk i Bærum?   A) Ja  B) Nei  C) Vet ikke\n"
    bare = _reply(n, text)
    lines = -(-max(0, size - len(bare)) // len(quoted.replace("\n", "\r\n").encode()))
    return _reply(n, text + quoted * lines)


def _reply(n: int, text: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Beboer {n} <beboer{n}@example.com>"
    msg["To"] = PANEL
    msg["Subject"] = "Re: Behov for en ombruksbutikk i Bærum"
    msg["Message-ID"] = f"<bench-{n}-{time.monotonic_ns()}@example.com>"
    msg["Date"] = "Fri, 02 Dec 2022 09:00:00 +0100"
    msg.set_content(text)
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


class Sink:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


def send_all(port: int, messages: Sequence[bytes], connections: int = 1) -> float:
    """Seconds to send every message over `connections` parallel connections, from other processes."""
    # In-process, the client thread and the server's event loop would fight over the GIL.
    parts = [messages[i::connections] for i in range(connections)]
    go = time.time() + 0.5 + 0.05 * connections  # connected first, then all start together
    with multiprocessing.get_context("fork").Pool(connections) as pool:
        spans = pool.starmap(_send_all, [(port, part, go) for part in parts])
    return max(end for _, end in spans) - min(start for start, _ in spans)


def _send_all(port: int, messages: Sequence[bytes], go: float) -> tuple[float, float]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.ehlo()
        time.sleep(max(0.0, go - time.time()))
        started = time.time()
        for raw in messages:
            c.mail(SENDER)
            c.rcpt(PANEL)
            code, _ = c.data(raw)
            if code != 250:
                raise RuntimeError(f"answer {code}")
        return started, time.time()


def fresh_store(url: str | None, folder: Path, name: str) -> Store:
    store = Store(url or f"sqlite:///{folder / name}.sqlite3")
    if url:
        from sqlalchemy import delete

        store.upgrade()
        with store.transaction() as s:
            s.execute(delete(Inbound))
    else:
        store.upgrade()
    return store


def bench_smtp(n: int, rounds: int, url: str | None, folder: Path, connections: int) -> None:
    messages = [reply(i) for i in range(n)]
    size = sum(map(len, messages)) / n
    sink = Controller(Sink(), hostname="127.0.0.1", port=free_port(), server_kwargs={"decode_data": False})
    sink.start()
    best_sink = best_store = float("inf")
    store: Store | None = None
    try:
        for r in range(rounds):
            best_sink = min(best_sink, send_all(sink.port, messages, connections))
            if store is not None:
                store.dispose()
            store = fresh_store(url, folder, f"smtp{connections}r{r}")
            settings = ReceiverSettings(domains=(DOMAIN,), protocol="smtp", port=0)
            with InboundServer.for_store(store, settings) as server:
                best_store = min(best_store, send_all(server.port, messages, connections))
    finally:
        sink.stop()
    assert store is not None
    with store.transaction() as s:
        stored = list(s.scalars(select(Inbound.raw)))
    assert len(stored) == n, f"{len(stored)} stored of {n}"
    sink_rate, store_rate = n / best_sink, n / best_store
    print(f"smtp  {n} replies of {size / 1024:.1f} KB, {connections} connection(s), {store.engine.dialect.name}")
    print(f"  sink (discard)        {sink_rate:8.0f} msg/s")
    print(f"  receive -> store      {store_rate:8.0f} msg/s")
    print(f"  ratio={store_rate / sink_rate:.2f}  (target >= 0.8)")

    read = _read_message()
    if read is None:
        print("  reading: mailbot.reading.read_message not available, pipeline not timed")
    else:
        from tests.conftest import make_survey

        survey = make_survey()
        started = time.perf_counter()
        for raw in stored:
            read(raw or b"", survey, [PANEL])
        t_read = time.perf_counter() - started
        print(f"  read_message          {n / t_read:8.0f} msg/s")
        print(f"  receive -> store -> read   {n / (best_store + t_read):8.0f} msg/s (pipeline)")
    store.dispose()


def _read_message() -> Callable[..., Any] | None:
    try:
        return getattr(importlib.import_module("mailbot.reading"), "read_message", None)
    except ImportError:
        return None


def bench_imap(n: int, rounds: int, url: str | None, folder: Path) -> None:
    try:
        from imapclient import IMAPClient

        from mailbot.transport.imap import ImapPoller, ImapSettings
        from tests.dovecot.server import DovecotServer, dovecot_binary
    except ImportError as exc:
        print(f"imap  skipped: {exc}")
        return
    if dovecot_binary() is None:
        print("imap  skipped: dovecot is not installed (apt-get install dovecot-imapd)")
        return
    messages = [reply(i) for i in range(n)]
    with DovecotServer() as server:
        results: dict[int, float] = {}
        for r in range(rounds):
            for batch in (50, 1):
                user = f"bench{batch}r{r}"
                with IMAPClient(server.host, server.port, ssl=False) as c:
                    c.login(user, server.password)
                    for raw in messages:
                        c.append("INBOX", raw)
                store = fresh_store(url, folder, f"imap{batch}r{r}")
                settings = ImapSettings(server.host, server.port, "none", user, server.password, batch=batch)
                poller = ImapPoller(store, settings)
                try:
                    poller.connect()
                    started = time.perf_counter()
                    report = poller.poll(NOW)
                    elapsed = time.perf_counter() - started
                finally:
                    poller.close()
                    store.dispose()
                assert report.stored == n, report
                results[batch] = min(results.get(batch, float("inf")), elapsed)
    print(f"imap  {n} replies from Dovecot on loopback, fetch + store + flag")
    print(f"  batch=50              {n / results[50]:8.0f} msg/s")
    print(f"  batch=1               {n / results[1]:8.0f} msg/s")
    print(f"  batched/single={results[1] / results[50]:.1f}x")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--imap-messages", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 8],
                        help="parallel SMTP connections, as an MTA opens them (default: 1 and 8)")
    parser.add_argument("--database", default=None, help="a database URL (default: a fresh SQLite file)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mailbot-bench-") as tmp:
        for connections in args.connections:
            bench_smtp(args.messages, args.rounds, args.database, Path(tmp), connections)
        if args.imap_messages:
            bench_imap(args.imap_messages, args.rounds, args.database, Path(tmp))


if __name__ == "__main__":
    main()
