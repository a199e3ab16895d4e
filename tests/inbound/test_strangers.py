"""Mail that is nobody's answer: a stranger writing to the panel, a reply to a staff test email."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from mailbot.links import addressing
from mailbot.replies import TEST_OUTBOX_ID
from mailbot.states import InboundState
from tests.conftest import oslo
from tests.inbound.conftest import KARI, PANEL_ADDRESS, plain, reply


def test_a_stranger_writing_to_the_panel_address_gets_a_join_link_and_a_person_reads_the_text(panel):
    msg = EmailMessage()
    msg["From"] = "Per Person <per.person@example.no>"
    msg["To"] = PANEL_ADDRESS
    msg["Subject"] = "Innbyggerpanelet"
    msg["Message-ID"] = make_msgid(domain="example.no")
    msg.set_content("Hei, jeg bor på Bekkestua og vil gjerne være med i panelet.\n\nPer")
    row = panel.push(msg.as_bytes(), oslo(2022, 12, 2, 10), envelope_to=[PANEL_ADDRESS])
    assert row.status == InboundState.NEEDS_HUMAN and "join" in (row.reason or "")
    panel.send(oslo(2022, 12, 2, 10))
    (confirmation,) = panel.out.to("per.person@example.no")
    assert "/bli-med/bekreft/" in plain(confirmation)


def test_a_reply_to_a_test_email_records_nothing_even_from_a_member(panel):
    test_reply_to = addressing(panel.bot.keys, panel.bot.settings.panel, TEST_OUTBOX_ID, 0, panel.survey.id).reply_to
    invitation = panel.invitation(KARI)
    raw = reply(invitation, KARI, "1 A 2 B 3 4", to_address=test_reply_to, thread=False)
    row = panel.push(raw, oslo(2022, 12, 2, 10), envelope_to=[test_reply_to])
    assert row.status == InboundState.IGNORED
    assert panel.answers(KARI) == {}
