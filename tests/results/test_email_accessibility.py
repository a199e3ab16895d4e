"""The HTML emails residents get pass axe-core (WCAG 2.1 A and AA) in headless Chromium, in every language.

The same check as the report's (tests/results/test_accessibility.py): the
email's HTML part, as composed for sending, with axe-core appended. Screenshots
of the results email at 320 px and 1280 px go to test-artifacts/.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailbot.compose import Templates, results_email, survey_email
from tests.compose import make
from tests.results.test_accessibility import ARTIFACTS, RUN_AXE, axe_source, chromium, headless

pytestmark = pytest.mark.chromium

NOW = datetime(2022, 12, 16, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))


def _survey():  # type: ignore[no-untyped-def]
    return make.survey(
        make.choice("need", 1, "Er det behov for en ombruksbutikk i Bærum?", "Ja", "Nei", "Vet ikke"),
        make.multi("goods", 2, "Hvilke varer bør butikken selge?", "Møbler", "Klær", "Bøker"),
        make.scale("satisfaction", 3, "Hvor fornøyd er du med dagens tilbud?", 1, 5, "svært misfornøyd",
                   "svært fornøyd"),
        make.text("location", 4, "Hvor i Bærum bør butikken ligge?"),
    )


def _html(kind: str, lang: str) -> str:
    s = _survey()
    who = make.member(language=lang)
    if kind == "results":
        msg = results_email(s, make.results(s), who, make.links(s), make.sender(), make.panel(), Templates(), NOW)
    else:
        msg = survey_email(s, "invitation", who, make.links(s), make.sender(), make.panel(), Templates(), NOW)
    return make.html(msg)


def _violations(page_html: str, tmp_path: Path) -> list[dict[str, object]]:
    page = tmp_path / "email-axe.html"
    page.write_text(page_html.replace("</body>", RUN_AXE.format(axe=axe_source()) + "</body>"), encoding="utf-8")
    done = headless(chromium(), "--virtual-time-budget=20000", "--dump-dom", page.as_uri())
    found = re.search(r'<pre id="axe-result">(.*?)</pre>', done.stdout, re.S)
    assert found, f"axe did not run: {done.stderr[-1000:]}"
    return list(json.loads(found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")))


@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
@pytest.mark.parametrize("kind", ["invitation", "results"])
def test_emails_have_no_axe_violations(kind: str, lang: str, tmp_path: Path) -> None:
    violations = _violations(_html(kind, lang), tmp_path)
    assert violations == [], json.dumps(violations, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("width", [320, 1280])
def test_results_email_screenshots(width: int, tmp_path: Path) -> None:
    page = tmp_path / "results-email.html"
    page.write_text(_html("results", "nb"), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"results-email-{width}.png"
    shot.unlink(missing_ok=True)
    done = headless(chromium(), f"--window-size={width},2400", f"--screenshot={shot}", page.as_uri())
    assert shot.exists() and shot.stat().st_size > 1000, done.stderr[-1000:]
