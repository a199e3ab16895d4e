"""How fast replies are taken in and understood: the full inbound pipeline against an SMTP sink; IMAP batched vs single.

    .venv/bin/python bench/inbound.py [--messages 1000] [--rounds 3] [--imap-messages 400] [--only sqlite|postgres]
                                      [--burst 5000] [--database URL]

1. A panel of `--messages` residents is invited (the real survey email, with
   its signed Reply-To token), and each resident's ~3 KB reply is built from
   that invitation: the answers in one of the layouts people use, then the
   client's "Den … skrev" line and the quoted survey.
2. The same smtplib clients (other processes; one connection, then 8 as an
   MTA opens them) send the same replies, alternately to
   - an aiosmtpd sink that answers 250 and forgets, and
   - the bot's receiver (`InboundServer`: raw bytes committed before `250`)
     while the bot's reader (`Bot.read_inbound`, as the daemon runs it in its
     own thread) matches each message to its member by token, reads it
     (`read_message`: classify, cut the quote, parse against the survey),
     records the answers and queues the receipt, and settles the message.
   The pipeline's time runs from the first message sent to the last one
   settled. `ratio` = pipeline rate / sink rate (target >= 0.8). The rate of
   receive -> store alone, and of `read_message` alone, are printed beside it.
3. Messages appended to a throwaway Dovecot are polled with `batch=50`
   and with `batch=1` (one FETCH and one transaction per message).

4. kill -9 (`--burst`): a panel of 5 000 residents whose replies are all
   stored, a reader in another process killed -9 at a random moment of
   reading them, then a second reader (the restart) reads what is left.
   Counted afterwards: messages not settled (lost), responses per member,
   automatic answers per message, and the kept answer counts against a
   GROUP BY over the answers (any reply counted twice shows there).

Each figure is the best of `--rounds`, the sink and the pipeline alternating,
so that a noisy neighbour hurts both alike. Every round sends new messages
(new Message-IDs), so none is taken for a duplicate. SQLite runs on a fresh
file, PostgreSQL (MAILBOT_TEST_POSTGRES, or 127.0.0.1:5432/test) in a
throwaway schema per store, dropped afterwards; `--only` picks one. The load
average is printed before each part (a 2-core machine shared with others).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import signal
import smtplib
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import compat32
from email.utils import parseaddr
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from mailbot.reading import read_message  # noqa: E402
from mailbot.states import InboundState  # noqa: E402
from mailbot.store import Store  # noqa: E402
from mailbot.store import members as member_store  # noqa: E402
from mailbot.store.models import Inbound  # noqa: E402
from mailbot.transport.local import free_port  # noqa: E402
from mailbot.transport.receiver import InboundServer, ReceiverSettings  # noqa: E402

DOMAIN = "svar.baerum.example.no"
PANEL = f"innbyggerpanel+k7q2mz@{DOMAIN}"
SENDER = "kari@example.com"
NOW = datetime(2022, 12, 2, 9, 0, tzinfo=UTC)
REPLY_SIZE = 3072

# What residents type above the quote, in the layouts the reader accepts (and one it sends to a person).
ANSWERS = (
    "1 A\n2 Møbler, klær\n3 4\n4 Sandvika sentrum",
    "1: ja\n2: klær og sportsutstyr\n3: 4 av 5\n4: Bekkestua",
    "Ja\nKlær, sportsutstyr\n4\nSandvika sentrum",
    "1a, 2b og c, 3 4, 4 Høvik",
    "1 yes\n2 clothes and sports equipment\n3 four\n4 Stabekk",
    "1 B\n2 E\n3 2\n\nMed vennlig hilsen\nOla",
    "1) Ja 2) Møbler & Bøker 3) fem 4) Fornebu",
    "Ja, det trengs. Møbler og bøker. Jeg gir dagens tilbud en toer.",
)


def reply(n: int, size: int = REPLY_SIZE) -> bytes:
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


def reply_to_invitation(invitation: EmailMessage, sender: str, n: int, round_: int,
                        size: int = REPLY_SIZE) -> bytes:
    """A resident's reply to their own invitation, as a mail client writes it: answers, attribution, quote."""
    body = invitation.get_body(("plain",))
    assert body is not None
    quoted = [f"> {line}".rstrip() for line in str(body.get_content()).splitlines()]
    head = (f"{ANSWERS[n % len(ANSWERS)]}\n\nDen 1. des. 2022 kl. 09:00 skrev Innbyggerpanelet "
            f"<innbyggerpanel@baerum.example.no>:\n")
    msg = EmailMessage()
    for name, value in _TRACE:  # what the sender's provider and the MX add: half of a real reply's size
        msg[name] = value.format(n=n, round=round_)
    msg["From"] = sender
    msg["To"] = str(invitation["Reply-To"])
    msg["Subject"] = "SV: " + str(invitation["Subject"])
    msg["Date"] = "Fri, 02 Dec 2022 09:00:00 +0100"
    msg["Message-ID"] = f"<bench-{round_}-{n}@example.com>"
    msg["In-Reply-To"] = str(invitation["Message-ID"])
    msg.set_content(head + "\n".join(quoted) + "\n")
    raw = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    while len(raw) < size:  # a longer survey email: pad the quote with one more quoted line
        quoted.insert(-1, ">")
        msg.set_content(head + "\n".join(quoted) + "\n")
        raw = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    return raw


_TRACE = (
    ("Received", "from mail-ej1-f45.example.com (mail-ej1-f45.example.com [209.85.218.45]) by mx.svar.baerum."
                 "example.no (Postfix) with ESMTPS id 4NNq2k{n}x for <innbyggerpanel@svar.baerum.example.no>; "
                 "Fri, 2 Dec 2022 10:14:40 +0100 (CET)"),
    ("Received", "by mail-ej1-f45.example.com with SMTP id vp12so{n}ejc.8; Fri, 02 Dec 2022 01:14:39 -0800 (PST)"),
    ("DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=20210112; "
                       "h=to:subject:message-id:date:from:in-reply-to:references:mime-version; "
                       "bh=k3X9Yq0m3XbQ1m3E5sN0q9Yc2Z2e7b0cF6r1Zg8mJ1k=; b=Qm0p1XrU6mYc0dRj8b6H2l3vX0qJm9t5rW3N8e"
                       "Lk2Zc0fP7gT4sR1yA6hB9nD2oE5uI8kL3mN6pQ9sT2vW5yZ8bC1eF4hJ7kM0nQ3sU6wX9zA2cD5fG8iK1lO4rT7{round}"),
    ("Authentication-Results", "mx.svar.baerum.example.no; dkim=pass header.d=example.com; spf=pass "
                               "smtp.mailfrom=example.com; dmarc=pass header.from=example.com"),
    ("ARC-Seal", "i=1; a=rsa-sha256; t=1669972479; cv=none; d=example.com; s=arc-20160816; b=Hn2Kx7Qm0Zp1Rk4Tj8W"
                 "c3Vb6Yn9Xm2Lq5Ps8Ot1Ru4Qv7Nw0Mz3Ly6Kx9Jw2Iv5Hu8Gt1Fs4Er7Dq0Cp3Bo6An9Zm2Yl5Xk8Wj1Vi4Uh7Tg0S"
                 "f3Re6Qd9Pc2Ob5Na8Mz1Ly4Kx7Jw0Iv3Hu6Gt9Fs2Er5Dq8Cp1Bo4An7Zm0Yl3Xk6Wj9Vi2Uh5Tg8Sf1Re4Qd7Pc0Ob"
                 "3Na6Mz9Ly2Kx5Jw8Iv1Hu4Gt7Fs0Er3Dq6Cp9Bo2An5Zm8Yl1Xk4Wj7Vi0Uh3Tg6Sf9Re2Qd5Pc8Ob1Na4Mz7Ly0Kx{n}"),
    ("X-Mailer", "iPhone Mail (20B101)"),
)


class Sink:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


def send_all(port: int, messages: Sequence[bytes], connections: int = 1) -> tuple[float, float]:
    """(start, end) wall-clock times of sending every message over `connections` connections, from other processes."""
    # In-process, the client thread and the server's event loop would fight over the GIL.
    envelopes = [(_recipient(raw), raw) for raw in messages]
    parts = [envelopes[i::connections] for i in range(connections)]
    go = time.time() + 0.5 + 0.05 * connections  # connected first, then all start together
    with multiprocessing.get_context("fork").Pool(connections) as pool:
        spans = pool.starmap(_send_all, [(port, part, go) for part in parts])
    return min(start for start, _ in spans), max(end for _, end in spans)


def _send_all(port: int, messages: Sequence[tuple[str, bytes]], go: float) -> tuple[float, float]:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as c:
        c.ehlo()
        time.sleep(max(0.0, go - time.time()))
        started = time.time()
        for recipient, raw in messages:
            c.mail(SENDER)
            c.rcpt(recipient)
            code, _ = c.data(raw)
            if code != 250:
                raise RuntimeError(f"answer {code}")
        return started, time.time()


def _recipient(raw: bytes) -> str:
    """The envelope recipient an MTA would use: the reply's To (the invitation's token address)."""
    head = message_from_bytes(raw.split(b"\r\n\r\n", 1)[0], policy=compat32)
    return parseaddr(str(head.get("To", "")))[1] or PANEL


PG_URL = os.environ.get("MAILBOT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_schemas: list[str] = []


def fresh_store(url: str | None, folder: Path, name: str) -> Store:
    """An empty migrated store: a new SQLite file, or (url "postgres") a new schema in PostgreSQL."""
    if url == "postgres":
        schema = f"bench_inbound_{os.getpid()}_{len(_schemas)}_{name}"[:60].lower()
        with _admin().connect() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        _schemas.append(schema)
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    store = Store(url or f"sqlite:///{folder / name}.sqlite3")
    if url and not url.startswith("sqlite"):
        from sqlalchemy import delete

        store.upgrade()
        with store.transaction() as s:
            s.execute(delete(Inbound))
    else:
        store.upgrade()
    return store


def _admin() -> Any:
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT")


def drop_schemas() -> None:
    if _schemas:
        engine = _admin()
        with engine.connect() as c:
            for schema in _schemas:
                c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
        _schemas.clear()


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Pipeline:
    """A panel of `n` residents, invited, and a reader thread that settles what the receiver stores."""

    def __init__(self, n: int, url: str | None, folder: Path, name: str = "pipeline"):
        from tests.conftest import oslo
        from tests.inbound.conftest import Row, make_panel

        self.store = fresh_store(url, folder, name)
        self.panel = make_panel(folder / name, self.store,
                                extra_config="[replies]\nmax_auto_answers_per_day = 100000\n")
        self.residents = [f"beboer{i}@example.com" for i in range(n)]
        with self.store.transaction() as s:
            member_store.upsert_members(s, [Row(a, f"Beboer {i}") for i, a in enumerate(self.residents)],
                                        oslo(2022, 11, 1))
        self.panel.invite()
        self.invitations = [self.panel.invitation(a) for a in self.residents]
        self.now = oslo(2022, 12, 2, 9)

    def replies(self, round_: int) -> list[bytes]:
        return [reply_to_invitation(inv, a, i, round_) for i, (inv, a) in enumerate(zip(self.invitations,
                                                                                        self.residents, strict=True))]

    def settled(self) -> int:
        with self.store.reading() as s:  # not queueing for SQLite's write lock beside the reader
            return int(s.scalar(select(func.count()).select_from(Inbound)
                                .where(Inbound.status != InboundState.NEW.value)) or 0)

    def run(self, messages: Sequence[bytes], connections: int) -> float:
        """Seconds from the first message sent to the last one settled."""
        expected = self.settled() + len(messages)
        done: list[float] = []
        deadline = [float("inf")]  # set once everything is sent

        def read() -> None:
            while time.time() < deadline[0]:
                self.panel.bot.read_inbound(self.now)
                if self.settled() >= expected:
                    done.append(time.time())
                    return
                time.sleep(0.001)

        settings = ReceiverSettings(domains=(DOMAIN,), protocol="smtp", port=0)
        with InboundServer.for_store(self.store, settings) as server:
            reader = threading.Thread(target=read, name="bench-reader", daemon=True)
            reader.start()
            started, _ = send_all(server.port, messages, connections)
            deadline[0] = time.time() + 300
            reader.join()
        if not done:
            raise RuntimeError(f"the reader settled {self.settled()} of {expected} messages")
        return done[0] - started


def bench_smtp(n: int, rounds: int, url: str | None, folder: Path, connections_list: Sequence[int]) -> None:
    print(f"pipeline: inviting {n} residents … (load average {load()})", flush=True)
    started = time.perf_counter()
    pipeline = Pipeline(n, url, folder)
    print(f"  invited in {time.perf_counter() - started:.0f} s", flush=True)
    sink = Controller(Sink(), hostname="127.0.0.1", port=free_port(), server_kwargs={"decode_data": False})
    sink.start()
    round_ = 0
    try:
        for connections in connections_list:
            best_sink = best_pipeline = best_store = float("inf")
            size = 0.0
            for _ in range(rounds):
                round_ += 1
                messages = pipeline.replies(round_)
                size = sum(map(len, messages)) / n
                start, end = send_all(sink.port, messages, connections)
                best_sink = min(best_sink, end - start)
                best_pipeline = min(best_pipeline, pipeline.run(messages, connections))
                best_store = min(best_store, store_only(messages, url, folder, f"store{connections}r{round_}",
                                                        connections))
            sink_rate, rate = n / best_sink, n / best_pipeline
            print(f"smtp  {n} replies of {size / 1024:.1f} KB, {connections} connection(s), "
                  f"{pipeline.store.engine.dialect.name} (load average {load()})")
            print(f"  sink (discard)                              {sink_rate:8.0f} msg/s")
            print(f"  receive -> store                            {n / best_store:8.0f} msg/s")
            print(f"  receive -> store -> read -> record -> settle {rate:8.0f} msg/s")
            print(f"  ratio={rate / sink_rate:.2f}  (pipeline / sink, target >= 0.8)", flush=True)
        messages = pipeline.replies(0)
        survey = pipeline.panel.survey
        best_read = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            for raw in messages:
                read_message(raw, survey, ["innbyggerpanel@baerum.example.no"])
            best_read = min(best_read, time.perf_counter() - started)
        print(f"  read_message alone                          {n / best_read:8.0f} msg/s "
              f"({best_read / n * 1e3:.2f} ms a message)")
    finally:
        sink.stop()
        pipeline.store.dispose()


def store_only(messages: Sequence[bytes], url: str | None, folder: Path, name: str, connections: int) -> float:
    """Seconds to receive and commit every message, nothing read."""
    store = fresh_store(url, folder, name)
    try:
        settings = ReceiverSettings(domains=(DOMAIN,), protocol="smtp", port=0)
        with InboundServer.for_store(store, settings) as server:
            start, end = send_all(server.port, messages, connections)
        with store.transaction() as s:
            stored = s.scalar(select(func.count()).select_from(Inbound))
        assert stored == len(messages), f"{stored} stored of {len(messages)}"
        return end - start
    finally:
        store.dispose()


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


def bench_kill(n: int, url: str | None, folder: Path, seed: int | None) -> None:
    """kill -9 of a reader at a random moment of an `n`-reply burst, then a restart: lost and counted twice."""
    from mailbot import replies
    from mailbot.store import answer_counts
    from mailbot.store import inbound as inbound_store
    from mailbot.store.models import Outbox, Response

    pipeline = Pipeline(n, url, folder, "burst")
    name = pipeline.store.engine.dialect.name
    print(f"kill -9: {n} replies stored, {name} (load average {load()})", flush=True)
    with pipeline.store.transaction() as s:
        for raw in pipeline.replies(1):
            inbound_store.store_raw(s, raw, via="smtp", now=pipeline.now, envelope_to=[_recipient(raw)])
    bot = pipeline.panel.bot
    rng = random.Random(seed)
    started = time.perf_counter()
    child = multiprocessing.get_context("fork").Process(target=_read_all, args=(pipeline,))
    child.start()
    # A random moment: once a random number of messages are settled (committed), wherever the next batch is.
    target = rng.randint(1, n - 1)
    while pipeline.settled() < target and child.is_alive():
        time.sleep(0.005)
    os.kill(child.pid or 0, signal.SIGKILL)
    child.join()
    killed_after = time.perf_counter() - started
    before = pipeline.settled()
    report = replies.read_inbound(bot.settings, bot.store, bot.keys, bot.by_id, pipeline.now)
    with pipeline.store.transaction() as s:
        statuses = Counter(s.scalars(select(Inbound.status)))
        per_member = Counter(s.scalars(select(Response.member_id)))
        automatic = Counter(s.scalars(select(Outbox.step).where(
            Outbox.step.like("receipt-%") | Outbox.step.like("notice-read-back-%"))))
        kept = answer_counts.read(s, pipeline.panel.survey.id)
        truth = answer_counts.from_answers(s, pipeline.panel.survey.id)
    lost = statuses.get(InboundState.NEW.value, 0) + (n - sum(statuses.values()))
    twice = sum(1 for c in per_member.values() if c > 1) + sum(1 for c in automatic.values() if c > 1)
    wrong = sum(1 for k in set(kept.per_value) | set(truth.per_value)
                if kept.per_value.get(k, 0) != truth.per_value.get(k, 0))
    wrong += sum(1 for k in set(kept.per_question) | set(truth.per_question)
                 if kept.per_question.get(k, 0) != truth.per_question.get(k, 0))
    wrong += int(kept.respondents != truth.respondents)
    print(f"  killed -9 after {killed_after:.1f} s with {before} of {n} settled; the restart settled "
          f"{n - before} (answered {report.answered}, read back {report.read_backs}, to a person "
          f"{report.needs_human})")
    print(f"  lost={lost}  responses={len(per_member)} (more than one for a member: "
          f"{sum(1 for c in per_member.values() if c > 1)})  automatic answers={sum(automatic.values())} "
          f"(two for a message: {sum(1 for c in automatic.values() if c > 1)})")
    print(f"  kept counts vs GROUP BY: {len(truth.per_value)} values, respondents {kept.respondents} / "
          f"{truth.respondents}, differences={wrong}  -> lost {lost}, counted twice {twice + wrong}", flush=True)
    pipeline.store.dispose()


def _read_all(pipeline: Pipeline) -> None:
    """The reader of the kill -9 burst, in a forked process (its own connections)."""
    pipeline.store.engine.dispose(close=False)
    pipeline.panel.bot.read_inbound(pipeline.now)
    os._exit(0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--imap-messages", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 8],
                        help="parallel SMTP connections, as an MTA opens them (default: 1 and 8)")
    parser.add_argument("--only", choices=["sqlite", "postgres"], default=None,
                        help="one database (default: SQLite, then PostgreSQL)")
    parser.add_argument("--database", default=None, help="one database URL instead (default: see --only)")
    parser.add_argument("--burst", type=int, default=5000, help="replies of the kill -9 check (0: skip it)")
    parser.add_argument("--seed", type=int, default=None, help="the kill's moment (default: random)")
    args = parser.parse_args(argv)
    urls: list[str | None] = ([args.database] if args.database else
                              [None, "postgres"] if args.only is None else
                              [None] if args.only == "sqlite" else ["postgres"])
    with tempfile.TemporaryDirectory(prefix="mailbot-bench-") as tmp:
        try:
            for i, url in enumerate(urls):
                folder = Path(tmp) / str(i)
                folder.mkdir()
                if args.messages:
                    bench_smtp(args.messages, args.rounds, url, folder, args.connections)
                if args.burst:
                    bench_kill(args.burst, url, folder, args.seed)
                if args.imap_messages:
                    bench_imap(args.imap_messages, args.rounds, url, folder)
                drop_schemas()
        finally:
            drop_schemas()


if __name__ == "__main__":
    main()
