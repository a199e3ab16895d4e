"""A new member of staff follows the staff guide: write a survey, validate, preview in nynorsk, test-send, read it."""

from __future__ import annotations

import json
import mailbox
import re
from email import message_from_bytes, policy
from pathlib import Path

from typer.testing import CliRunner

from mailbot.cli import app
from tests.cli.conftest import ROOT

FENCE = re.compile(r"^```toml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.stdout, result.stderr


def test_a_new_survey_from_the_staff_guide_validated_previewed_and_test_sent(panel: Path) -> None:
    # 1. Copy the guide's survey example into schedules/ under a new id and new dates.
    guide = (ROOT / "docs" / "staff-guide.md").read_text(encoding="utf-8")
    example = next(block for block in FENCE.findall(guide) if 'kind = "survey"' in block)
    survey = (example.replace('id = "ombruk-2022"', 'id = "ombruk-2027"')
              .replace("2022-12-01T09:00", "2027-03-01T09:00").replace("2022-12-15T23:59", "2027-03-15T23:59"))
    assert 'id = "ombruk-2027"' in survey
    (panel / "schedules" / "ombruk-2027.toml").write_text(survey, encoding="utf-8")

    # 2. mailbot validate: the new file joins the shipped ones.
    code, out, err = run("validate")
    assert code == 0, err
    assert "ombruk-2027" in out

    # 3. mailbot plan shows when it goes out.
    code, out, err = run("plan", "--now", "2027-02-20T09:00", "--json")
    assert code == 0, err
    steps = [json.loads(line) for line in out.splitlines() if "ombruk-2027" in line]
    assert [s["step"] for s in steps][:3] == ["invitation", "reminder-1", "reminder-2"]

    # 4. mailbot preview in nynorsk.
    code, out, err = run("preview", "ombruk-2027", "invitation", "--lang", "nn", "--json")
    assert code == 0, err
    text = Path(json.loads(out)["text"]).read_text(encoding="utf-8")
    assert "Skriv svaret ditt over denne lina" in text
    assert "1. Er det behov for en ombruksbutikk i Bærum?" in text
    assert "måndag 15. mars" in text  # the closing date, written the nynorsk way

    # 5. mailbot send-test to the local transport, then read it back from the mailbox folder.
    code, out, err = run("send-test", "ombruk-2027", "invitation", "--lang", "nn",
                         "--to", "ny.ansatt@baerum.example.no")
    assert code == 0, err
    assert "[TEST]" in out
    folder = panel / "var" / "mailboxes" / "ny.ansatt@baerum.example.no"
    box = mailbox.Maildir(folder, create=False)
    assert len(box) == 1
    msg = message_from_bytes(box.get_bytes(next(iter(box.keys()))), policy=policy.default)
    assert msg["Subject"] == "[TEST] Behov for en ombruksbutikk i Bærum"
    assert msg["To"].addresses[0].addr_spec == "ny.ansatt@baerum.example.no"
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and "Skriv svaret ditt over denne lina" in plain.get_content()
    assert html is not None and "ombruksbutikk" in html.get_content()
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # 6. Nothing was sent to a resident, and nothing queued.
    import sqlite3

    with sqlite3.connect(panel / "var" / "mailbot.sqlite3") as c:
        assert c.execute("SELECT count(*) FROM outbox").fetchone() == (0,)
