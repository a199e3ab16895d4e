"""The reader's shortcuts give the answers of the slow, obvious code they replace.

Patterns asked of every line are matched without re.IGNORECASE against `lowered` text,
`fold` has an ASCII path, quote marks are cut by a string scan, and an ordinary reply
never reaches flufl.bounce. Each is checked here against what it stands in for.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailbot.reading import autoreplies, bounces, decode, quotes, read_bounce
from mailbot.reading.quotes import _unquote
from mailbot.reading.vocabulary import fold, lowered

LOWERED = [(quotes, name) for name in quotes.LOWERED_PATTERNS] + [
    (autoreplies, "_AUTO_SUBJECT"),
    (autoreplies, "_AUTO_BODY"),
    (autoreplies, "_CHALLENGE"),
    (bounces, "_BOUNCE_SENDER"),
    (bounces, "_BOUNCE_SUBJECT"),
]
# Letters where str.lower and re.IGNORECASE part ways, and words the patterns look for.
TRICKY = "İıſKÅẞßÆØÅæøå"
WORDS = [
    "From:", "FRA:", "Sendt:", "On Fri, 2 Dec 2022 at 09:00, Kari <k@x.no> wrote:", "Den 1. des. skrev Ola:",
    "-----Original Message-----", "Sendt fra min iPhone", "Med vennlig hilsen", "MVH", "Denne e-posten kan",
    "Jeg er på ferie", "I AM OUT OF THE OFFICE", "Automatisk svar", "Fraværsmelding", "MAILER-DAEMON",
    "Undeliverable", "Ikke levert", "Whitelist", "ſent", "WROTE", "ſkrev", "Vıdaresendt", "-- Videresendt melding",
]
text_with_words = st.lists(
    st.one_of(st.sampled_from(WORDS), st.text(alphabet=st.sampled_from(TRICKY + " :<>@-\n\tAaEeIiOoSsKk0123")),
              st.text(max_size=20)),
    max_size=8,
).map(" ".join)


@pytest.mark.parametrize(("module", "name"), LOWERED, ids=[n for _, n in LOWERED])
def test_lowered_patterns_are_written_in_lower_case_without_ignorecase(module, name):
    pattern: re.Pattern[str] = getattr(module, name)
    assert not pattern.flags & re.IGNORECASE
    literal_letters = re.sub(r"\\.", "", pattern.pattern)  # escapes like \s \S \d are not letters
    assert literal_letters == literal_letters.lower(), f"{name} has an upper-case letter"


@settings(max_examples=300, deadline=None)
@given(text=text_with_words)
def test_a_lowered_pattern_matches_where_the_ignorecase_pattern_matches(text):
    for module, name in LOWERED:
        pattern: re.Pattern[str] = getattr(module, name)
        ignorecase = re.compile(pattern.pattern, pattern.flags | re.IGNORECASE)
        for line in [text, *text.splitlines()]:
            want = ignorecase.search(line)
            got = pattern.search(lowered(line))
            assert (want.span() if want else None) == (got.span() if got else None), (name, line)


def test_lowered_keeps_every_character_in_place():
    for c in "İıſKẞΣAÅ":
        assert len(lowered(c)) == 1
    assert lowered("İſKı") == "iski"


def _fold_slowly(text: str) -> str:
    text = re.sub(r"(?<=\w)['’](?=\w)", "", text)  # "don't" is one word
    text = unicodedata.normalize("NFC", text).casefold().translate(
        str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
    )
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(), st.text(alphabet=st.characters(max_codepoint=127))))
def test_fold_is_the_same_with_and_without_its_ascii_path(text):
    assert fold(text) == _fold_slowly(text)


@settings(max_examples=300, deadline=None)
@given(line=st.text(alphabet=st.sampled_from(" \t>a-\u00a0"), max_size=12))
def test_quote_marks_are_cut_as_the_pattern_cuts_them(line):
    assert _unquote(line) == re.sub(r"^[ \t]*(>[ \t]?)+", "", line, count=1)


def test_an_ordinary_reply_never_reaches_the_bounce_detectors(monkeypatch):
    def boom(msg):
        raise AssertionError("flufl.bounce ran on an ordinary reply")

    monkeypatch.setattr(bounces, "_flufl_failures", boom)
    raw = (b"From: Kari <kari@example.no>\nTo: innbyggerpanel+abc@svar.example.no\n"
           b"Subject: SV: Behov for en ombruksbutikk\n\n1 A\n2 B\n\n> 1. Er det behov?\n")
    message = decode(raw).message
    assert message is not None
    assert read_bounce(message) is None
