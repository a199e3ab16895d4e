"""Fixtures for the web edge: the app over a real store (SQLite and PostgreSQL), a settable clock, members."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from mailbot.campaigns import Survey
from mailbot.panel.settings import Settings, load_settings
from mailbot.store import Store
from mailbot.tokens import Keys
from mailbot.web import RateLimit, create_app
from tests.conftest import make_survey, oslo, write_panel
from tests.factories import create_member
from tests.web.server import serving

KEYS = Keys(("test-key-for-the-web-edge",))


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: oslo(2022, 12, 5, 12))

    def __call__(self) -> datetime:
        return self.now


def panel_settings(folder: Path) -> Settings:
    cfg = write_panel(folder)
    text = cfg.read_text("utf-8").replace('public_url = "http://127.0.0.1:8080"',
                                          'public_url = "http://127.0.0.1:8080"\npostcodes = ["1300-1369"]')
    cfg.write_text(text, "utf-8")
    return load_settings(cfg, load_env=False)


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    return panel_settings(tmp_path / "panel")


@pytest.fixture
def survey() -> Survey:
    return make_survey()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@dataclass
class Web:
    client: httpx.Client
    store: Store
    settings: Settings
    survey: Survey
    clock: Clock
    keys: Keys = KEYS

    def member(self, email: str = "kari.nordmann@example.no", **kw: object) -> int:
        with self.store.transaction() as s:
            return create_member(s, email, **kw).id  # type: ignore[arg-type]

    def answer_token(self, member_id: int, campaign_id: str | None = None) -> str:
        return self.keys.link_token("answer", {"m": member_id, "c": campaign_id or self.survey.id})

    def unsubscribe_token(self, member_id: int) -> str:
        return self.keys.link_token("unsubscribe", {"m": member_id})


@pytest.fixture
def web(store: Store, web_settings: Settings, survey: Survey, clock: Clock) -> Iterator[Web]:
    other = make_survey("klima-2019")
    app = create_app(web_settings, store, KEYS, [survey, other], clock=clock, rate_limit=RateLimit(0, 0))
    with serving(app) as url, httpx.Client(base_url=url, follow_redirects=False, timeout=30) as client:
        yield Web(client, store, web_settings, survey, clock)


GUARD = re.compile(r'name="guard" value="([^"]+)"')


def guard_of(html: str) -> str:
    m = GUARD.search(html)
    assert m, "the page has no form guard"
    return m.group(1)
