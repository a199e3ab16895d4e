"""End to end in headless Chromium: join -> confirm -> answer by click -> change answer -> unsubscribe.

Every page is checked with axe-core (WCAG 2.1 A and AA rules, zero violations),
at 320 px (no sideways scrolling, buttons at least 44 px high) and at 1280 px,
and screenshots of both go to test-artifacts/. The one-click answer is given
with the keyboard only. axe-core comes from npm into a cache folder at test
time (never committed); Chromium is the Debian package, never a download.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mailbot.people import MemberStatus
from mailbot.store import Store
from mailbot.store import responses as response_store
from mailbot.store.members import member_by_email
from mailbot.store.models import Outbox
from mailbot.web import RateLimit, create_app
from tests.conftest import ROOT, make_survey, need_service
from tests.web.conftest import KEYS, Clock, panel_settings
from tests.web.server import serving

pytestmark = [pytest.mark.chromium, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts"
AXE_CACHE = Path(os.environ.get("MAILBOT_AXE_DIR", Path.home() / ".cache" / "mailbot-tests" / "axe"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def axe_source() -> str:
    script = AXE_CACHE / "node_modules" / "axe-core" / "axe.min.js"
    if not script.is_file():
        npm = shutil.which("npm")
        if npm is None:
            need_service("npm", "needed to fetch axe-core")
        AXE_CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(AXE_CACHE),
                               "axe-core@4"], capture_output=True, text=True, timeout=300)
        if done.returncode != 0 or not script.is_file():
            need_service("axe-core from npm", done.stderr[-500:])
    return script.read_text("utf-8")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        need_service("Chromium and chromedriver", "apt-get install chromium chromium-driver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        need_service("selenium", "pip install selenium")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def wait_replaced(driver: Any, old: Any) -> None:
    """Wait until the page that `old` (its html element) belonged to has been replaced by the next one."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    def replaced(_: Any) -> bool:
        # Chromium reports the old page's element as stale, or (when the new page came quickly) as
        # "Node with given id does not belong to the document": both mean the page was replaced.
        try:
            old.is_enabled()
        except (StaleElementReferenceException, NoSuchElementException):
            return True
        return False

    WebDriverWait(driver, 15).until(replaced)


def click_and_wait(driver: Any, element: Any) -> None:
    """Click a submit button and wait until the next page has replaced this one."""
    old = driver.find_element("tag name", "html")
    element.click()
    wait_replaced(driver, old)


class Check:
    """Runs axe and the 320/1280 px checks on whatever page the browser shows."""

    def __init__(self, driver: Any, axe: str):
        self.driver = driver
        self.axe = axe
        self.pages: list[str] = []
        ARTIFACTS.mkdir(exist_ok=True)

    def page(self, name: str) -> None:
        d = self.driver
        assert d.execute_script("return document.documentElement.lang") in ("nb", "nn", "en")
        assert d.find_elements("css selector", "h1"), f"{name}: no heading"
        for width in (320, 1280):
            d.set_window_size(width, 900)
            violations = self.run_axe()
            assert violations == [], f"{name} at {width}px: " + json.dumps(violations, ensure_ascii=False, indent=1)
            d.save_screenshot(str(ARTIFACTS / f"{name}-{width}.png"))
            if width == 320:
                overflow = d.execute_script("return document.documentElement.scrollWidth")
                assert overflow <= 320, f"{name}: {overflow}px wide at 320px"
                heights = d.execute_script(
                    "return Array.from(document.querySelectorAll('button')).map(b => b.getBoundingClientRect().height)")
                assert all(h >= 44 for h in heights), f"{name}: buttons {heights}"
        self.pages.append(name)

    def run_axe(self) -> list[dict[str, Any]]:
        self.driver.execute_script(self.axe)
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
            ".then(r => done(r.violations.map(v => ({id: v.id, help: v.help,"
            " nodes: v.nodes.map(n => n.target.join(' '))}))))"
            ".catch(e => done([{id: 'axe-error', help: String(e)}]));", AXE_TAGS)
        return list(result)


def test_join_confirm_answer_change_and_unsubscribe_in_a_real_browser(browser: Any, axe_source: str,
                                                                       tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    settings = panel_settings(tmp_path / "panel")
    store = Store(f"sqlite:///{tmp_path / 'browser.sqlite3'}")
    store.upgrade()
    survey = make_survey()
    clock = Clock()
    app = create_app(settings, store, KEYS, [survey], clock=clock, rate_limit=RateLimit(0, 0))
    check = Check(browser, axe_source)
    d = browser
    with serving(app) as base:
        d.get(f"{base}/")
        check.page("home")
        d.get(f"{base}/bli-med")
        check.page("join")
        d.find_element(By.ID, "consent").click()
        d.find_element(By.ID, "email").send_keys("Ny.Beboer@example.no")
        d.find_element(By.ID, "birth_year").send_keys("2016")  # too young: the form says so
        d.find_element(By.ID, "postcode").send_keys("1338")
        click_and_wait(d, d.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        assert "over 15" in d.page_source
        check.page("join-errors")
        year = d.find_element(By.ID, "birth_year")
        year.clear()
        year.send_keys("1985")
        d.find_element(By.ID, "consent").click()
        click_and_wait(d, d.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        check.page("join-sent")

        with store.transaction() as s:
            payload = json.loads(s.scalars(select(Outbox.payload)).one())
        confirm = re.sub(r"^https?://[^/]+", base, payload["context"]["confirm_url"])
        d.get(confirm)
        check.page("join-confirm")
        click_and_wait(d, d.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        assert d.find_element(By.TAG_NAME, "h1").text.startswith("Velkommen")
        check.page("joined")
        with store.transaction() as s:
            member = member_by_email(s, "ny.beboer@example.no")
        assert member is not None and member.status == MemberStatus.ACTIVE

        token = KEYS.link_token("answer", {"m": member.id, "c": survey.id})
        d.get(f"{base}/svar/{token}/need/Ja")
        check.page("answer-one-click")
        # Keyboard only: Tab until the button has focus, then Enter.
        body = d.find_element(By.TAG_NAME, "body")
        for _ in range(12):
            body = d.switch_to.active_element
            body.send_keys(Keys.TAB)
            active = d.switch_to.active_element
            if active.tag_name == "button":
                outline = d.execute_script("return getComputedStyle(arguments[0]).outlineStyle", active)
                assert outline != "none", "focus is not visible"
                old = d.find_element(By.TAG_NAME, "html")
                active.send_keys(Keys.ENTER)
                wait_replaced(d, old)
                break
        else:
            pytest.fail("the answer button cannot be reached with Tab")
        assert "Takk for svaret" in d.page_source
        check.page("answered")
        with store.transaction() as s:
            assert response_store.answers_of(s, survey, member.id) == {"need": "Ja"}

        d.get(f"{base}/svar/{token}/need/Nei")
        click_and_wait(d, d.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        with store.transaction() as s:
            assert response_store.answers_of(s, survey, member.id) == {"need": "Nei"}

        d.get(f"{base}/svar/{token}")
        check.page("survey-form")
        d.find_element(By.ID, "q-satisfaction-4").click()
        d.find_element(By.ID, "q-location").send_keys("Sandvika")
        click_and_wait(d, d.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
        with store.transaction() as s:
            assert response_store.answers_of(s, survey, member.id)["satisfaction"] == 4

        profile = KEYS.link_token("profile", {"m": member.id})
        d.get(f"{base}/profil/{profile}")
        check.page("profile")

        unsubscribe = KEYS.link_token("unsubscribe", {"m": member.id})
        d.get(f"{base}/avmeld/{unsubscribe}")
        check.page("unsubscribe")
        click_and_wait(d, d.find_element(By.CSS_SELECTOR, "button.big"))
        check.page("unsubscribed")
        with store.transaction() as s:
            left = member_by_email(s, "ny.beboer@example.no")
        assert left is not None and left.status == MemberStatus.UNSUBSCRIBED

        for name, path in (("bad-link", f"/svar/{token[:-4]}abcd/need/Ja"), ("not-found", "/finnes-ikke"),
                           ("export", f"/innsyn/{KEYS.link_token('export', {'m': member.id})}"),
                           ("erase", f"/slett/{KEYS.link_token('erase', {'m': member.id})}")):
            d.get(base + path)
            check.page(name)
        clock.now = survey.closes
        d.get(f"{base}/svar/{token}/need/Ja")
        check.page("closed")
        clock.now = survey.closes + (survey.closes - survey.opens)
        d.get(f"{base}/svar/{token}/need/Ja")
        check.page("expired")
    store.dispose()
    assert len(check.pages) >= 18
