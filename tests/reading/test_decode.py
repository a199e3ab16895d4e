"""Bytes to text: æøå survive every charset and transfer encoding clients use, even mislabelled."""

from __future__ import annotations

import base64
import quopri

import pytest

from mailbot.reading.decode import body_text, decode, header_text

WORDS = "Bærum, Møbler og Høvik – “sitat”"


def _message(body: bytes, charset: str, encoding: str, ctype: str = "text/plain") -> bytes:
    if encoding == "base64":
        body = base64.encodebytes(body)
    elif encoding == "quoted-printable":
        body = quopri.encodestring(body)
    return (
        f'From: a@b.example\nSubject: x\nContent-Type: {ctype}; charset="{charset}"\n'
        f"Content-Transfer-Encoding: {encoding}\n\n"
    ).encode() + body


@pytest.mark.parametrize("encoding", ["8bit", "quoted-printable", "base64"])
@pytest.mark.parametrize("charset", ["utf-8", "windows-1252"])
def test_norwegian_letters_survive_each_charset_and_encoding(charset: str, encoding: str) -> None:
    raw = _message(WORDS.encode(charset), charset, encoding)
    assert body_text(decode(raw).message).text.strip() == WORDS


@pytest.mark.parametrize("encoding", ["8bit", "quoted-printable", "base64"])
def test_latin1_text_is_read_as_latin1(encoding: str) -> None:
    raw = _message("Bærum og Høvik".encode("iso-8859-1"), "iso-8859-1", encoding)
    assert body_text(decode(raw).message).text.strip() == "Bærum og Høvik"


def test_utf8_labelled_iso_8859_1_is_read_as_utf8() -> None:
    raw = _message(WORDS.encode("utf-8"), "iso-8859-1", "quoted-printable")
    assert body_text(decode(raw).message).text.strip() == WORDS


def test_latin1_labelled_utf8_is_read_as_latin1() -> None:
    raw = _message("Bærum og Høvik".encode("iso-8859-1"), "utf-8", "8bit")
    assert body_text(decode(raw).message).text.strip() == "Bærum og Høvik"


def test_windows_1252_dash_in_a_part_labelled_iso_8859_1_becomes_an_en_dash() -> None:
    raw = _message("Stabekk – gjerne".encode("windows-1252"), "iso-8859-1", "quoted-printable")
    assert body_text(decode(raw).message).text.strip() == "Stabekk – gjerne"


def test_unknown_charset_falls_back_without_raising() -> None:
    raw = _message("Bærum".encode(), "x-unknown-charset", "8bit")
    assert body_text(decode(raw).message).text.strip() == "Bærum"


def test_html_only_mail_is_rendered_as_text_with_quotes_marked() -> None:
    html = "<div>1 A</div><div>2 B</div><blockquote><div>1. Er det behov?</div></blockquote>"
    raw = _message(html.encode(), "utf-8", "8bit", "text/html")
    body = body_text(decode(raw).message)
    assert body.from_html
    assert body.text.splitlines()[:2] == ["1 A", "2 B"]
    assert "> 1. Er det behov?" in body.text


def test_plain_part_is_preferred_over_html() -> None:
    raw = (
        b"From: a@b.example\nContent-Type: multipart/alternative; boundary=z\n\n--z\n"
        b"Content-Type: text/html\n\n<p>html</p>\n--z\nContent-Type: text/plain\n\nplain\n--z--\n"
    )
    assert body_text(decode(raw).message).text.strip() == "plain"


def test_attached_forward_is_not_taken_for_the_senders_text() -> None:
    raw = (
        b"From: a@b.example\nContent-Type: multipart/mixed; boundary=z\n\n"
        b"--z\nContent-Type: message/rfc822\n\n"
        b"Subject: inner\nContent-Type: text/plain\n\ninner text\n--z--\n"
    )
    assert "inner text" not in body_text(decode(raw).message).text


def test_encoded_words_in_headers_are_decoded() -> None:
    raw = b"Subject: =?iso-8859-1?q?Sp=F8rreunders=F8kelse_i_B=E6rum?=\n\nx"
    assert header_text(decode(raw).message, "Subject") == "Spørreundersøkelse i Bærum"


def test_nul_bytes_and_missing_headers_do_not_break_decoding() -> None:
    decoded = decode(b"\x00\x00no headers at all\x00\n\nbody")
    assert decoded.message is not None
    assert header_text(decoded.message, "Subject") == ""


def test_message_over_the_size_limit_is_refused_not_raised() -> None:
    decoded = decode(b"x" * (25 * 1024 * 1024 + 1))
    assert decoded.message is None and decoded.refused
