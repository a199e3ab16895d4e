"""How free lines and sentences are cut into pieces and placed (issue 14): a piece joined to the one
before it answers the same question, and one sentence is not read for two lists of options."""

from __future__ import annotations

from mailbot.campaigns import Survey
from mailbot.config import load_campaign_file
from mailbot.reading import parse_answers
from mailbot.reading.values import read_value
from tests.reading.conftest import DATA


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


def test_one_piece_per_question_in_order_is_read_in_that_order(culture: Survey) -> None:
    # The free text names "billetter" (an option of question 3), yet it is the sixth piece of six.
    text = "Ja; kino og kafé; lengre åpningstider; 5; buss; billigere billetter for studenter hadde vært fint"
    parsed = parse_answers(text, culture)
    assert parsed.answers.get("satsing") == "Lengre åpningstider"
    assert parsed.answers.get("reise") == "Buss eller tog"
    assert parsed.answers.get("forslag") == "billigere billetter for studenter hadde vært fint"


def test_none_of_them_and_the_reason_is_no_option(culture: Survey) -> None:
    parsed = parse_answers("1 Nei\n2 ingen av dem, jeg ser film hjemme\n4 2", culture)
    assert "tilbud" not in parsed.answers and "tilbud" not in parsed.unsure
    assert parsed.answers.get("fornoyd") == 2


def test_a_nynorsk_grade_word_after_its_article() -> None:
    library = load_campaign_file(DATA / "replies-corpus" / "dev-b" / "surveys" / "bibliotek-2023.toml")
    assert isinstance(library, Survey)
    value = read_value("Eg vil tilrå det, så det blir ein tiar frå meg.", library.question("recommend"), anchored=False)
    assert value.answer == 10  # not 1 for "ein"


def test_a_remark_about_skipping_questions_is_no_free_text(culture: Survey) -> None:
    parsed = parse_answers("Ja\nKino\n\nDei andre spørsmåla hoppar eg over, eg flytta hit i fjor.", culture)
    assert parsed.answers.get("besok") == "Ja"
    assert "forslag" not in parsed.answers


def test_a_correction_after_one_answer_per_line_keeps_the_lines_in_their_places(culture: Survey) -> None:
    text = "Ja\nKino\nLengre åpningstider\n5\nBuss\n\nNei vent, på nr 4 mener jeg 3.\n\nK"
    parsed = parse_answers(text, culture)
    assert parsed.answers.get("reise") == "Buss eller tog"
    assert parsed.answers.get("fornoyd") == 3
    assert "forslag" not in parsed.answers  # "K" signs the reply


def test_i_meant_a_value_for_a_question_number(culture: Survey) -> None:
    parsed = parse_answers("1 A 2 C 3 B 4 5\n\nSorry, I meant 2 for question 4, not 5.", culture)
    assert parsed.answers.get("fornoyd") == 2


def test_options_listed_with_a_comma_on_one_line_are_all_read(culture: Survey) -> None:
    # "Utstill" reads less surely than "kino": the cut at the comma must not read best by dropping it.
    parsed = parse_answers("Ja\nUtstill, kino\nLengre åpningstider\n5\nBuss\n", culture)
    assert set(parsed.answers.get("tilbud") or ()) == {"Utstillinger", "Kino"}
    assert parsed.answers.get("fornoyd") == 5
