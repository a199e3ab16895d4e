"""With `[inbound] kind = "imap"`, a tick reads replies from the mailbox, records them, then flags them."""

from __future__ import annotations

import mailbox as maildir
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid

from mailbot.bot import Bot
from mailbot.panel.settings import load_settings
from mailbot.store import members as member_store
from mailbot.store import responses as response_store
from mailbot.tokens import Keys
from mailbot.transport.local import free_port, mailbox_dir
from tests.conftest import make_survey, oslo, write_panel
from tests.factories import Row


def test_a_reply_in_the_imap_mailbox_is_recorded_by_the_next_tick(tmp_path, store, mailbox: object, monkeypatch):
    box = mailbox  # tests.transport.conftest.Mailbox: a fresh user on the session's Dovecot
    port = free_port()
    cfg = write_panel(tmp_path / "panel", port)
    cfg.write_text(cfg.read_text(encoding="utf-8") + f"""
[inbound]
kind = "imap"

[inbound.imap]
host = "{box.server.host}"
port = {box.server.port}
security = "none"
username = "{box.user}"
idle = false
""", encoding="utf-8")
    monkeypatch.setenv("MAILBOT_IMAP_PASSWORD", box.server.password)
    settings = load_settings(cfg, load_env=False)
    survey = make_survey()
    bot = Bot(settings, campaigns=[survey], store=store, keys=Keys(("k",)))
    with store.transaction() as s:
        member_store.upsert_members(s, [Row("kari@example.no")], oslo(2022, 11, 1))

    with bot.local_post_office(port), bot.transport() as transport:
        bot.tick(oslo(2022, 12, 1, 9), transport)
        folder = mailbox_dir(bot.mailbox_root(), "kari@example.no")
        (raw,) = [bytes(m) for m in maildir.Maildir(folder).values()]
        invitation = message_from_bytes(raw, policy=policy.default)

        answer = EmailMessage()
        answer["From"] = "Kari Nordmann <kari@example.no>"
        answer["To"] = str(invitation["Reply-To"])
        answer["Subject"] = "SV: " + str(invitation["Subject"])
        answer["Message-ID"] = make_msgid(domain="example.no")
        answer.set_content("1 A\n2 Møbler og bøker\n3 5\n")
        box.append(answer.as_bytes(policy=policy.SMTP))  # as the MX would deliver it

        report = bot.tick(oslo(2022, 12, 1, 10), transport)

    assert report.inbound.answered == 1
    with store.transaction() as s:
        kari = member_store.member_by_email(s, "kari@example.no")
        assert response_store.answers_of(s, survey, kari.id) == {
            "need": "Ja", "goods": ("Møbler", "Bøker"), "satisfaction": 5}
    assert all(b"\\Seen" in flags for flags in box.flags().values())
