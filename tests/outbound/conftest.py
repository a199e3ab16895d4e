"""Fixtures for outbound tests: a fake relay on loopback, a panel that sends to it, factories.

`relay` is a real aiosmtpd server (tests/outbound/mta.py) that can refuse per
recipient, at random, or wholesale. `panel` is a Bot on the `store` fixture
(SQLite and PostgreSQL) with the reuse-shop survey; `queue_invitations` puts
N members and their invitations in the outbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailbot.bot import Bot
from mailbot.panel.settings import load_settings
from mailbot.store import Store
from mailbot.store import members as member_store
from mailbot.store import outbox as outbox_store
from mailbot.tokens import Keys
from mailbot.transport.smtp import SmtpSender, SmtpSettings
from tests.conftest import make_survey, write_panel
from tests.outbound.mta import Relay, RelayHandler

NOW = datetime(2022, 12, 1, 10, 0, tzinfo=UTC)  # 11:00 in Oslo, a Thursday


@dataclass(frozen=True)
class Row:
    email: str
    name: str | None = None
    language: str | None = "nb"
    birth_year: int | None = 1960
    postcode: str | None = "1338"
    tags: tuple[str, ...] = ()


def address(i: int) -> str:
    return f"beboer{i}@example.no"


@pytest.fixture
def relay() -> Iterator[Relay]:
    with Relay(RelayHandler()) as r:
        yield r


def write_config(folder: Path, port: int, extra: str = "") -> Path:
    cfg = write_panel(folder, port)
    text = cfg.read_text(encoding="utf-8").replace('kind = "local"', 'kind = "smtp"')
    cfg.write_text(text + extra, encoding="utf-8")
    return cfg


def make_bot(tmp_path: Path, store: Store, port: int, extra: str = "") -> Bot:
    settings = load_settings(write_config(tmp_path / "panel", port, extra), load_env=False)
    return Bot(settings, campaigns=[make_survey()], store=store, keys=Keys(("test-key",)))


@pytest.fixture
def panel(tmp_path: Path, store: Store, relay: Relay) -> Bot:
    return make_bot(tmp_path, store, relay.port)


def sender(relay: Relay, **kw: object) -> SmtpSender:
    return SmtpSender(SmtpSettings("127.0.0.1", relay.port, **kw))  # type: ignore[arg-type]


def queue_invitations(store: Store, n: int, *, step: str = "invitation", campaign: str = "ombruk-2022",
                      when: datetime = NOW, start: int = 0) -> list[int]:
    with store.transaction() as s:
        member_store.upsert_members(s, [Row(address(i), f"Beboer {i}") for i in range(start, start + n)], when)
        ids = [m.id for m in member_store.list_members(s)][start:start + n]
        outbox_store.queue(s, campaign, step, ids, when)
    return ids
