"""The read-back email's HTML passes axe-core (WCAG 2.1 A and AA) in headless Chromium, in every language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailbot.compose import Templates, notice_email
from mailbot.replies import read_back_context
from tests.compose import make
from tests.results.test_accessibility import ARTIFACTS, chromium, headless
from tests.results.test_email_accessibility import NOW, _survey, _violations

pytestmark = pytest.mark.chromium


def _html(lang: str) -> str:
    s = _survey()
    context = read_back_context(s, {"need": "Ja", "goods": ("Møbler", "Bøker"), "location": "Sandvika sentrum"},
                                ("goods",), {"satisfaction": "uklart"}, lang, "Europe/Oslo",
                                "https://panel.example.no/stemmer/tok")
    msg = notice_email("read-back", make.member(language=lang), context, make.sender(), make.panel(), Templates(),
                       NOW)
    return make.html(msg)


@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
def test_the_read_back_email_has_no_axe_violations(lang: str, tmp_path: Path) -> None:
    violations = _violations(_html(lang), tmp_path)
    assert violations == [], json.dumps(violations, indent=2, ensure_ascii=False)


def test_the_read_back_email_screenshot(tmp_path: Path) -> None:
    page = tmp_path / "read-back-email.html"
    page.write_text(_html("nb"), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "read-back-email-320.png"
    shot.unlink(missing_ok=True)
    headless(chromium(), "--window-size=320,1600", f"--screenshot={shot}", page.as_uri())
    assert shot.is_file() and shot.stat().st_size > 1000
