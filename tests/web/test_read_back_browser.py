"""The read-back page in headless Chromium: axe-core (WCAG 2.1 AA), 320 px and 1280 px, keyboard only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mailbot.replies import READ_BACK_LINK
from mailbot.store import Store
from mailbot.store import read_backs as read_back_store
from mailbot.store import responses as response_store
from mailbot.store.models import Inbound
from mailbot.web import RateLimit, create_app
from tests.conftest import make_survey, oslo
from tests.factories import create_member
from tests.web.conftest import KEYS, Clock, panel_settings
from tests.web.server import serving
from tests.web.test_browser import Check, axe_source, browser, wait_replaced  # noqa: F401 - fixtures

pytestmark = [pytest.mark.chromium, pytest.mark.slow]


def test_the_read_back_page_is_accessible_and_confirms_by_keyboard(browser: Any, axe_source: str,  # noqa: F811
                                                                   tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    settings = panel_settings(tmp_path / "panel")
    store = Store(f"sqlite:///{tmp_path / 'browser.sqlite3'}")
    store.upgrade()
    survey = make_survey()
    with store.transaction() as s:
        m = create_member(s, language="nn").id
        inbound = Inbound(received_at=oslo(2022, 12, 2, 10), via="smtp", digest="d", status="done")
        s.add(inbound)
        s.flush()
        rid = read_back_store.add(s, survey, m, inbound.id, {"need": "Ja", "goods": ("Møbler", "Bøker"),
                                                              "location": "Sandvika sentrum"}, ("goods",),
                                  {"satisfaction": "uklart"}, oslo(2022, 12, 2, 10), after_step="invitation")
    token = KEYS.link_token(READ_BACK_LINK, {"m": m, "r": rid})
    app = create_app(settings, store, KEYS, [survey], clock=Clock(), rate_limit=RateLimit(0, 0))
    check = Check(browser, axe_source)
    d = browser
    with serving(app) as base:
        d.get(f"{base}/stemmer/{token}")
        assert d.find_element(By.TAG_NAME, "h1").text == "Stemmer det?"
        check.page("read-back")
        button = d.find_element(By.CSS_SELECTOR, "button[type=submit]")
        assert button.text == "Ja, det stemmer"
        button.send_keys(Keys.NULL)  # focus the button, as Tab would, then press Enter
        old = d.find_element(By.TAG_NAME, "html")
        d.switch_to.active_element.send_keys(Keys.ENTER)
        wait_replaced(d, old)
        check.page("read-back-done")
        d.get(f"{base}/stemmer/{token}")
        check.page("read-back-recorded")
    with store.transaction() as s:
        assert response_store.answers_of(s, survey, m) == {"need": "Ja", "goods": ("Møbler", "Bøker"),
                                                             "location": "Sandvika sentrum"}
    store.dispose()
