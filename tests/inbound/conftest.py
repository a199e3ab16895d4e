"""A panel with three residents, an in-memory outgoing transport, and raw messages to push in.

Inbound tests store raw bytes with `store_raw` (as every receiving edge does)
and run `Bot.read_inbound`; what the bot would send is composed for real by
`Bot.send_due` into `Outgoing`, the transport's in-memory twin.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mailbot import replies
from mailbot.bot import Bot
from mailbot.campaigns import Survey
from mailbot.panel.settings import load_settings
from mailbot.reading import Reading
from mailbot.replies import InboundReport
from mailbot.sending import SendReport
from mailbot.store import Store
from mailbot.store import inbound as inbound_store
from mailbot.store import members as member_store
from mailbot.store import responses as response_store
from mailbot.store.members import MemberRecord
from mailbot.store.models import Inbound, Outbox
from mailbot.tokens import Keys
from tests.conftest import make_survey, oslo, write_panel
from tests.factories import Row

KARI, OLE, ASTRID = "kari@example.no", "ole@example.no", "astrid@example.no"
PANEL_ADDRESS = "innbyggerpanel@baerum.example.no"
OPENS = oslo(2022, 12, 1, 9)




@dataclass
class Outgoing:
    """The transport's in-memory twin: keeps every email the bot hands over."""

    sent: list[tuple[str, str, EmailMessage]] = field(default_factory=list)

    def send(self, message: bytes, envelope_from: str, recipient: str) -> str:
        parsed = message_from_bytes(message, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.sent.append((recipient, envelope_from, parsed))
        return "250 2.0.0 OK"

    def close(self) -> None:
        pass

    def to(self, address: str) -> list[EmailMessage]:
        return [m for r, _, m in self.sent if r == address]

    def envelope_from(self, address: str) -> str:
        return next(f for r, f, _ in self.sent if r == address)


@dataclass(frozen=True)
class Queued:
    campaign_id: str
    step: str
    member_id: int | None
    status: str
    payload: dict[str, Any]


@dataclass
class Panel:
    bot: Bot
    out: Outgoing
    survey: Survey

    def member(self, address: str) -> MemberRecord:
        with self.bot.store.transaction() as s:
            m = member_store.member_by_email(s, address)
        assert m is not None
        return m

    def member_by_id(self, member_id: int) -> MemberRecord:
        with self.bot.store.transaction() as s:
            m = member_store.get_member(s, member_id)
        assert m is not None
        return m

    def answers(self, address: str) -> dict[str, Any]:
        member_id = self.member(address).id
        with self.bot.store.transaction() as s:
            return dict(response_store.answers_of(s, self.survey, member_id))

    def invite(self, when: datetime = OPENS) -> None:
        self.bot.tick(when, self.out)

    def invitation(self, address: str) -> EmailMessage:
        return self.out.to(address)[0]

    def deliver(self, raw: bytes, when: datetime, *, envelope_to: Sequence[str] = (),
                envelope_from: str | None = None) -> int:
        with self.bot.store.transaction() as s:
            inbound_id = inbound_store.store_raw(s, raw, via="smtp", now=when, envelope_from=envelope_from,
                                                 envelope_to=envelope_to)
        assert inbound_id is not None
        return inbound_id

    def read(self, when: datetime) -> InboundReport:
        return self.bot.read_inbound(when)

    def push(self, raw: bytes, when: datetime, **kw: Any) -> Inbound:
        """Store a raw message, read everything new, and return the message's row."""
        inbound_id = self.deliver(raw, when, **kw)
        self.read(when)
        return self.inbound(inbound_id)

    def inbound(self, inbound_id: int) -> Inbound:
        with self.bot.store.transaction() as s:
            row = s.get(Inbound, inbound_id)
            assert row is not None
            s.expunge(row)
        return row

    def answers_queued(self) -> list[Queued]:
        """Every email queued that is not a campaign step (receipts, notices, membership mail)."""
        with self.bot.store.transaction() as s:
            rows = s.scalars(select(Outbox).where(Outbox.step.like("receipt-%") | Outbox.step.like("notice-%"))
                             .order_by(Outbox.id)).all()
            return [Queued(r.campaign_id, r.step, r.member_id, r.status, json.loads(r.payload or "{}"))
                    for r in rows]

    def send(self, when: datetime) -> SendReport:
        return self.bot.send_due(self.out, when)


def make_panel(tmp_path: Path, store: Store, extra_config: str = "", survey: Survey | None = None) -> Panel:
    config = write_panel(tmp_path / "panel")
    if extra_config:
        config.write_text(config.read_text(encoding="utf-8") + "\n" + extra_config, encoding="utf-8")
    settings = load_settings(config, load_env=False)
    survey = survey or make_survey()
    bot = Bot(settings, campaigns=[survey], store=store, keys=Keys(("test-key",)))
    with store.transaction() as s:
        member_store.upsert_members(s, [Row(KARI, "Kari Nordmann"), Row(OLE, "Ole Hansen", "nn"),
                                        Row(ASTRID, "Astrid Løvås", "en")], oslo(2022, 11, 1))
    return Panel(bot, Outgoing(), survey)


@pytest.fixture
def panel(tmp_path: Path, store: Store) -> Iterator[Panel]:
    """The reuse-shop survey, invitations sent on 1 December 2022 at 09:00."""
    p = make_panel(tmp_path, store)
    p.invite()
    yield p


def reply(to: EmailMessage, sender: str, text: str, *, subject: str | None = None, quote: bool = True,
          headers: dict[str, str] | None = None, to_address: str | None = None, thread: bool = True) -> bytes:
    """A resident's reply to `to` as a mail client writes it, quote and all."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to_address or str(to["Reply-To"])
    msg["Subject"] = subject if subject is not None else "SV: " + str(to["Subject"])
    msg["Date"] = format_datetime(OPENS)
    msg["Message-ID"] = make_msgid(domain="example.no")
    if thread:
        msg["In-Reply-To"] = str(to["Message-ID"])
    for name, value in (headers or {}).items():
        msg[name] = value
    body = text
    if quote:
        quoted = "\n".join("> " + line for line in to.get_body(("plain",)).get_content().splitlines())
        body += f"\n\nDen 1. des. 2022 kl. 09:00 skrev Innbyggerpanelet <{PANEL_ADDRESS}>:\n{quoted}\n"
    msg.set_content(body)
    return msg.as_bytes()


def plain(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


UNSURE_HEADER = "X-Test-Unsure"


@pytest.fixture
def unsure(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], dict[str, str]]:
    """The real reader, told which answers it was not sure of: a reply carrying `X-Test-Unsure: goods,need`
    is read as usual and those answers are marked for confirmation (a read-back); in any other reply
    every answer read counts as sure.

    The reader decides confidence for itself and is being rewritten; these tests are about what the
    bot does with a reading it is unsure of, so they say which answers that is. Returns the header.
    """
    real = replies.read_message

    def reading(raw: bytes, survey: Any = None, own: Any = ()) -> Reading:
        read = real(raw, survey, own)
        wanted = message_from_bytes(raw[:64 * 1024], policy=policy.compat32).get(UNSURE_HEADER)
        if not wanted:
            return dataclasses.replace(read, confirm=())
        confirm = tuple(q for q in str(wanted).split(",") if q.strip() and q.strip() in read.answers)
        return dataclasses.replace(read, confirm=confirm)

    monkeypatch.setattr(replies, "read_message", reading)
    return lambda qids: {UNSURE_HEADER: qids}


@pytest.fixture
def reads_as(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Make the next replies read as the `Reading` given (for routing the reader does not produce yet)."""
    def set_reading(**fields: Any) -> None:
        monkeypatch.setattr(replies, "read_message", lambda raw, survey=None, own=(): Reading(**fields))
    return set_reading
