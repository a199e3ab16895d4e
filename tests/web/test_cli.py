"""`mailbot members export EMAIL` and `mailbot members erase EMAIL`, with the audit log."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from mailbot import membership
from mailbot.cli import app
from mailbot.membership_models import StaffAudit
from mailbot.store import Store
from mailbot.store import responses as response_store
from mailbot.store.models import Member, Response
from tests.conftest import make_survey, oslo
from tests.factories import create_member
from tests.web.conftest import panel_settings

runner = CliRunner()


def test_export_then_erase_from_the_command_line(tmp_path: Path) -> None:
    settings = panel_settings(tmp_path / "panel")
    store = Store(settings.database_url)
    store.upgrade()
    survey = make_survey()
    with store.transaction() as s:
        m = create_member(s, "kari@example.no", tags=("klima",)).id
        response_store.record(s, survey, m, {"need": "Ja"}, source="reply", after_step=None, now=oslo(2022, 12, 2))
    config = str(settings.file)
    out = tmp_path / "kari.json"
    result = runner.invoke(app, ["members", "export", "KARI@example.no", "-o", str(out), "--by", "ola",
                                 "--config", config])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text("utf-8"))
    assert data["member"]["email"] == "kari@example.no" and data["responses"][0]["campaign"] == survey.id

    assert runner.invoke(app, ["members", "erase", "kari@example.no", "--config", config], input="n\n").exit_code == 2
    result = runner.invoke(app, ["members", "erase", "kari@example.no", "--yes", "--by", "ola", "--config", config])
    assert result.exit_code == 0, result.output
    with store.transaction() as s:
        assert s.get(Member, m).email is None  # type: ignore[union-attr]
        assert s.scalar(select(Response.member_id)) is None
        log = membership.audit_log(s)
        assert [(e.actor, e.action, e.member_id) for e in log] == [("ola", "export", m), ("ola", "erase", m)]
        assert all("kari" not in (e.detail or "") for e in s.scalars(select(StaffAudit)))
    missing = runner.invoke(app, ["members", "export", "kari@example.no", "--config", config])
    assert missing.exit_code == 2
    store.dispose()
