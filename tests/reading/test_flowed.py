"""format=flowed (RFC 3676), as Thunderbird and Apple Mail send plain text: soft breaks joined."""

from __future__ import annotations

from mailbot.campaigns import Survey
from mailbot.reading import read_message

FLOWED = (
    "From: Kari Nordmann <kari@example.com>\r\n"
    "To: innbyggerpanel+abc@svar.baerum.example.no\r\n"
    "Subject: Re: Behov for en ombruksbutikk i Baerum\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=UTF-8; format=flowed{delsp}\r\n"
    "Content-Transfer-Encoding: 8bit\r\n\r\n"
    "1 A\r\n2 B\r\n3 4\r\n4 Helst i Sandvika sentrum, n\u00e6r bussterminalen, s\u00e5 {cut}"
    "eldre kan komme dit uten bil.\r\n\r\n"
    "Den 1. des. 2022 kl. 09:00 skrev Innbyggerpanelet:\r\n"
    "> 1. Er det behov for en ombruksbutikk i \r\n> B\u00e6rum?\r\n"
)


def test_a_soft_wrapped_answer_is_read_as_one_line(ombruk: Survey) -> None:
    raw = FLOWED.format(delsp="", cut="at \r\n").encode()
    reading = read_message(raw, ombruk)
    assert reading.answers["q4"] == "Helst i Sandvika sentrum, nær bussterminalen, så at eldre kan komme dit uten bil."
    assert reading.route.value == "record"


def test_delsp_removes_the_space_that_marks_the_break(ombruk: Survey) -> None:
    raw = FLOWED.format(delsp="; delsp=yes", cut="a \r\nt ").encode()
    assert read_message(raw, ombruk).answers["q4"].startswith("Helst i Sandvika sentrum, nær bussterminalen, så at ")
