"""The IMAP poller against a real Dovecot, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError
from sqlalchemy import select

from mailbot.store import Store
from mailbot.store.models import Inbound
from mailbot.transport.imap import (
    ImapPoller,
    ImapSettings,
    TokenCommandError,
    access_token,
    batches,
    envelope_recipients,
    envelope_sender,
    poll_once,
    run_forever,
)
from tests.dovecot.server import DovecotServer
from tests.transport.conftest import Mailbox, reply

pytestmark = pytest.mark.dovecot

NOW = datetime(2022, 12, 2, 8, 30, tzinfo=UTC)
KEYWORD = b"$MailbotStored"


def stored(store: Store) -> list[Inbound]:
    with store.transaction() as s:
        return list(s.scalars(select(Inbound).order_by(Inbound.id)))


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def running(store: Store, settings: ImapSettings, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=run_forever, args=(store, settings, stop), daemon=True)
    thread.start()
    return thread


class Crash(Exception):
    pass


# ---- pure helpers


def test_envelope_recipients_prefer_delivered_to_over_to() -> None:
    raw = (b"Delivered-To: innbyggerpanel+k3@svar.example.no\r\n"
           b"To: Panel <innbyggerpanel@example.no>\r\n\r\nx\r\n")
    assert envelope_recipients(raw) == ["innbyggerpanel+k3@svar.example.no"]


def test_envelope_recipients_fall_back_to_to_and_cc_without_duplicates() -> None:
    raw = b"To: A <a@x.no>, b@x.no\r\nCc: A@X.no, c@x.no\r\nSubject: s\r\n\r\nTo: not@header.no\r\n"
    assert envelope_recipients(raw) == ["a@x.no", "b@x.no", "c@x.no"]


def test_envelope_sender_comes_from_return_path() -> None:
    assert envelope_sender(b"Return-Path: <kari@example.com>\r\n\r\n") == "kari@example.com"
    assert envelope_sender(b"Return-Path: <>\r\n\r\n") is None
    assert envelope_sender(b"From: kari@example.com\r\n\r\n") is None


def test_batches_stop_at_the_count_and_at_the_byte_limit() -> None:
    assert batches([1, 2, 3, 4, 5], {}, 2, 10**9) == [[1, 2], [3, 4], [5]]
    assert batches([1, 2, 3], {1: 60, 2: 60, 3: 10}, 10, 100) == [[1], [2, 3]]
    assert batches([7], {7: 500}, 10, 100) == [[7]]  # one oversized message still goes alone


def test_token_command_output_is_the_token_and_failures_are_clear() -> None:
    assert access_token("printf 'tok-123\\n'") == "tok-123"
    with pytest.raises(TokenCommandError, match="exited with 3: no login"):
        access_token("echo no login >&2; exit 3")
    with pytest.raises(TokenCommandError, match="alone"):
        access_token("true")


def test_settings_refuse_both_a_password_and_a_token_command() -> None:
    with pytest.raises(ValueError, match="not both"):
        ImapSettings("imap.example.no", password="p", oauth2_token_command="echo t")
    with pytest.raises(ValueError, match="security"):
        ImapSettings("imap.example.no", security="ssl")  # type: ignore[arg-type]


# ---- against Dovecot


def test_new_messages_are_stored_then_flagged(store: Store, mailbox: Mailbox) -> None:
    mailbox.append(reply(1), reply(2, headers={"Delivered-To": "innbyggerpanel+tok2@svar.baerum.example.no"}))

    assert poll_once(store, mailbox.settings, NOW) == 2

    rows = stored(store)
    assert [r.via for r in rows] == ["imap", "imap"]
    assert rows[0].raw == reply(1)  # byte for byte
    assert rows[1].envelope_to == "innbyggerpanel+tok2@svar.baerum.example.no"
    assert rows[0].received_at == NOW
    assert all({b"\\Seen", KEYWORD} <= set(f) for f in mailbox.flags().values())
    assert poll_once(store, mailbox.settings, NOW) == 0  # nothing new, nothing twice
    assert len(stored(store)) == 2


def test_stored_messages_are_moved_to_the_processed_folder(store: Store, mailbox: Mailbox) -> None:
    mailbox.append(reply(1), reply(2), reply(3))
    settings = mailbox.with_(processed_folder="Behandlet")

    assert poll_once(store, settings, NOW) == 3

    assert mailbox.count("INBOX") == 0
    assert mailbox.count("Behandlet") == 3
    assert len(stored(store)) == 3


@pytest.mark.parametrize("processed_folder", [None, "Behandlet"])
def test_the_server_is_marked_only_after_the_commit(store: Store, mailbox: Mailbox,
                                                    processed_folder: str | None) -> None:
    mailbox.append(reply(1), reply(2))
    seen_at_mark: list[tuple[int, dict[int, tuple[bytes, ...]]]] = []

    class Watching(ImapPoller):
        def mark(self, client: IMAPClient, uids: Sequence[int]) -> None:
            # Another connection to the database: sees only committed rows.
            seen_at_mark.append((len(stored(store)), mailbox.flags()))
            super().mark(client, uids)

    poller = Watching(store, mailbox.with_(processed_folder=processed_folder))
    try:
        poller.poll(NOW)
    finally:
        poller.close()

    [(rows_committed, flags_before)] = seen_at_mark
    assert rows_committed == 2
    assert all(b"\\Seen" not in f and KEYWORD not in f for f in flags_before.values())
    assert len(flags_before) == 2


@pytest.mark.parametrize("processed_folder", [None, "Behandlet"])
def test_a_crash_between_store_and_mark_loses_nothing_and_stores_nothing_twice(
        store: Store, mailbox: Mailbox, processed_folder: str | None) -> None:
    mailbox.append(reply(1), reply(2))
    settings = mailbox.with_(processed_folder=processed_folder)

    class CrashingBeforeMark(ImapPoller):
        def mark(self, client: IMAPClient, uids: Sequence[int]) -> None:
            raise Crash("power cut")

    poller = CrashingBeforeMark(store, settings)
    with pytest.raises(Crash):
        poller.poll(NOW)
    poller.close()
    assert len(stored(store)) == 2  # committed before the crash
    assert mailbox.count("INBOX") == 2  # and still there, unmarked
    assert all(KEYWORD not in f for f in mailbox.flags().values())

    assert poll_once(store, settings, NOW) == 0  # fetched again, recognised, not stored again

    assert len(stored(store)) == 2
    if processed_folder:
        assert (mailbox.count("INBOX"), mailbox.count(processed_folder)) == (0, 2)
    else:
        assert all(KEYWORD in f for f in mailbox.flags().values())


def test_a_failed_commit_leaves_the_messages_unmarked_for_the_next_poll(store: Store,
                                                                        mailbox: Mailbox) -> None:
    mailbox.append(reply(1))

    class DatabaseDown(ImapPoller):
        def store_batch(self, messages: Sequence[bytes], now: datetime) -> int:
            raise Crash("database unreachable")

    with pytest.raises(Crash):
        poll_once_with(DatabaseDown, store, mailbox.settings)
    assert mailbox.flags() and all(KEYWORD not in f for f in mailbox.flags().values())
    assert poll_once(store, mailbox.settings, NOW) == 1


def poll_once_with(cls: type[ImapPoller], store: Store, settings: ImapSettings) -> int:
    poller = cls(store, settings)
    try:
        return poller.poll(NOW).stored
    finally:
        poller.close()


def test_messages_are_fetched_in_batches(store: Store, mailbox: Mailbox) -> None:
    mailbox.append(*(reply(n) for n in range(7)))
    poller = ImapPoller(store, mailbox.with_(batch=3))
    try:
        report = poller.poll(NOW)
    finally:
        poller.close()
    assert (report.fetched, report.stored, report.marked, report.batches) == (7, 7, 7, 3)
    state = json.loads(Path(mailbox.settings.state_path or "").read_text())
    [entry] = state.values()
    assert entry["last_uid"] == 7


def test_the_poll_resumes_after_the_last_uid(store: Store, mailbox: Mailbox) -> None:
    mailbox.append(reply(1))
    assert poll_once(store, mailbox.settings, NOW) == 1
    with mailbox.client() as c:  # someone takes our keyword off again: the UID still says "done"
        c.select_folder("INBOX")
        c.remove_flags([1], [KEYWORD])
    mailbox.append(reply(2))

    poller = ImapPoller(store, mailbox.settings)
    try:
        report = poller.poll(NOW)
    finally:
        poller.close()
    assert (report.fetched, report.stored) == (1, 1)


def test_a_changed_uidvalidity_rescans_the_folder(store: Store, mailbox: Mailbox) -> None:
    folder = "Svar"
    mailbox.append(reply(1), reply(2), reply(3), folder=folder)
    settings = mailbox.with_(folder=folder, processed_folder="Behandlet")
    assert poll_once(store, settings, NOW) == 3

    # The folder is recreated (a migration, a restore): UIDs start again at 1, below our last UID.
    with mailbox.client() as c:
        before = c.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"]
        c.delete_folder(folder)
        c.create_folder(folder)
        c.append(folder, reply(2))  # the same message again (restored from a backup)
        c.append(folder, reply(4))
        after = c.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"]
    assert before != after

    poller = ImapPoller(store, settings)
    try:
        report = poller.poll(NOW)
    finally:
        poller.close()

    assert report.rescanned
    assert (report.fetched, report.stored) == (2, 1)  # both read, the known one recognised
    assert len(stored(store)) == 4
    assert mailbox.count(folder) == 0


def test_uidvalidity_changed_by_the_server_admin_is_noticed(store: Store, mailbox: Mailbox) -> None:
    mailbox.append(reply(1))
    assert poll_once(store, mailbox.settings, NOW) == 1
    mailbox.server.doveadm("mailbox", "update", "-u", mailbox.user, "--uid-validity", "4242", "INBOX")
    with mailbox.client() as c:
        c.select_folder("INBOX")
        c.remove_flags([1], [KEYWORD])

    poller = ImapPoller(store, mailbox.settings)
    try:
        report = poller.poll(NOW)
    finally:
        poller.close()
    assert report.rescanned and (report.fetched, report.stored) == (1, 0)


def test_idle_wakes_the_poller_when_a_message_arrives(store: Store, mailbox: Mailbox) -> None:
    stop = threading.Event()
    # No polling to speak of: only IDLE can bring the message in quickly.
    settings = mailbox.with_(poll_interval=300, idle_refresh=300)
    thread = running(store, settings, stop)
    try:
        time.sleep(0.5)  # let it settle into IDLE
        mailbox.append(reply(1))
        assert wait_until(lambda: len(stored(store)) == 1, timeout=10)
        assert wait_until(lambda: all(KEYWORD in f for f in mailbox.flags().values()))
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_without_idle_the_poller_polls(store: Store, mailbox: Mailbox) -> None:
    stop = threading.Event()
    thread = running(store, mailbox.with_(idle=False, poll_interval=0.2), stop)
    try:
        mailbox.append(reply(1))
        assert wait_until(lambda: len(stored(store)) == 1)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_the_poller_reconnects_after_the_server_restarts(store: Store, own_dovecot: DovecotServer,
                                                          tmp_path: Path) -> None:
    mailbox = Mailbox(own_dovecot, tmp_path)
    stop = threading.Event()
    thread = running(store, mailbox.with_(idle_refresh=300), stop)
    try:
        mailbox.append(reply(1))
        assert wait_until(lambda: len(stored(store)) == 1)
        own_dovecot.stop()
        time.sleep(1.0)  # a few failed reconnects with backoff
        own_dovecot.start()
        mailbox.append(reply(2))
        assert wait_until(lambda: len(stored(store)) == 2, timeout=15)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_xoauth2_logs_in_with_the_token_the_command_prints(store: Store, mailbox: Mailbox,
                                                           tmp_path: Path) -> None:
    mailbox.append(reply(1))
    script = tmp_path / "token.sh"
    script.write_text(f"#!/bin/sh\necho '{mailbox.server.token}'\n")
    script.chmod(0o755)
    settings = mailbox.with_(password="", oauth2_token_command=str(script))

    assert poll_once(store, settings, NOW) == 1
    assert f"user=<{mailbox.user}>, method=XOAUTH2" in mailbox.server.log()


def test_xoauth2_with_a_wrong_token_is_refused(store: Store, own_dovecot: DovecotServer,
                                               tmp_path: Path) -> None:
    # A server of its own: Dovecot slows down logins from an address after a failed one.
    mailbox = Mailbox(own_dovecot, tmp_path)
    settings = mailbox.with_(password="", oauth2_token_command="echo not-the-token")
    with pytest.raises(LoginError):
        poll_once(store, settings, NOW)


def test_starttls_with_the_servers_certificate(store: Store, mailbox: Mailbox) -> None:
    mailbox.append(reply(1))
    settings = mailbox.with_(security="starttls", ca_file=str(mailbox.server.cert))
    assert poll_once(store, settings, NOW) == 1
    assert f"user=<{mailbox.user}>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=" in mailbox.server.log()


def test_starttls_refuses_an_unknown_certificate_unless_told_not_to_verify(store: Store,
                                                                            mailbox: Mailbox) -> None:
    import ssl

    mailbox.append(reply(1))
    with pytest.raises(ssl.SSLCertVerificationError):
        poll_once(store, mailbox.with_(security="starttls"), NOW)
    assert poll_once(store, mailbox.with_(security="starttls", verify_tls=False), NOW) == 1


def test_implicit_tls(store: Store, mailbox: Mailbox) -> None:
    mailbox.append(reply(1))
    settings = mailbox.with_(security="tls", port=mailbox.server.tls_port, ca_file=str(mailbox.server.cert))
    assert poll_once(store, settings, NOW) == 1
