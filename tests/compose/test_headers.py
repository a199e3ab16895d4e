"""Headers as a receiving client reads them: the bytes parsed back with policy.default."""

from __future__ import annotations

import email.utils
import io
from datetime import datetime
from email.generator import BytesGenerator
from email.message import EmailMessage

import pytest

from mailbot import compose
from mailbot.compose import HeaderValueError, Templates
from mailbot.people import Recipient
from tests.compose import make

TEMPLATES = Templates()


def invitation(recipient: Recipient | None = None, **kw: object) -> EmailMessage:
    s = make.survey()
    return compose.survey_email(s, "invitation", recipient or make.member(), make.links(s), make.sender(),
                                make.panel(), TEMPLATES, kw.get("now", make.NOW))  # type: ignore[arg-type]


def receipt(in_reply_to: str | None = "<CAK1=resident@mail.example.com>") -> EmailMessage:
    s = make.survey()
    return compose.receipt_email(s, make.member(), {"need": "Ja"}, ["today"], {}, make.links(s),
                                 make.sender(in_reply_to=in_reply_to), make.panel(), TEMPLATES, make.NOW)


def test_a_survey_email_carries_every_header_a_mail_client_and_gmail_need():
    m = make.parse(invitation())
    assert m["From"].addresses[0].addr_spec == "innbyggerpanel@example.no"
    assert m["From"].addresses[0].display_name == "Innbyggerpanelet"
    assert m["To"].addresses[0].display_name == "Kari Nordmann"
    assert m["To"].addresses[0].addr_spec == "kari.nordmann@example.no"
    assert m["Reply-To"].addresses[0].addr_spec == "innbyggerpanel+abc7@svar.example.no"
    assert m["Message-ID"] == "<7.abc7@example.no>"
    assert m["Subject"] == "Behov for en ombruksbutikk i Bærum"
    assert m["List-Unsubscribe"] == ("<https://panel.example.no/avmeld/tok7>, "
                                     "<mailto:innbyggerpanel+tok7@svar.example.no?subject=STOPP>")
    assert m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert m["List-Id"] == "Innbyggerpanelet <innbyggerpanel.example.no>"
    assert m["Auto-Submitted"] == "auto-generated"
    assert m.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in m.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in m.iter_parts())


def test_the_date_header_is_now_in_the_panels_time_zone():
    m = make.parse(invitation(now=datetime(2022, 12, 5, 8, 0, tzinfo=make.ZoneInfo("UTC"))))
    assert m["Date"].datetime == datetime(2022, 12, 5, 9, 0, tzinfo=make.OSLO)
    assert str(m["Date"]).endswith("+0100")


def test_a_naive_now_is_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="timezone-aware"):
        invitation(now=datetime(2022, 12, 5, 9, 0))


def test_a_receipt_is_an_automatic_reply_threaded_under_the_residents_message():
    m = make.parse(receipt())
    assert m["Auto-Submitted"] == "auto-replied"
    assert m["In-Reply-To"] == "<CAK1=resident@mail.example.com>"
    assert m["References"] == "<CAK1=resident@mail.example.com>"
    assert "List-Id" not in m


def test_a_receipt_without_the_residents_message_id_has_no_threading_headers():
    m = make.parse(receipt(in_reply_to=None))
    assert "In-Reply-To" not in m and "References" not in m


def test_a_name_with_line_breaks_cannot_add_a_header():
    evil = make.member(name="Eve\r\nBcc: victim@example.com\r\nSubject: gratis\nX-Evil: 1")
    m = make.parse(invitation(evil))
    assert "Bcc" not in m and "X-Evil" not in m
    assert m.get_all("Subject") == ["Behov for en ombruksbutikk i Bærum"]
    assert [a.addr_spec for a in m["To"].addresses] == ["kari.nordmann@example.no"]
    assert m["To"].addresses[0].display_name == "Eve Bcc: victim@example.com Subject: gratis X-Evil: 1"


@pytest.mark.parametrize("name", [
    'Kari <mallory@example.com>, bob@example.com',
    '"Kari" <mallory@example.com>, "Bob" <bob@example.com>',
    'Kåre <mallory@example.com>, bob@example.com',  # non-ASCII takes the encoded-word path
    'Kari\\", mallory@example.com',
])
def test_a_name_with_angle_brackets_and_commas_cannot_add_a_recipient(name):
    msg = invitation(make.member(name=name))
    m = make.parse(msg)
    assert [a.addr_spec for a in m["To"].addresses] == ["kari.nordmann@example.no"]
    assert "mallory" not in m["To"].addresses[0].addr_spec
    # smtplib.send_message reads recipients from str(msg["To"]) of the unsent message.
    assert [a for _, a in email.utils.getaddresses([str(msg["To"])])] == ["kari.nordmann@example.no"]


def test_non_ascii_names_and_subjects_are_encoded_on_the_wire_and_decode_back():
    s = make.survey(title="Påminnelse om ærlig øl-smaking på Åsane")
    msg = compose.survey_email(s, "invitation", make.member(name="Ståle Ødegård-Ærø"), make.links(s),
                               make.sender(), make.panel(), TEMPLATES, make.NOW)
    raw = msg.as_bytes()
    assert raw.isascii()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 78 for line in head.split(b"\r\n"))
    m = make.parse(msg)
    assert m["Subject"] == "Påminnelse om ærlig øl-smaking på Åsane"
    assert m["To"].addresses[0].display_name == "Ståle Ødegård-Ærø"


def test_a_member_address_with_a_line_break_is_refused():
    with pytest.raises(HeaderValueError):
        invitation(make.member(email_address="kari@example.no\r\nBcc: x@example.com"))


def test_a_very_long_name_is_cut_and_still_one_recipient():
    m = make.parse(invitation(make.member(name="Å" * 500)))
    assert len(m["To"].addresses) == 1
    # (CPython keeps the folding space between encoded words in a name; mail clients drop it.)
    assert len(m["To"].addresses[0].display_name.replace(" ", "")) == 100


def test_the_remembered_bytes_are_exactly_what_the_standard_generator_writes():
    msg = invitation(make.member(name="Ståle, \"Ø\" <x>"))
    out = io.BytesIO()
    BytesGenerator(out, policy=msg.policy).flatten(msg)
    assert msg.as_bytes() == out.getvalue()


def test_a_message_changed_after_compose_is_written_out_with_the_change():
    msg = invitation()
    msg["X-Campaign"] = "ombruk-2022"
    assert b"X-Campaign: ombruk-2022\r\n" in msg.as_bytes()
    del msg["Precedence"]
    assert b"Precedence" not in msg.as_bytes()


def test_lines_never_pass_998_octets_even_with_long_links():
    s = make.survey()
    long = make.links(s, token="t" * 400)
    msg = compose.survey_email(s, "invitation", make.member(), long, make.sender(), make.panel(), TEMPLATES,
                               make.NOW)
    assert max(len(line) for line in msg.as_bytes().split(b"\r\n")) <= 998
    assert f'href="{long.answer_urls[("need", "Ja")]}"' in make.html(msg)
