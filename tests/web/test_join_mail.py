"""A sign-up confirmation reaches the address being confirmed, though no member exists yet."""

from __future__ import annotations

import mailbox
from email import message_from_bytes, policy

from mailbot import membership
from mailbot.bot import Bot
from mailbot.panel.settings import load_settings
from mailbot.tokens import Keys
from mailbot.transport.local import free_port, mailbox_dir
from tests.conftest import make_survey, oslo, write_panel


def test_joining_by_email_sends_the_confirmation_link_to_the_new_address(tmp_path, store):
    port = free_port()
    settings = load_settings(write_panel(tmp_path / "panel", port), load_env=False)
    keys = Keys(("test-key",))
    bot = Bot(settings, campaigns=[make_survey()], store=store, keys=keys)
    now = oslo(2022, 11, 20, 10)
    with store.transaction() as s:
        membership.request_join(s, settings, keys, "Ny.Beboer@Example.no", now, via="email")
    with bot.local_post_office(port), bot.transport() as transport:
        report = bot.send_due(transport, now)
    assert report.sent == 1
    folder = mailbox_dir(bot.mailbox_root(), "ny.beboer@example.no")
    (raw,) = [bytes(m) for m in mailbox.Maildir(folder).values()]
    msg = message_from_bytes(raw, policy=policy.default)
    assert "ny.beboer@example.no" in str(msg["To"]).lower()
    assert "/bli-med/bekreft/" in msg.get_body(("plain",)).get_content()
