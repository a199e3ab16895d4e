"""The sender's own words are found under every client's way of quoting and signing."""

from __future__ import annotations

import pytest

from mailbot.reading.quotes import extract_new_text

QUOTED_SURVEY = "> 1. Er det behov for en ombruksbutikk i Bærum?\n>    A) Ja  B) Nei  C) Vet ikke\n"


def _typed(body: str) -> str:
    return extract_new_text(body).text


@pytest.mark.parametrize(
    "header",
    [
        "tor. 1. des. 2022 kl. 09:00 skrev Innbyggerpanelet <innbyggerpanel@baerum.example.no>:",
        "tor. 1. des. 2022 kl. 09:00 skrev Innbyggerpanelet <\ninnbyggerpanel@baerum.example.no>:",
        "Den 01.12.2022 09:00, skrev Innbyggerpanelet:",
        "On Thu, 1 Dec 2022 at 09:00, Innbyggerpanelet <innbyggerpanel@baerum.example.no> wrote:",
        "Am 01.12.2022 um 09:00 schrieb Innbyggerpanelet <innbyggerpanel@baerum.example.no>:",
        "Den 1 dec. 2022 kl. 09:00 skrev Innbyggerpanelet <innbyggerpanel@baerum.example.no>:",
    ],
    ids=["gmail-nb", "gmail-nb-wrapped", "thunderbird-nb", "gmail-en", "apple-de", "apple-sv-da"],
)
def test_attribution_line_before_a_prefixed_quote_is_cut(header: str) -> None:
    assert _typed(f"1 A 2 B\n\n{header}\n\n{QUOTED_SURVEY}") == "1 A 2 B"


@pytest.mark.parametrize(
    "block",
    [
        "Fra: Innbyggerpanelet <innbyggerpanel@baerum.example.no>\nSendt: torsdag 1. desember 2022 09:00\n"
        "Til: Kari\nEmne: Spørreundersøkelse",
        "________________________________\nFra: Innbyggerpanelet <innbyggerpanel@baerum.example.no>\n"
        "Sendt: Thursday, December 1, 2022 9:00:00 AM\nTil: kari@example.no",
        "From: Innbyggerpanelet\nSent: Thursday, December 1, 2022 9:00 AM\nTo: Kari\nSubject: Survey",
        "-----Original Message-----\nFrom: Innbyggerpanelet",
        "-----Opprinnelig melding-----\nFra: Innbyggerpanelet",
        "-------- Opprinnelig melding --------\nFra: Innbyggerpanelet <innbyggerpanel@baerum.example.no> \n"
        "Dato: 01.12.2022 09:00 (GMT+01:00) ",
    ],
    ids=["outlook-nb", "outlook-ios", "outlook-en", "original-message", "opprinnelig-melding", "samsung"],
)
def test_outlook_style_header_cuts_the_unprefixed_original(block: str) -> None:
    body = f"1 A 2 B\n\n{block}\n\nHei Kari,\n1. Er det behov for en ombruksbutikk?\n1 A 2 B,C 3 4"
    new = extract_new_text(body)
    assert new.text == "1 A 2 B"
    assert "Er det behov" in new.original


def test_reply_above_marker_cuts_even_without_a_header() -> None:
    assert _typed("1 A\n\n-- Skriv svaret ditt over denne linjen --\nfooter") == "1 A"


@pytest.mark.parametrize(
    "marker",
    [
        "-- Skriv svaret ditt over denne lina --",
        "-- Write your answer above this line --",
        "--skriv svaret over denne linjen--",
    ],
)
def test_marker_variants_in_nynorsk_and_english_are_recognised(marker: str) -> None:
    assert extract_new_text(f"1 A\n{marker}\nrest").marker_seen


@pytest.mark.parametrize(
    "signature",
    [
        "Sendt fra min iPhone",
        "Sent from my iPhone",
        "Hentet fra Outlook for iOS<https://aka.ms/o0ukef>",
        "Sendt fra min Galaxy",
        "-- \nKari Nordmann\nTlf 123 45 678",
        "Med vennlig hilsen\nKari Nordmann",
        "Mvh\nKari",
        "Med venleg helsing\nOla",
    ],
)
def test_signatures_are_not_part_of_the_typed_text(signature: str) -> None:
    assert _typed(f"1 A 2 B\n\n{signature}\n") == "1 A 2 B"


def test_employer_disclaimer_is_cut() -> None:
    body = "1 A\n\nDenne e-posten kan inneholde konfidensiell informasjon. Hvis du ikke er rett mottaker ..."
    assert _typed(body) == "1 A"


def test_answers_typed_under_quoted_questions_keep_the_question_as_context() -> None:
    body = (
        "Den 01.12.2022 09:00, skrev Innbyggerpanelet:\n" + QUOTED_SURVEY + "\nNei takk.\n\n"
        "> 2. Hvilke varer bør butikken selge?\n\nKlær\n"
    )
    new = extract_new_text(body)
    assert new.text == "Nei takk.\n\nKlær"
    assert "> 1. Er det behov for en ombruksbutikk i Bærum?\n>    A) Ja  B) Nei  C) Vet ikke\nNei takk." in (
        new.with_context
    )
    assert "> 2. Hvilke varer bør butikken selge?\nKlær" in new.with_context


def test_bottom_posted_text_after_the_whole_quote_is_kept() -> None:
    body = "Den 01.12.2022 09:00, skrev Innbyggerpanelet:\n" + QUOTED_SURVEY + "\nJa\nKlær\n3\nHaslum\n"
    assert _typed(body) == "Ja\nKlær\n3\nHaslum"


def test_forwarded_message_header_is_not_a_quote() -> None:
    body = "FYI\n\n---------- Forwarded message ----------\nFrom: bob@example.com\nDate: Tue\n\nText"
    assert "Text" in _typed(body)


def test_prose_ending_in_skrev_is_not_an_attribution() -> None:
    assert _typed("Som jeg skrev:\nvi trenger dette\n") == "Som jeg skrev:\nvi trenger dette"


def test_a_dated_sender_line_without_colon_above_a_quote_is_an_attribution() -> None:
    body = "Replying ok\n2011/4/7 Nathan Nilsen <support@example.com>\n\n>  Cool beans\n> More\n"
    assert _typed(body) == "Replying ok"


def test_a_dated_sender_line_without_a_quote_below_is_kept() -> None:
    body = "Møtet er flyttet\n2022/12/7 Kari Nordmann <kari@example.no>\nSe over"
    assert _typed(body) == body
