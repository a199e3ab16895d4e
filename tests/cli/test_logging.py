"""Logs are one line per event with ids, and never an email address at INFO."""

from __future__ import annotations

import io
import logging
import mailbox
import smtplib
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailbot import logs
from mailbot.bot import Bot
from mailbot.cli import app
from mailbot.panel.settings import load_settings
from mailbot.transport.local import mailbox_dir
from tests.cli.conftest import write_members, write_open_survey


@pytest.fixture
def clean_logging() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    noisy = {name: logging.getLogger(name).level for name in logs._NOISY}
    yield
    for h in list(root.handlers):
        if getattr(h, "_mailbot", False):
            root.removeHandler(h)
    root.setLevel(level)
    for name, lvl in noisy.items():
        logging.getLogger(name).setLevel(lvl)


def test_one_line_per_event_with_its_fields() -> None:
    record = logging.LogRecord("mailbot.sending", logging.INFO, __file__, 1,
                               "sent outbox=%s campaign=%s step=%s member=%s", (7, "ombruk-2022", "invitation", 3),
                               None)
    line = logs.EventFormatter().format(record)
    assert "\n" not in line
    assert line.endswith("level=info logger=mailbot.sending event=sent outbox=7 campaign=ombruk-2022 "
                         "step=invitation member=3")
    as_json = logs.EventFormatter(json_lines=True).format(record)
    assert '"event": "sent"' in as_json and '"member": "3"' in as_json


def test_an_address_in_a_message_is_masked_at_info_but_not_at_debug() -> None:
    def line(level: int) -> str:
        record = logging.LogRecord("x", level, __file__, 1, "refused rcpt=%s", ("kari.nordmann@example.no",), None)
        return logs.EventFormatter().format(record)

    assert "example.no" not in line(logging.INFO) and "rcpt=<address>" in line(logging.INFO)
    assert "kari.nordmann@example.no" in line(logging.DEBUG)


def test_a_tick_logs_no_email_address_at_info(panel: Path, caplog: pytest.LogCaptureFixture,
                                              clean_logging: None) -> None:
    write_open_survey(panel, alone=True)
    result = CliRunner().invoke(app, ["members", "import", str(write_members(panel, 9))])
    assert result.exit_code == 0, result.output
    bot = Bot(load_settings(panel / "config.toml")).prepare()
    stream = io.StringIO()
    logs.setup(stream=stream)
    caplog.set_level(logging.INFO)
    with bot.local_post_office():
        with bot.transport() as transport:
            first = bot.tick(datetime.now(UTC), transport)
        assert first.sent.sent == 9
        # A resident answers, so the inbound side logs too; then the receipt goes out.
        box = mailbox.Maildir(mailbox_dir(bot.mailbox_root(), "person1@example.org"), create=False)
        invitation = message_from_bytes(box.get_bytes(next(iter(box.keys()))), policy=policy.default)
        reply = EmailMessage()
        reply["From"] = "Person 1 <person1@example.org>"
        reply["To"] = str(invitation["Reply-To"])
        reply["Subject"] = "Re: " + str(invitation["Subject"])
        reply["In-Reply-To"] = str(invitation["Message-ID"])
        reply.set_content("1 A\n2 ved Fossum\n")
        t = bot.settings.config.transport
        with smtplib.SMTP(t.host, t.port) as smtp:
            smtp.send_message(reply)
        with bot.transport() as transport:
            second = bot.tick(datetime.now(UTC), transport)
    assert second.inbound.replies == 1 and second.sent.sent == 1
    written = stream.getvalue()
    assert "campaign=na-2026" in written
    assert not logs.ADDRESS.search(written), written
    # Not only masked on the way out: mailbot's own INFO lines never carry an address.
    own = [r.getMessage() for r in caplog.records if r.name.startswith("mailbot") and r.levelno >= logging.INFO]
    assert own and not [m for m in own if logs.ADDRESS.search(m)]
