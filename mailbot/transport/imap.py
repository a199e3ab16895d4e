"""The IMAP poller: the bot's mailbox is read, each message stored raw, then marked.

The order is the whole point. A batch of messages is fetched with
`BODY.PEEK[]` (which leaves `\\Seen` alone), stored with `store_raw` and
committed; only then is each message moved to `processed_folder`, or flagged
`\\Seen` plus our own keyword. A crash between the two leaves the messages
unmarked on the server and stored in the database: the next poll fetches them
again and `store_raw`'s digest turns the second copy into a no-op, so nothing
is lost and nothing is read twice.

Where to resume is kept per mailbox as (UIDVALIDITY, last UID) in a small
JSON file. If the server's UIDVALIDITY changes, the UIDs mean something else
now: the folder is scanned again from the start (the digest again makes the
re-read harmless). Between polls the poller IDLEs when the server offers it
and sleeps otherwise; a lost connection is reopened with exponential backoff.

Errors of this edge:

    ImapError
    └── TokenCommandError   the configured OAuth2 token command failed or printed nothing
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses
from pathlib import Path
from typing import Literal

from imapclient import IMAPClient
from imapclient.imapclient import DELETED, SEEN

from mailbot.store import Store, utcnow
from mailbot.store.inbound import store_raw

log = logging.getLogger("mailbot.imap")

Security = Literal["tls", "starttls", "none"]


class ImapError(Exception):
    """Something about the mailbox connection that a retry may or may not fix."""


class TokenCommandError(ImapError):
    """The OAuth2 token command exited with an error, timed out, or printed no token."""


@dataclass(frozen=True)
class ImapSettings:
    """How to reach and read the bot's mailbox. Give `password` or `oauth2_token_command`, not both."""

    host: str
    port: int = 993
    security: Security = "tls"
    username: str = ""
    password: str = ""
    oauth2_token_command: str = ""  # run by /bin/sh; its stdout is the access token (XOAUTH2)
    folder: str = "INBOX"
    processed_folder: str | None = None  # move here after commit; None: flag \Seen + `keyword`
    batch: int = 50  # messages per FETCH and per database transaction
    idle: bool = True
    verify_tls: bool = True
    ca_file: str | None = None  # extra CA bundle, for a server with a private certificate
    state_path: str | None = None  # JSON file with (UIDVALIDITY, last UID); None keeps it in memory
    keyword: str = "$MailbotStored"
    poll_interval: float = 60.0  # seconds between polls when the server has no IDLE
    idle_refresh: float = 600.0  # re-issue IDLE (and poll) at least this often; RFC 2177 says < 29 min
    reconnect_min: float = 1.0
    reconnect_max: float = 300.0
    timeout: float = 60.0
    batch_bytes: int = 64 * 1024 * 1024  # a batch also stops at this many bytes
    token_timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.security not in ("tls", "starttls", "none"):
            raise ValueError(f'security must be "tls", "starttls" or "none", not {self.security!r}')
        if self.password and self.oauth2_token_command:
            raise ValueError("give a password or an oauth2_token_command, not both")
        if self.batch < 1:
            raise ValueError("batch must be at least 1")
        if self.processed_folder is not None and self.processed_folder == self.folder:
            raise ValueError("processed_folder must differ from folder")

    @property
    def mailbox_key(self) -> str:
        return f"{self.username}@{self.host}:{self.port}/{self.folder}"


@dataclass
class PollReport:
    fetched: int = 0  # messages fetched from the server
    stored: int = 0  # of those, new to the database
    marked: int = 0  # moved or flagged after the commit
    batches: int = 0  # FETCH round trips for message bodies
    rescanned: bool = False  # UIDVALIDITY changed since the last poll


# ---- pure helpers


def envelope_recipients(raw: bytes) -> list[str]:
    """Who the message was delivered to: Delivered-To, else X-Original-To, else To and Cc."""
    headers = _headers(raw)
    for name in ("Delivered-To", "X-Original-To"):
        found = [a for _, a in getaddresses(headers.get_all(name, [])) if a]
        if found:
            return _unique(found)
    return _unique(a for _, a in getaddresses(headers.get_all("To", []) + headers.get_all("Cc", [])) if a)


def envelope_sender(raw: bytes) -> str | None:
    path = _headers(raw).get("Return-Path")
    if path is None:
        return None
    return str(path).strip().strip("<>").strip() or None


def batches(uids: Sequence[int], sizes: dict[int, int], count: int, max_bytes: int) -> list[list[int]]:
    """Split UIDs into runs of at most `count` messages and `max_bytes` bytes (at least one each)."""
    out: list[list[int]] = []
    current: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if current and (len(current) >= count or total + size > max_bytes):
            out.append(current)
            current, total = [], 0
        current.append(uid)
        total += size
    if current:
        out.append(current)
    return out


def _headers(raw: bytes) -> Message:
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        end = raw.find(b"\n\n")
    head = raw if end < 0 else raw[: end + 2]
    # compat32 and headers only: this runs for every message, the full parse happens later.
    return BytesHeaderParser(policy=compat32).parsebytes(head)


def _unique(addresses: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for a in addresses:
        seen.setdefault(a.lower(), a)
    return list(seen.values())


# ---- the token command and the resume state


def access_token(command: str, timeout: float = 30.0) -> str:
    """Run the operator's token command; its standard output, stripped, is the OAuth2 access token."""
    try:
        done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise TokenCommandError(f"the token command did not finish within {timeout:g} s") from None
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip()[-300:]
        raise TokenCommandError(f"the token command exited with {done.returncode}: {err}")
    token = done.stdout.decode(errors="replace").strip()
    if not token or any(c.isspace() for c in token):
        raise TokenCommandError("the token command must print the access token alone on standard output")
    return token


@dataclass(frozen=True)
class Resume:
    uidvalidity: int | None = None
    last_uid: int = 0


class ResumeFile:
    """(UIDVALIDITY, last UID) per mailbox, in a JSON file replaced atomically; in memory if no path."""

    def __init__(self, path: str | None):
        self.path = Path(path) if path else None
        self._memory: dict[str, dict[str, int]] = {}

    def _read(self) -> dict[str, dict[str, int]]:
        if self.path is None:
            return self._memory
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            # A damaged file only costs a re-scan: the digest dedupes what is fetched again.
            log.warning("IMAP state file %s unreadable (%s); scanning the folder again", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> Resume:
        entry = self._read().get(key) or {}
        try:
            return Resume(entry.get("uidvalidity"), int(entry.get("last_uid", 0)))
        except (TypeError, ValueError):
            return Resume()

    def put(self, key: str, resume: Resume) -> None:
        data = dict(self._read())
        data[key] = {"uidvalidity": resume.uidvalidity or 0, "last_uid": resume.last_uid}
        if self.path is None:
            self._memory = data
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


# ---- the poller


class ImapPoller:
    """One connection to one folder. `poll` stores what is new; `run` polls until stopped."""

    def __init__(self, store: Store, settings: ImapSettings, *, clock: Callable[[], datetime] = utcnow):
        self.store = store
        self.settings = settings
        self.clock = clock
        self.resume = ResumeFile(settings.state_path)
        self.client: IMAPClient | None = None

    # connection

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.settings.ca_file)
        if not self.settings.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def connect(self) -> IMAPClient:
        s = self.settings
        if self.client is not None:
            return self.client
        implicit = s.security == "tls"
        client = IMAPClient(s.host, s.port, ssl=implicit, timeout=s.timeout,
                            ssl_context=self.tls_context() if implicit else None)
        try:
            if s.security == "starttls":
                client.starttls(self.tls_context())
            if s.oauth2_token_command:
                # A fresh token per connection: access tokens live about an hour.
                client.oauth2_login(s.username, access_token(s.oauth2_token_command, s.token_timeout))
            else:
                client.login(s.username, s.password)
            if s.processed_folder and not client.folder_exists(s.processed_folder):
                client.create_folder(s.processed_folder)
        except BaseException:
            _shut(client)
            raise
        self.client = client
        return client

    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:
                client.logout()
            except Exception:
                _shut(client)

    # one poll

    def poll(self, now: datetime | None = None) -> PollReport:
        """Fetch what is new in the folder, store it (committed), then mark it on the server."""
        s = self.settings
        now = now or self.clock()
        client = self.connect()
        report = PollReport()
        selected = client.select_folder(s.folder)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        resume = self.resume.get(s.mailbox_key)
        last_uid = resume.last_uid
        if resume.uidvalidity != uidvalidity:
            if resume.uidvalidity is not None:
                log.warning("UIDVALIDITY of %s changed (%s -> %s): scanning it again", s.folder,
                            resume.uidvalidity, uidvalidity)
                report.rescanned = True
            last_uid = 0
            self.resume.put(s.mailbox_key, Resume(uidvalidity, 0))

        criteria: list[str | bytes] = ["UID", f"{last_uid + 1}:*", "NOT", "DELETED"]
        if s.processed_folder is None:
            criteria += ["UNKEYWORD", s.keyword]
        # "n:*" always matches the highest UID, even below n: filter.
        uids = sorted(u for u in client.search(criteria) if u > last_uid)
        if not uids:
            return report
        sizes = {uid: int(d.get(b"RFC822.SIZE", 0)) for uid, d in client.fetch(uids, ["RFC822.SIZE"]).items()}
        for group in batches(uids, sizes, s.batch, s.batch_bytes):
            fetched = client.fetch(group, ["BODY.PEEK[]"])
            report.batches += 1
            messages = [(uid, bytes(fetched[uid][b"BODY[]"])) for uid in group
                        if uid in fetched and fetched[uid].get(b"BODY[]") is not None]
            report.fetched += len(messages)
            report.stored += self.store_batch([raw for _, raw in messages], now)
            # Committed: only now may the server forget that these are unread.
            if messages:
                self.mark(client, [uid for uid, _ in messages])
                report.marked += len(messages)
            self.resume.put(s.mailbox_key, Resume(uidvalidity, max(group)))
        return report

    def store_batch(self, messages: Sequence[bytes], now: datetime) -> int:
        """Store raw messages in one transaction, committed on return; the count of new ones."""
        new = 0
        with self.store.transaction() as session:
            for raw in messages:
                if store_raw(session, raw, via="imap", now=now, envelope_from=envelope_sender(raw),
                             envelope_to=envelope_recipients(raw)) is not None:
                    new += 1
        return new

    def mark(self, client: IMAPClient, uids: Sequence[int]) -> None:
        """Move the stored messages to `processed_folder`, or flag them \\Seen and our keyword."""
        s = self.settings
        if s.processed_folder is None:
            client.add_flags(uids, [SEEN, s.keyword.encode()], silent=True)
        elif client.has_capability("MOVE"):
            client.move(uids, s.processed_folder)
        else:
            client.copy(uids, s.processed_folder)
            client.add_flags(uids, [DELETED], silent=True)
            if client.has_capability("UIDPLUS"):
                client.uid_expunge(uids)
            else:
                client.expunge()

    # waiting and the loop

    def wait_for_mail(self, stop: threading.Event) -> None:
        """Return when the folder may have new mail, `idle_refresh` has passed, or `stop` is set."""
        s = self.settings
        client = self.client
        if client is None or not (s.idle and client.has_capability("IDLE")):
            stop.wait(s.poll_interval)
            return
        client.idle()
        try:
            deadline = time.monotonic() + s.idle_refresh
            while not stop.is_set() and time.monotonic() < deadline:
                # Short checks so that `stop` is noticed within a second.
                responses = client.idle_check(timeout=1.0)
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    return
                if any(r and r[0] == b"BYE" for r in responses):
                    raise ImapError("the server closed the connection during IDLE")
        finally:
            if self.client is not None:
                client.idle_done()

    def run(self, stop: threading.Event) -> None:
        """Poll and wait until `stop` is set; every failure closes the connection and backs off."""
        delay = self.settings.reconnect_min
        try:
            while not stop.is_set():
                try:
                    report = self.poll(self.clock())
                    if report.fetched:
                        log.info("IMAP %s: %d fetched, %d new", self.settings.folder, report.fetched,
                                 report.stored)
                    delay = self.settings.reconnect_min
                    self.wait_for_mail(stop)
                except Exception as exc:  # the loop never dies: close, wait, reconnect
                    log.warning("IMAP %s@%s: %s: %s; reconnecting in %.1f s", self.settings.username,
                                self.settings.host, type(exc).__name__, exc, delay)
                    self.close()
                    stop.wait(delay)
                    delay = min(delay * 2, self.settings.reconnect_max)
        finally:
            self.close()


def _shut(client: IMAPClient) -> None:
    with contextlib.suppress(Exception):
        client.shutdown()


def poll_once(store: Store, settings: ImapSettings, now: datetime) -> int:
    """Connect, store what is new (committed before marking), disconnect; the count of new messages."""
    poller = ImapPoller(store, settings)
    try:
        return poller.poll(now).stored
    finally:
        poller.close()


def run_forever(store: Store, settings: ImapSettings, stop_event: threading.Event,
                clock: Callable[[], datetime] = utcnow) -> None:
    """Poll (IDLE between polls) until `stop_event` is set. Blocking: the daemon runs it in a thread."""
    ImapPoller(store, settings, clock=clock).run(stop_event)
