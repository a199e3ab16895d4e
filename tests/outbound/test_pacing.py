"""Quiet hours, the weekly budget, rate limits, the relay down for an hour, and DKIM."""

from __future__ import annotations

import subprocess
from datetime import UTC, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import dkim as dkimpy
import pytest
from sqlalchemy import select

from mailbot.dkim import DkimSigner
from mailbot.pacing import QUIET_HOURS, WEEKLY_BUDGET, Limits, Pacing, QuietHours, budget_slot
from mailbot.sending import SendOptions, send_due
from mailbot.store import outbox as outbox_store
from mailbot.store.models import Outbox
from tests.conftest import OSLO, oslo
from tests.factories import create_members
from tests.outbound.conftest import NOW, address, queue_invitations, sender
from tests.outbound.mta import Relay, RelayHandler

NIGHT = QuietHours.parse("21:00-08:00")


def test_quiet_hours_hold_a_campaign_email_until_morning_local_time_across_dst():
    p = Pacing(OSLO, NIGHT)
    assert p.when("invitation", oslo(2022, 12, 1, 22, 30)) == (oslo(2022, 12, 2, 8), QUIET_HOURS)
    assert p.when("invitation", oslo(2022, 12, 2, 6)) == (oslo(2022, 12, 2, 8), QUIET_HOURS)
    assert p.when("invitation", oslo(2022, 12, 2, 12)) == (oslo(2022, 12, 2, 12), None)
    # The night summer time ends (30 October 2022): still 08:00 on the wall clock.
    assert p.when("reminder-1", oslo(2022, 10, 29, 23)) == (oslo(2022, 10, 30, 8), QUIET_HOURS)


def test_receipts_and_notices_ignore_quiet_hours_and_the_budget():
    p = Pacing(OSLO, NIGHT, weekly_budget=1)
    late = oslo(2022, 12, 1, 23)
    assert p.when("receipt-12", late, [late]) == (late, None)
    assert p.when("notice-unsubscribe-3", late, [late]) == (late, None)


def test_the_weekly_budget_defers_the_email_that_would_be_one_too_many():
    t = oslo(2022, 12, 1, 10)
    earlier = [t - timedelta(days=6), t - timedelta(days=2)]
    assert budget_slot(t, earlier, 3) == t
    assert budget_slot(t, earlier, 2) == t + timedelta(days=1)  # when the first drops out of the window
    assert Pacing(OSLO, NIGHT, 2).when("invitation", t, earlier) == (t + timedelta(days=1), WEEKLY_BUDGET)


def test_the_planner_defers_never_drops(store):
    pacing = Pacing(OSLO, NIGHT, weekly_budget=1)
    with store.transaction() as s:
        ids = [m.id for m in create_members(s, 3)]
        outbox_store.queue(s, "klima-2019", "invitation", ids[:1], oslo(2022, 12, 1, 10), pacing=pacing)
        outbox_store.queue(s, "ombruk-2022", "invitation", ids, oslo(2022, 12, 1, 22), pacing=pacing)
    with store.transaction() as s:
        rows = {r.member_id: r.not_before for r in s.scalars(select(Outbox).where(Outbox.campaign_id == "ombruk-2022"))}
    assert len(rows) == 3
    assert rows[ids[1]] == rows[ids[2]] == oslo(2022, 12, 2, 8).astimezone(UTC)
    assert rows[ids[0]] == oslo(2022, 12, 8, 10).astimezone(UTC)  # a week after the member's last one


def test_in_quiet_hours_the_sender_takes_receipts_only(panel, relay):
    queue_invitations(panel.store, 2)
    with panel.store.transaction() as s:
        mid = s.scalars(select(Outbox.member_id)).first()
        outbox_store.queue(s, "panel", "notice-unsubscribe-1", [mid], NOW, payload={"kind": "unsubscribe"})
    opts = SendOptions(quiet=NIGHT)
    late = oslo(2022, 12, 1, 23)
    assert send_due(panel.store, panel.composer, sender(relay), late, options=opts).sent == 1
    assert send_due(panel.store, panel.composer, sender(relay), oslo(2022, 12, 2, 8), options=opts).sent == 2


@pytest.mark.slow
def test_the_relay_down_for_an_hour_loses_nothing_and_the_backlog_drains_within_the_rate_limits(panel):
    handler = RelayHandler()
    limits = Limits(per_minute=30, per_hour=600)
    opts = SendOptions(limits=limits)
    with Relay(handler) as relay:
        queue_invitations(panel.store, 300)
        smtp = sender(relay)
        clock = [NOW]
        handler.down = True
        while clock[0] < NOW + timedelta(hours=1):  # a worker polling every minute through the outage
            send_due(panel.store, panel.composer, smtp, clock[0], options=opts, clock=lambda: clock[0])
            clock[0] += timedelta(minutes=1)
        handler.down = False
        assert sum(handler.received.values()) == 0
        while sum(handler.received.values()) < 300 and clock[0] < NOW + timedelta(hours=6):
            send_due(panel.store, panel.composer, smtp, clock[0], options=opts, clock=lambda: clock[0])
            clock[0] += timedelta(seconds=30)
    with panel.store.transaction() as s:
        rows = s.scalars(select(Outbox)).all()
    assert {r.status for r in rows} == {"sent"}
    assert handler.received == {address(i): 1 for i in range(300)}
    sent = sorted(r.sent_at for r in rows)
    assert sent[0] >= NOW + timedelta(hours=1)
    for i, t in enumerate(sent):  # every minute holds at most 30, every hour at most 600
        assert sum(1 for u in sent[i:i + 31] if u < t + timedelta(minutes=1)) <= 30


def test_dkim_signature_covers_list_unsubscribe_and_verifies_with_dkimpy(panel, relay, tmp_path: Path):
    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True,
                            capture_output=True).stdout
    import base64

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    relay.handler.keep = True
    signer = DkimSigner("panel2024", "baerum.example.no", key.read_bytes())
    queue_invitations(panel.store, 2)
    send_due(panel.store, panel.composer, sender(relay), NOW, options=SendOptions(signer=signer))

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"panel2024._domainkey.baerum.example.no."
        return record

    for _, raw in relay.handler.messages:
        assert dkimpy.verify(raw, dnsfunc=dns)
        msg = message_from_bytes(raw, policy=policy.default)
        tags = dict(t.strip().split("=", 1) for t in str(msg["DKIM-Signature"]).replace("\r\n", "").split(";"))
        signed = tags["h"].replace(" ", "").lower().split(":")
        assert {"from", "list-unsubscribe", "list-unsubscribe-post", "list-id", "message-id"} <= set(signed)
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "https://" in str(msg["List-Unsubscribe"]) or "http://" in str(msg["List-Unsubscribe"])
        assert str(msg["Message-ID"]).endswith("@baerum.example.no>")
        assert "baerum.example.no" in str(msg["List-Id"])
        tampered = raw.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: x")
        assert not dkimpy.verify(tampered, dnsfunc=dns)


def test_no_dkim_key_no_signature_and_a_missing_key_file_is_a_clear_error(settings):
    assert DkimSigner.from_settings(settings, env={}) is None
    from mailbot.dkim import DkimKeyProblem
    from mailbot.panel.settings import Config

    cfg = Config.model_validate({**settings.config.model_dump(), "dkim": {"selector": "s", "domain": "x.no"}})
    on = type(settings)(config=cfg, root=settings.root, file=settings.file)
    with pytest.raises(DkimKeyProblem, match="MAILBOT_DKIM_KEY_FILE"):
        DkimSigner.from_settings(on, env={})


def test_mailbot_plan_shows_what_the_planner_deferred_how_many_and_until_when(store, tmp_path):
    import json

    from typer.testing import CliRunner

    from mailbot.cli import app
    from tests.outbound.conftest import write_config

    pacing = Pacing(OSLO, NIGHT, weekly_budget=1)
    with store.transaction() as s:
        ids = [m.id for m in create_members(s, 3)]
        outbox_store.queue(s, "klima-2019", "invitation", ids[:1], oslo(2022, 12, 1, 10), pacing=pacing)
        outbox_store.queue(s, "ombruk-2022", "invitation", ids, oslo(2022, 12, 1, 22), pacing=pacing)
    with store.transaction() as s:
        held = outbox_store.held_back(s, oslo(2022, 12, 1, 22))
    assert [(h.campaign_id, h.why, h.count, h.first, h.until) for h in held] == [
        ("ombruk-2022", QUIET_HOURS, 2, oslo(2022, 12, 2, 8), oslo(2022, 12, 2, 8)),
        ("ombruk-2022", WEEKLY_BUDGET, 1, oslo(2022, 12, 8, 10), oslo(2022, 12, 8, 10))]

    cfg = write_config(tmp_path / "cli", 2525)
    env = {"MAILBOT_DATABASE_URL": store.url, "MAILBOT_TOKEN_KEY": "test-key"}
    result = CliRunner().invoke(app, ["plan", "-c", str(cfg), "--now", "2022-12-01T22:00", "--json"], env=env)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if '"deferred"' in line]
    assert lines == [
        {"campaign": "ombruk-2022", "step": "invitation", "deferred": 2, "why": "quiet hours",
         "from": "2022-12-02T08:00:00+01:00", "until": "2022-12-02T08:00:00+01:00"},
        {"campaign": "ombruk-2022", "step": "invitation", "deferred": 1, "why": "weekly budget",
         "from": "2022-12-08T10:00:00+01:00", "until": "2022-12-08T10:00:00+01:00"}]
    text = CliRunner().invoke(app, ["plan", "-c", str(cfg), "--now", "2022-12-01T22:00"], env=env).output
    assert "ombruk-2022 invitation: 2 deferred by quiet hours, going out from 2022-12-02 08:00" in text
