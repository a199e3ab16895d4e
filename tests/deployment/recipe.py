"""The recipe in docs/operations.md, read back as the deployment test uses it.

The test takes its Postfix configuration and the bot's command line from the
guide itself, so the guide cannot drift from what was proven: a block that is
missing or changed shape fails the test with the heading it looked under.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.conftest import ROOT

GUIDE = ROOT / "docs" / "operations.md"
DOC_REPLY_DOMAIN = "svar.baerum.kommune.no"
DOC_MUNICIPALITY = "baerum.kommune.no"


def section(heading: str, text: str | None = None) -> str:
    """The text under a `###` (or `##`) heading, up to the next heading of that level or above
    (a `#` line inside a code block is a comment, not a heading)."""
    text = GUIDE.read_text("utf-8") if text is None else text
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    level = 0
    in_code = False
    for line in lines:
        if line.startswith("```"):
            in_code = not in_code
        m = None if in_code else re.match(r"(#+) (.*?)\s*$", line)
        if level == 0:
            if m and m.group(2) == heading:
                level = len(m.group(1))
            continue
        if m and len(m.group(1)) <= level and not line.startswith("```"):
            break
        out.append(line)
    assert level, f"docs/operations.md has no heading {heading!r}"
    return "".join(out)


def blocks(heading: str) -> list[str]:
    """The fenced code blocks under a heading, in order."""
    return re.findall(r"(?ms)^```[a-z]*\n(.*?)^```", section(heading))


def block_for(heading: str, first_line: str) -> str:
    """The code block under `heading` whose first line starts with `first_line` (e.g. "# /etc/postfix/main.cf")."""
    found = [b for b in blocks(heading) if b.startswith(first_line)]
    assert found, f"docs/operations.md, {heading!r}: no block starting {first_line!r}"
    return found[0]


def settings(block: str) -> dict[str, str]:
    """`name = value` lines of a main.cf block (comments dropped)."""
    out = {}
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" in line:
            name, value = (p.strip() for p in line.split("=", 1))
            out[name] = value
    return out


def table(block: str) -> list[tuple[str, str]]:
    """`key value` lines of a Postfix lookup table block."""
    rows = []
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            key, value = line.split(None, 1)
            rows.append((key, value.strip()))
    return rows


def unit_exec_start() -> list[str]:
    """The systemd unit's ExecStart, split as systemd would."""
    unit = block_for("systemd", "# /etc/systemd/system/mailbot.service")
    m = re.search(r"(?m)^ExecStart=(.+)$", unit)
    assert m, "the systemd unit in docs/operations.md has no ExecStart"
    return shlex.split(m.group(1))


def unit_value(name: str) -> str:
    unit = block_for("systemd", "# /etc/systemd/system/mailbot.service")
    m = re.search(rf"(?m)^{name}=(.+)$", unit)
    assert m, f"the systemd unit in docs/operations.md has no {name}"
    return m.group(1).strip()


def dns_records() -> list[tuple[str, str, str]]:
    """(name, type, value) of the zone lines under "DNS: SPF, DKIM, DMARC"."""
    block = block_for("DNS: SPF, DKIM, DMARC", ";")
    rows = []
    for line in block.splitlines():
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        name, kind, value = line.split(None, 2)
        rows.append((name, kind, value.strip()))
    return rows


def swap(text: str, names: dict[str, str]) -> str:
    """The guide's example names replaced by the test's (longest first, so the reply domain goes before
    the municipality's own domain it ends with)."""
    for old in sorted(names, key=len, reverse=True):
        text = text.replace(old, names[old])
    return text


def panel_path(value: str, panel: Path, runtime: Path) -> str:
    return value.replace("/srv/panel", str(panel)).replace("/run/mailbot", str(runtime))
