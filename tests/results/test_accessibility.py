"""The results report passes axe-core (WCAG 2.1 A and AA rules) in headless Chromium.

No browser driver: the report is copied with axe-core and a small script
appended, Chromium loads it with --dump-dom and a virtual-time budget (so the
asynchronous axe run finishes), and the script has written the violations
into the page as JSON. Screenshots at 320 px and 1280 px go to test-artifacts/.
Locally a missing Chromium or npm skips; in CI it fails (need_service).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mailbot.report.build import build_report
from mailbot.report.html import render_html
from mailbot.report.population import Population
from mailbot.store import Store
from tests.conftest import ROOT, make_survey, need_service
from tests.results.seed import NOW, seed
from tests.results.test_report import with_k

AXE_DIR = Path(__file__).parent / "axe"
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.chromium

RUN_AXE = """
<script>{axe}</script>
<script>
axe.run(document, {{runOnly: {{type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}}})
  .then(function (r) {{
    var out = document.createElement('pre'); out.id = 'axe-result';
    out.textContent = JSON.stringify(r.violations.map(function (v) {{
      return {{id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(function (n) {{ return n.html; }})}};
    }}));
    document.body.appendChild(out);
  }});
</script>
"""


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        need_service("Chromium", "install it with: apt-get install -y chromium")
    assert exe is not None
    return exe


def axe_source() -> str:
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            need_service("npm", "needed to install axe-core (tests/results/axe/package.json)")
        assert npm is not None
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=AXE_DIR, capture_output=True, text=True,
                              timeout=300)
        if done.returncode != 0 or not script.exists():
            need_service("axe-core from npm", done.stderr[-500:])
    return script.read_text(encoding="utf-8")


def headless(exe: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--hide-scrollbars", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def report_html(sqlite_store: Store, settings) -> str:  # type: ignore[no-untyped-def]
    survey = make_survey()
    population = Population(gender={"Kvinne": 3, "Mann": 1}, gender_tags={"kvinne": "Kvinne", "mann": "Mann"},
                            source="SSB (test)")
    with sqlite_store.transaction() as s:
        seed(s, survey)
        report = build_report(s, survey, with_k(settings, 3), population)
    return render_html(report, NOW.date())


def test_report_has_no_axe_violations(report_html: str, tmp_path: Path) -> None:
    exe = chromium()
    page = tmp_path / "report-axe.html"
    page.write_text(report_html.replace("</body>", RUN_AXE.format(axe=axe_source()) + "</body>"), encoding="utf-8")
    done = headless(exe, "--virtual-time-budget=20000", "--dump-dom", page.as_uri())
    found = re.search(r'<pre id="axe-result">(.*?)</pre>', done.stdout, re.S)
    assert found, f"axe did not run: {done.stderr[-1000:]}"
    violations = json.loads(found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    assert violations == [], json.dumps(violations, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("width", [320, 1280])
def test_report_screenshots(report_html: str, tmp_path: Path, width: int) -> None:
    exe = chromium()
    page = tmp_path / "report.html"
    page.write_text(report_html, encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"results-report-{width}.png"
    shot.unlink(missing_ok=True)
    done = headless(exe, f"--window-size={width},2400", f"--screenshot={shot}", page.as_uri())
    assert shot.exists() and shot.stat().st_size > 1000, done.stderr[-1000:]
