"""How free lines and sentences are cut into pieces and placed (issue 14): a piece joined to the one
before it answers the same question, and one sentence is not read for two lists of options."""

from __future__ import annotations

from mailbot.campaigns import Survey
from mailbot.reading import parse_answers


def test_a_hedge_after_a_letter_does_not_carry_the_letter_to_the_next_line(culture: Survey) -> None:
    parsed = parse_answers("A, tror jeg\nOm jeg må velge: B og E\nKanskje en femmer\n", culture)
    assert parsed.answers.get("besok") == "Ja"
    assert parsed.answers.get("tilbud") == ("Teater", "Kafé")


def test_two_sentences_naming_options_of_one_question_give_both(culture: Survey) -> None:
    text = ("Ja, jeg var der i høst. Jeg går mest på konserter med datteren min. Jeg liker også kinoen. "
            "Kommunen bør satse på lengre åpningstider, det er stengt når folk har fri. Jeg gir en femmer.")
    parsed = parse_answers(text, culture)
    assert set(parsed.answers.get("tilbud") or ()) == {"Konserter", "Kino"}
    assert parsed.answers.get("satsing") == "Lengre åpningstider"


def test_a_wish_for_more_concerts_is_the_wish_not_also_what_the_resident_uses(culture: Survey) -> None:
    text = "Nei, jeg har ikke vært der. Kommunen bør lage flere konserter for barn. Tja, en treer."
    parsed = parse_answers(text, culture)
    assert parsed.answers.get("satsing") == "Flere konserter for barn"
    assert "tilbud" not in parsed.answers


def test_the_reason_after_an_answer_in_prose_is_not_the_free_text(culture: Survey) -> None:
    text = "Ja. Jeg går på kino. Åpningstider. Fornøyd, en femmer, jeg bor rett ved."
    parsed = parse_answers(text, culture)
    assert "forslag" not in parsed.answers


def test_a_label_before_a_colon_says_what_the_answer_is_to(culture: Survey) -> None:
    text = "Besøk: ja\nBruker: kino og kafé\nSatsing: billigere billetter\nFornøyd: 5\nTransport: buss\n"
    parsed = parse_answers(text, culture)
    assert parsed.answers.get("tilbud") == ("Kino", "Kafé")
    assert parsed.answers.get("satsing") == "Billigere billetter"
    assert parsed.answers.get("fornoyd") == 5
    assert parsed.answers.get("reise") == "Buss eller tog"  # not also "Tilrettelagt transport"
