"""Receipts, "we could not read it", "the survey has closed", and answers to commands."""

from __future__ import annotations

from datetime import date

import pytest

from mailbot import compose
from mailbot.compose import MARKERS, TemplateMissing, Templates
from tests.compose import make

TEMPLATES = Templates()


def receipt(recorded, missing=(), unsure=None, lang="nb"):
    s = make.survey()
    return compose.receipt_email(s, make.member(language=lang), recorded, list(missing), unsure or {},
                                 make.links(s), make.sender(in_reply_to="<r1@mail.example.com>"),
                                 make.panel(), TEMPLATES, make.NOW)


def test_a_receipt_lists_what_was_recorded_missing_and_unclear():
    note = "spørsmål 4: ulike svar i samme e-post"  # the reader's note to staff, not for the resident
    body = make.plain(receipt({"need": "Ja", "goods": ("Møbler", "Klær")}, ["today"], {"where": note}))
    assert body.startswith(MARKERS["nb"])
    recorded = body.split("Dette har vi registrert:")[1].split("Disse spørsmålene mangler svar:")[0]
    assert "1. Er det behov for en ombruksbutikk i Bærum?\n     Svar: A) Ja" in recorded
    assert "2. Hva ville du levert der?\n     Svar: Møbler, Klær" in recorded
    assert "3. Hvor fornøyd er du med dagens ordning?" in body.split("mangler svar:")[1]
    unclear = body.split("Disse svarene forstod vi ikke helt")[1].split("Svar på denne")[0]
    assert "4. Hvor i Bærum bør butikken ligge?" in unclear and "ulike svar" not in body
    assert "for eksempel: 3 4   4 med egne ord" in body  # the example covers only what is left
    assert "Svar på denne e-posten igjen før torsdag 15. desember kl. 23.59" in body


def test_a_complete_receipt_asks_for_nothing_more():
    body = make.plain(receipt({"need": "Nei", "goods": ("Klær",), "today": 4, "where": "Sandvika"}))
    assert "mangler svar" not in body and "for eksempel" not in body
    assert "Svar: 4" in body and "Svar: Sandvika" in body


def test_a_receipt_in_english_threads_and_is_an_automatic_reply():
    msg = receipt({"need": "Ja"}, ["today"], lang="en")
    m = make.parse(msg)
    assert m["Subject"] == "Your answer is recorded: Behov for en ombruksbutikk i Bærum"
    assert m["Auto-Submitted"] == "auto-replied" and m["In-Reply-To"] == "<r1@mail.example.com>"
    assert "These questions have no answer yet:" in make.plain(msg)


def test_not_understood_is_friendly_explains_how_and_promises_a_person():
    s = make.survey()
    msg = compose.not_understood_email(s, make.member(), make.links(s), make.sender(), make.panel(),
                                       TEMPLATES, make.NOW)
    body = make.plain(msg)
    assert body.startswith(MARKERS["nb"])
    assert "en av oss ser på svaret ditt" in body
    assert "Svar ved å skrive for eksempel: 1 A   2 B,C   3 4   4 med egne ord" in body
    assert make.parse(msg)["Auto-Submitted"] == "auto-replied"


def test_closed_says_when_it_closed_and_that_the_reply_was_not_recorded():
    s = make.survey()
    for lang, words in (("nb", "stengte torsdag 15. desember kl. 23.59, så svaret ditt ble dessverre ikke"),
                        ("nn", "stengde torsdag 15. desember kl. 23.59, så svaret ditt vart dessverre ikkje"),
                        ("en", "closed on Thursday 15 December at 23:59, so unfortunately your answer")):
        msg = compose.closed_email(s, make.member(language=lang), make.links(s), make.sender(), make.panel(),
                                   TEMPLATES, make.NOW)
        assert words in make.plain(msg)


def notice(name, context=None, lang="nb"):
    return compose.notice_email(name, make.member(language=lang), context or {}, make.sender(), make.panel(),
                                TEMPLATES, make.NOW)


def test_an_unsubscribe_notice_says_you_are_unsubscribed():
    msg = notice("unsubscribe", {"command": "unsubscribe"})
    assert make.parse(msg)["Subject"] == "Du er nå meldt av"
    assert make.parse(msg)["Auto-Submitted"] == "auto-replied"
    assert "List-Unsubscribe" not in make.parse(msg)


def test_a_pause_notice_prints_the_end_date_in_the_readers_language():
    assert "før onsdag 1. mars 2023" in make.plain(notice("pause", {"until": date(2023, 3, 1)}))
    assert "before Wednesday 1 March 2023" in make.plain(notice("pause", {"until": date(2023, 3, 1)}, "en"))
    assert "før du ber om det" in make.plain(notice("pause", {"command": "pause"}))


def test_a_language_notice_is_written_in_the_new_language():
    body = make.plain(notice("language", {"command": "language", "language": "nn"}))
    assert "Frå no av skriv vi til deg på nynorsk." in body
    english = make.plain(notice("language", {"language": "en"}))
    assert "From now on we will write to you in English." in english


def test_a_notice_with_no_template_is_a_clear_error():
    with pytest.raises(TemplateMissing, match="notice-dance"):
        notice("dance")


@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
@pytest.mark.parametrize("kind", ["survey", "receipt", "not-understood", "closed", "results", "unsubscribe",
                                  "pause", "resume", "language", "erase", "join"])
def test_every_email_renders_in_every_language(kind, lang):
    s = make.survey()
    r, lnk, snd, p = make.member(language=lang), make.links(s), make.sender(), make.panel()
    msg = {
        "survey": lambda: compose.survey_email(s, "invitation", r, lnk, snd, p, TEMPLATES, make.NOW),
        "receipt": lambda: compose.receipt_email(s, r, {"need": "Ja"}, ["today"], {}, lnk, snd, p, TEMPLATES,
                                                 make.NOW),
        "not-understood": lambda: compose.not_understood_email(s, r, lnk, snd, p, TEMPLATES, make.NOW),
        "closed": lambda: compose.closed_email(s, r, lnk, snd, p, TEMPLATES, make.NOW),
        "results": lambda: compose.results_email(s, make.results(s), r, lnk, snd, p, TEMPLATES, make.NOW),
    }.get(kind, lambda: compose.notice_email(kind, r, {"language": lang}, snd, p, TEMPLATES, make.NOW))()
    m = make.parse(msg)
    assert m["Subject"].strip()
    assert "{" not in m["Subject"]  # the join notice's subject once showed "Velkommen til {{ panel.name }}"
    assert f'<html lang="{lang}"' in make.html(msg)
    text = make.plain(msg)
    assert "Bærum kommune" in text  # the footer, in every email
    hello = {"nb": "Hei", "nn": "Hei", "en": "Dear"}[lang]
    assert f"{hello} Kari Nordmann," in text
