"""`mailbot ledger`: who was sent what and when, with the server's answer, read a page at a time."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.sending import send_due
from mailbot.store import outbox as outbox_store
from tests.conftest import ROOT
from tests.outbound.conftest import NOW, address, queue_invitations, sender, write_config


def run_ledger(tmp_path, store, *args: str):
    cfg = write_config(tmp_path / "cli", 2525)
    (cfg.parent / "schedules" / "ombruk-2022.toml").write_text(
        (ROOT / "schedules" / "ombruk-2022.toml").read_text(encoding="utf-8"), encoding="utf-8")
    env = {"MAILBOT_DATABASE_URL": store.url, "MAILBOT_TOKEN_KEY": "test-key"}
    return CliRunner().invoke(app, ["ledger", "-c", str(cfg), *args], env=env)


def test_the_ledger_lists_each_email_with_its_time_status_and_the_servers_answer(tmp_path, panel, relay):
    relay.handler.refuse[address(1)] = "550 5.1.1 <beboer1@example.no>: User unknown"
    queue_invitations(panel.store, 3)
    send_due(panel.store, panel.composer, sender(relay), NOW)
    queue_invitations(panel.store, 1, start=3, when=NOW.replace(year=2023))  # queued, not sent: not in the ledger

    result = run_ledger(tmp_path, panel.store, "--campaign", "ombruk-2022", "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(e["member"], e["status"]) for e in lines] == [
        (address(0), "sent"), (address(1), "failed"), (address(2), "sent")]
    assert lines[0]["response"] == "250 2.0.0 Ok: queued" and lines[0]["at"] == "2022-12-01T11:00:00+01:00"
    assert "User unknown" in lines[1]["response"]
    assert all(e["step"] == "invitation" and e["message_id"] for e in lines if e["status"] == "sent")

    one = run_ledger(tmp_path, panel.store, "--member", address(2).upper())
    assert one.exit_code == 0, one.output
    assert address(2) in one.output and address(0) not in one.output and "1 email(s)" in one.output
    later = run_ledger(tmp_path, panel.store, "--since", "2022-12-02")
    assert later.exit_code == 0 and "0 email(s)" in later.output


def test_an_unknown_member_campaign_or_date_is_exit_2_with_a_clear_message(tmp_path, store):
    result = run_ledger(tmp_path, store, "--member", "nobody@example.no")
    assert result.exit_code == 2
    assert "no member with the address 'nobody@example.no'" in result.output
    result = run_ledger(tmp_path, store, "--campaign", "ombruk-2033")
    assert result.exit_code == 2
    assert "no campaign 'ombruk-2033'" in result.output and "ombruk-2022" in result.output  # names the real ones
    result = run_ledger(tmp_path, store, "--since", "yesterday")
    assert result.exit_code == 2 and "is not a date" in result.output
    assert "Traceback" not in result.output


def test_the_ledger_is_read_a_page_at_a_time_in_id_order(panel, relay):
    queue_invitations(panel.store, 7)
    send_due(panel.store, panel.composer, sender(relay), NOW)
    pages = []

    def transaction():
        pages.append(1)
        return panel.store.transaction()

    entries = list(outbox_store.ledger(transaction, page=3))
    assert [e.email for e in entries] == [address(i) for i in range(7)]
    assert len(pages) == 3  # 3 + 3 + 1, each page in its own short transaction


def test_the_outbox_has_indexes_for_rate_windows_and_the_ledger_by_time(store):
    from sqlalchemy import inspect

    indexes = {i["name"]: i["column_names"] for i in inspect(store.engine).get_indexes("outbox")}
    assert indexes["ix_outbox_claimed_at"] == ["claimed_at"] and indexes["ix_outbox_sent_at"] == ["sent_at"]
