"""HTML bodies are bounded before they are rendered (issue 14): hostile shapes cost little, real ones are untouched."""

from __future__ import annotations

import time

import pytest

from mailbot.reading import html as H
from mailbot.reading.decode import _fewer_header_fields, decode, header_text
from mailbot.reading.html import html_to_text

HOSTILE = {
    "table rows": "<table>" + "<tr><td>Svar her</td><td>x</td></tr>" * 3000 + "</table>",
    "wide cell beside many lines": (
        "<table><tr><td>" + "ord " * 5000 + "</td><td>" + "linje<br>" * 2000 + "</td></tr></table>"
    ),
    "nested blockquotes": "<blockquote>" * 250 + "<p>Dette er et avsnitt.</p>" * 2000,
    "nested divs": "<div>" * 5000 + "tekst" + "</div>" * 5000,
    "paragraphs": "<p>Dette er et avsnitt.</p>" * 5000,
    "br lines": "Linje<br>" * 10000,
    "comment tails": "<p>a" + "<!--c-->tekst " * 5000 + "</p>",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_html_renders_within_the_caps(name: str) -> None:
    markup = "<html><body><p>1 Ja</p>" + HOSTILE[name] + "</body></html>"
    started = time.process_time()
    text = html_to_text(markup)
    assert time.process_time() - started < 0.5  # unbounded, the slowest of these took seconds under load
    assert text.startswith("1 Ja")
    assert len(text) <= 2 * H.MAX_TEXT_CHARS


def test_bound_leaves_a_real_reply_alone() -> None:
    from lxml import etree, html

    markup = ("<html><body><div>1 Ja</div><div>2 Møbler</div><blockquote type='cite'><table><tr><td>"
              "<p>1. Er det behov?</p></td></tr></table></blockquote></body></html>")
    root = html.document_fromstring(markup)
    before = etree.tostring(root)
    assert H.bound(root) is False
    assert etree.tostring(root) == before


def test_the_document_ends_at_the_element_cap_and_keeps_what_came_before() -> None:
    markup = "<html><body>" + "".join(f"<p>avsnitt {i}</p>" for i in range(3000)) + "</body></html>"
    text = html_to_text(markup)
    assert "avsnitt 0" in text and "avsnitt 900" in text
    assert "avsnitt 2999" not in text


def test_deep_nesting_is_flattened_not_dropped() -> None:
    markup = "<html><body>" + "<div>" * 200 + "dypt nede" + "</div>" * 200 + "</body></html>"
    assert "dypt nede" in html_to_text(markup)


def test_ten_thousand_header_lines_keep_the_fields_read() -> None:
    head = b"From: Kari <kari@example.no>\nTo: panel@example.no\n"
    head += b"".join(b"X-Spam-Line-%d: xxxxxxxxxx\n" % i for i in range(10_000))
    head += b"Subject: Svar\nContent-Type: text/plain; charset=utf-8\n"
    raw = head + b"\n1 Ja\n"
    cut = _fewer_header_fields(raw)
    assert len(cut) < len(raw) // 10
    msg = decode(raw).message
    assert msg is not None
    assert header_text(msg, "Subject") == "Svar"
    assert msg.get_content_charset() == "utf-8"
    assert msg.get_payload() == "1 Ja\n"


def test_a_header_block_under_the_cap_is_not_touched() -> None:
    raw = b"From: a@example.no\nSubject : not a header for the parser\nX: 1\n\nbody\n"
    assert _fewer_header_fields(raw) is raw
