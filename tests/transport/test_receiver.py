"""The inbound SMTP/LMTP server against smtplib on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from mailbot.store import Store
from mailbot.store.models import Inbound
from mailbot.transport.receiver import InboundServer, ReceiverSettings, recipient_allowed
from tests.transport.conftest import REPLY_DOMAIN, Mailbox, reply

PANEL = f"innbyggerpanel+k7q2mz@{REPLY_DOMAIN}"
SENDER = "kari1@example.com"
BASE = ReceiverSettings(domains=(REPLY_DOMAIN, "svar2.baerum.example.no"), port=0, protocol="smtp")

Serve = Callable[..., InboundServer]


def stored(store: Store) -> list[Inbound]:
    with store.transaction() as s:
        return list(s.scalars(select(Inbound).order_by(Inbound.id)))


@pytest.fixture
def serve(store: Store) -> Iterator[Serve]:
    servers: list[InboundServer] = []

    def start(**changes: Any) -> InboundServer:
        server = InboundServer.for_store(store, replace(BASE, **changes)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def connect(server: InboundServer) -> smtplib.SMTP:
    s = server.settings
    client: smtplib.SMTP
    if s.protocol == "lmtp":
        client = smtplib.LMTP(s.socket_path or s.host, 0 if s.socket_path else server.port, timeout=10)
    else:
        client = smtplib.SMTP(s.host, server.port, timeout=10)
    client.ehlo()  # LHLO for LMTP
    return client


# ---- which recipients


@pytest.mark.parametrize(("address", "allowed"), [
    (f"innbyggerpanel@{REPLY_DOMAIN}", True),
    (f"innbyggerpanel+k7q2mz@{REPLY_DOMAIN}", True),
    (f"INNBYGGERPANEL+K7Q2MZ@{REPLY_DOMAIN.upper()}", True),  # some servers change the case
    ("innbyggerpanel+k7q2mz@svar2.baerum.example.no", True),
    (f"bounces+k7q2mz@{REPLY_DOMAIN}", True),
    (f"bounces@{REPLY_DOMAIN}", False),  # a bounce without a VERP token names nobody
    (f"innbyggerpanel+@{REPLY_DOMAIN}", False),
    (f"postmaster@{REPLY_DOMAIN}", False),
    (f"innbyggerpanelx@{REPLY_DOMAIN}", False),
    ("innbyggerpanel+k7q2mz@example.com", False),
    ("innbyggerpanel", False),
])
def test_only_the_panel_and_bounce_addresses_at_the_reply_domains_are_taken(address: str,
                                                                            allowed: bool) -> None:
    assert recipient_allowed(address, BASE) is allowed


# ---- SMTP


def test_an_unknown_recipient_is_refused_with_550_5_1_1(store: Store, serve: Serve) -> None:
    with connect(serve()) as c:
        c.mail(SENDER)
        code, message = c.rcpt(f"ordforer@{REPLY_DOMAIN}")
        assert (code, message[:5]) == (550, b"5.1.1")
        assert c.rcpt("innbyggerpanel@example.com")[0] == 550
        assert c.rcpt(PANEL)[0] == 250
    assert stored(store) == []


def test_a_message_is_committed_before_250_is_answered(store: Store, serve: Serve) -> None:
    raw = reply(1, to=PANEL)
    with connect(serve()) as c:
        c.mail(SENDER)
        c.rcpt(PANEL)
        code, message = c.data(raw)
        # Read from another connection the moment the 250 is here: only committed rows show.
        rows = stored(store)
        assert (code, message) == (250, b"2.0.0 Stored")
    [row] = rows
    assert (row.raw, row.via, row.envelope_from, row.envelope_to) == (raw, "smtp", SENDER, PANEL)
    assert row.status == "new"


def test_a_storage_failure_answers_451_and_the_retry_is_stored(store: Store, serve: Serve) -> None:
    server = serve()
    with store.engine.begin() as db:
        db.execute(text("ALTER TABLE inbound RENAME TO inbound_away"))
    try:
        with connect(server) as c, pytest.raises(smtplib.SMTPDataError) as refused:
            c.sendmail(SENDER, [PANEL], reply(1))
        assert refused.value.args == (451, b"4.3.0 Could not store the message; try again later")
    finally:
        with store.engine.begin() as db:
            db.execute(text("ALTER TABLE inbound_away RENAME TO inbound"))

    with connect(server) as c:  # the MTA's retry
        c.sendmail(SENDER, [PANEL], reply(1))
    assert len(stored(store)) == 1


def test_a_second_delivery_of_the_same_message_is_stored_once(store: Store, serve: Serve) -> None:
    server = serve()
    answers = []
    for _ in range(2):  # the MTA missed our first 250 and sends again
        with connect(server) as c:
            c.mail(SENDER)
            c.rcpt(PANEL)
            answers.append(c.data(reply(1)))
    assert answers == [(250, b"2.0.0 Stored"), (250, b"2.0.0 Already stored")]
    assert len(stored(store)) == 1


def test_a_size_announced_over_the_limit_is_refused_at_mail(store: Store, serve: Serve) -> None:
    with connect(serve(max_size=10_000)) as c:
        assert c.has_extn("size") and c.esmtp_features["size"] == "10000"
        code, message = c.mail(SENDER, ["SIZE=20000"])
    assert (code, message[:5]) == (552, b"5.3.4")


def test_a_message_over_the_limit_without_size_is_refused_after_data(store: Store, serve: Serve) -> None:
    with connect(serve(max_size=10_000)) as c:
        c.mail(SENDER)  # no SIZE parameter
        c.rcpt(PANEL)
        code, message = c.data(reply(1, size=20_000))
        assert (code, message[:5]) == (552, b"5.3.4")
        c.rset()
        c.mail(SENDER)
        c.rcpt(PANEL)
        assert c.data(reply(2))[0] == 250  # the connection is still usable
    assert len(stored(store)) == 1


def test_a_message_to_several_panel_addresses_is_stored_once_with_all_of_them(store: Store,
                                                                            serve: Serve) -> None:
    with connect(serve()) as c:
        refused = c.sendmail(SENDER, [PANEL, f"bounces+abc@{REPLY_DOMAIN}", f"ola@{REPLY_DOMAIN}"], reply(1))
    assert list(refused) == [f"ola@{REPLY_DOMAIN}"]
    [row] = stored(store)
    assert row.envelope_to == f"{PANEL},bounces+abc@{REPLY_DOMAIN}"


# ---- LMTP


def test_lmtp_answers_once_per_recipient(store: Store, serve: Serve) -> None:
    second = f"innbyggerpanel+other@{REPLY_DOMAIN}"
    with connect(serve(protocol="lmtp")) as c:
        c.mail(SENDER)
        assert c.rcpt(PANEL)[0] == 250
        assert c.rcpt(f"nobody@{REPLY_DOMAIN}")[0] == 550
        assert c.rcpt(second)[0] == 250
        first_reply = c.data(reply(1))
        second_reply = c.getreply()
        assert c.noop()[0] == 250  # nothing left unread: the dialogue is in step
    assert first_reply == second_reply == (250, b"2.0.0 Stored")
    [row] = stored(store)
    assert (row.via, row.envelope_to) == ("lmtp", f"{PANEL},{second}")


def test_lmtp_storage_failure_is_451_for_every_recipient(store: Store, serve: Serve) -> None:
    server = serve(protocol="lmtp")
    with store.engine.begin() as db:
        db.execute(text("ALTER TABLE inbound RENAME TO inbound_away"))
    try:
        with connect(server) as c:
            c.mail(SENDER)
            c.rcpt(PANEL)
            c.rcpt(f"bounces+x1@{REPLY_DOMAIN}")
            assert [c.data(reply(1))[0], c.getreply()[0]] == [451, 451]
            assert c.noop()[0] == 250
    finally:
        with store.engine.begin() as db:
            db.execute(text("ALTER TABLE inbound_away RENAME TO inbound"))


def test_lmtp_over_the_limit_is_552_for_every_recipient(store: Store, serve: Serve) -> None:
    with connect(serve(protocol="lmtp", max_size=10_000)) as c:
        c.mail(SENDER)
        c.rcpt(PANEL)
        c.rcpt(f"bounces+x1@{REPLY_DOMAIN}")
        answers = [c.data(reply(1, size=50_000)), c.getreply()]
        assert c.noop()[0] == 250
    assert [(code, m[:5]) for code, m in answers] == [(552, b"5.3.4"), (552, b"5.3.4")]
    assert stored(store) == []


def test_lmtp_on_a_unix_socket(store: Store, serve: Serve, tmp_path: Path) -> None:
    socket_path = str(tmp_path / "lmtp.sock")
    server = serve(protocol="lmtp", socket_path=socket_path)
    assert Path(socket_path).stat().st_mode & 0o777 == 0o660
    with connect(server) as c:
        c.sendmail(SENDER, [PANEL], reply(1))
    assert [r.via for r in stored(store)] == ["lmtp"]


# ---- the same message by two paths


@pytest.mark.dovecot
def test_the_same_message_by_smtp_and_by_imap_is_stored_once(store: Store, serve: Serve,
                                                              mailbox: Mailbox) -> None:
    from datetime import UTC, datetime

    from mailbot.transport.imap import ImapPoller

    raw = reply(1, to=PANEL)
    with connect(serve()) as c:
        c.sendmail(SENDER, [PANEL], raw)
    mailbox.append(raw)
    poller = ImapPoller(store, mailbox.settings)
    try:
        report = poller.poll(datetime(2022, 12, 2, tzinfo=UTC))
    finally:
        poller.close()
    assert (report.fetched, report.stored, report.marked) == (1, 0, 1)
    assert [r.via for r in stored(store)] == ["smtp"]


def test_the_same_message_with_different_trace_headers_is_stored_once(store: Store, serve: Serve) -> None:
    body = reply(1, to=PANEL)
    by_smtp = (b"Received: from mx1.example.com by svar.baerum.example.no; Fri, 2 Dec 2022 09:00:01 +0100\r\n"
               + body)
    by_imap = (b"Return-Path: <kari1@example.com>\r\nDelivered-To: " + PANEL.encode() + b"\r\n"
               b"Received: from mx2.example.com by imap.baerum.example.no; Fri, 2 Dec 2022 09:00:03 +0100\r\n"
               + body)
    server = serve()
    for raw in (by_smtp, by_imap):
        with connect(server) as c:
            c.sendmail(SENDER, [PANEL], raw)
    assert len(stored(store)) == 1


# ---- group commit


def test_messages_arriving_together_share_a_commit_and_each_gets_its_answer(store: Store) -> None:
    import asyncio

    from mailbot.transport.receiver import GroupCommit

    keep = GroupCommit(store, via="lmtp").start()

    async def deliver_all() -> list[int | None]:
        # The same message twice among twenty: one id for it, None for its copy.
        raws = [reply(n) for n in range(19)] + [reply(3)]
        return list(await asyncio.gather(*(keep(raw, SENDER, [PANEL]) for raw in raws)))

    try:
        ids = asyncio.run(deliver_all())
    finally:
        keep.stop()
    assert ids[-1] is None and None not in ids[:-1]
    assert len(set(ids[:-1])) == 19
    assert len(stored(store)) == 19


def test_parallel_connections_are_all_stored(store: Store, serve: Serve) -> None:
    import threading

    server = serve(protocol="lmtp")
    answers: list[tuple[int, bytes]] = []

    def mta(k: int) -> None:
        with connect(server) as c:
            for n in range(5):
                c.mail(SENDER)
                c.rcpt(PANEL)
                answers.append(c.data(reply(100 * k + n)))

    threads = [threading.Thread(target=mta, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert answers == [(250, b"2.0.0 Stored")] * 30
    assert len(stored(store)) == 30
