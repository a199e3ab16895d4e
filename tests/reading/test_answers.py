"""Typed text read as answers: the layouts people use, and precision before recall."""

from __future__ import annotations

import pytest

from mailbot.campaigns import Survey
from mailbot.reading import parse_answers

FULL = {"q1": "Ja", "q2": ("Klær", "Sportsutstyr"), "q3": 4, "q4": "Sandvika sentrum"}


@pytest.mark.parametrize(
    "text",
    [
        "1 A 2 B,C 3 4 4 Sandvika sentrum",
        "1a, 2b og c, 3 4, 4 Sandvika sentrum",
        "1: ja\n2: klær og sportsutstyr\n3: 4 av 5\n4: Sandvika sentrum",
        "1) Ja 2) Klær & Sportsutstyr 3) fire 4) Sandvika sentrum",
        "1. A\n2. B and C\n3. 4\n4. Sandvika sentrum",
        "Ja\nKlær, sportsutstyr\n4\nSandvika sentrum",
        "1 JA 👍\n2 KLÆR + SPORTSUTSTYR\n3 4 – helt ok\n4 Sandvika sentrum",
        "Svar: 1 A, 2 B, C, 3 4, 4 Sandvika sentrum",
        "1 yes\n2 clothes and sports equipment\n3 four\n4 Sandvika sentrum",
        "1 ja\n2 klaer, sportsutstyr\n3 4/5\n4 Sandvika sentrum",
    ],
    ids=[
        "compact",
        "lower-letters",
        "colons",
        "parentheses",
        "dots-english-and",
        "one-per-line",
        "emoji-and-chatter",
        "answers-prefix",
        "english-words",
        "no-special-letters",
    ],
)
def test_common_layouts_give_the_same_answers(text: str, ombruk: Survey) -> None:
    parsed = parse_answers(text, ombruk)
    assert parsed.answers == FULL
    assert parsed.unsure == {}


def test_nynorsk_words_are_understood(ombruk: Survey) -> None:
    parsed = parse_answers("1. Veit ikkje\n2. Møblar og klede\n3. tre\n4. Ein stad nær bussen", ombruk)
    assert parsed.answers == {
        "q1": "Vet ikke",
        "q2": ("Møbler", "Klær"),
        "q3": 3,
        "q4": "Ein stad nær bussen",
    }


def test_sentences_in_question_order_are_understood(ombruk: Survey) -> None:
    parsed = parse_answers("Ja, det trengs. Møbler og bøker. Jeg gir dagens tilbud en toer.", ombruk)
    assert parsed.answers == {"q1": "Ja", "q2": ("Møbler", "Bøker"), "q3": 2}


def test_changed_mind_takes_the_last_answer(ombruk: Survey) -> None:
    parsed = parse_answers("1 A\n2 B\n\nnei forresten, 1 C", ombruk)
    assert parsed.answers["q1"] == "Vet ikke"


def test_two_answers_without_a_correction_go_to_a_human(ombruk: Survey) -> None:
    parsed = parse_answers("1 A\n2 B\n1 C", ombruk)
    assert "q1" not in parsed.answers and "q1" in parsed.unsure


@pytest.mark.parametrize(
    ("text", "qid"),
    [
        ("3 2 eller 3", "q3"),
        ("3 2-3", "q3"),
        ("3 7", "q3"),
        ("1 A og B", "q1"),
        ("1 ja, eller kanskje nei", "q1"),
        ("3 4 av 10", "q3"),
    ],
)
def test_uncertain_values_are_left_for_a_human_with_a_reason(text: str, qid: str, ombruk: Survey) -> None:
    parsed = parse_answers(text, ombruk)
    assert qid not in parsed.answers
    assert parsed.unsure[qid]


def test_an_answer_with_a_word_that_is_no_option_is_read_back(ombruk: Survey) -> None:
    parsed = parse_answers("2 møbler og leker", ombruk)  # "leker" is no option: ask before recording Møbler
    assert parsed.answers["q2"] == ("Møbler",) and "q2" in parsed.confirm


def test_an_emoji_in_a_free_text_answer_is_kept(ombruk: Survey) -> None:
    assert parse_answers("1 A\n4 Sandvika sentrum 😊", ombruk).answers["q4"] == "Sandvika sentrum 😊"


def test_a_dash_means_skipped_not_an_answer(ombruk: Survey) -> None:
    parsed = parse_answers("1 B\n2 -\n3 fem\n4 -", ombruk)
    assert parsed.answers == {"q1": "Nei", "q3": 5}
    assert set(parsed.skipped) == {"q2", "q4"}


def test_all_means_every_option(ombruk: Survey) -> None:
    assert parse_answers("1 ja\n2 alle sammen", ombruk).answers["q2"] == (
        "Møbler",
        "Klær",
        "Sportsutstyr",
        "Elektronikk",
        "Bøker",
    )


def test_a_small_typo_in_an_option_is_forgiven(ombruk: Survey) -> None:
    assert parse_answers("1 A\n2 Elektronik og Bøkker", ombruk).answers["q2"] == ("Elektronikk", "Bøker")


@pytest.mark.parametrize(
    "text",
    ["Nei takk", "Takk for at dere spør!", "Vi er en familie med 3 barn.", "Ring meg på 67 12 00 00."],
)
def test_chatter_alone_records_nothing(text: str, ombruk: Survey) -> None:
    assert parse_answers(text, ombruk).answers == {}


def test_numbers_in_prose_before_the_answers_are_not_answers(ombruk: Survey) -> None:
    text = "Vi er en familie med 3 barn.\n\n1 A\n2 B og C (barneklær og ski!)\n3 2\n4 Slependen"
    assert parse_answers(text, ombruk).answers == {
        "q1": "Ja",
        "q2": ("Klær", "Sportsutstyr"),
        "q3": 2,
        "q4": "Slependen",
    }


def test_answers_under_quoted_questions_are_tied_to_them(ombruk: Survey) -> None:
    text = (
        "> 1. Er det behov for en ombruksbutikk i Bærum?\n"
        ">    A) Ja  B) Nei  C) Vet ikke\n"
        "Nei takk. Nok av Fretex.\n\n"
        "> 3. Hvor fornøyd er du med dagens tilbud for gjenbruk?\n"
        ">    (1 = svært misfornøyd, 5 = svært fornøyd)\n"
        "5"
    )
    assert parse_answers(text, ombruk).answers == {"q1": "Nei", "q3": 5}


def test_copied_question_text_followed_by_the_answer(ombruk: Survey) -> None:
    text = "Er det behov for en ombruksbutikk i Bærum? Ja\nHvor i Bærum bør butikken ligge? Sandvika"
    assert parse_answers(text, ombruk).answers == {"q1": "Ja", "q4": "Sandvika"}


def test_answers_typed_into_an_unprefixed_original_are_found(ombruk: Survey) -> None:
    original = (
        "Hei Randi,\n\n1. Er det behov for en ombruksbutikk i Bærum?\n"
        "   A) Ja  B) Nei  C) Vet ikke\nJa, absolutt!\n\n"
        "2. Hvilke varer bør butikken selge? (velg én eller flere)\n   A) Møbler  B) Klær\nMøbler\n\n"
        "3. Hvor fornøyd er du med dagens tilbud for gjenbruk?\n"
        "   (1 = svært misfornøyd, 5 = svært fornøyd)\n\n"
        "Svar ved å skrive for eksempel:\n   1 A   2 B,C   3 4   4 Sandvika sentrum\n"
    )
    parsed = parse_answers("Svarene mine står nedenfor.", ombruk, original)
    assert parsed.answers == {"q1": "Ja", "q2": ("Møbler",)}


def test_a_mark_typed_before_answers_in_the_original_is_not_part_of_them(ombruk: Survey) -> None:
    original = (
        "1. Er det behov for en ombruksbutikk i Bærum?\n   A) Ja  B) Nei  C) Vet ikke\n   >> A\n\n"
        "4. Hvor i Bærum bør butikken ligge?\n   >> Nær Sandvika stasjon\n\n"
    )
    parsed = parse_answers("", ombruk, original)
    assert parsed.answers == {"q1": "Ja", "q4": "Nær Sandvika stasjon"}


def test_the_untouched_original_gives_no_answers(ombruk: Survey) -> None:
    original = (
        "1. Er det behov for en ombruksbutikk i Bærum?\n   A) Ja  B) Nei  C) Vet ikke\n\n"
        "Svar ved å skrive for eksempel:\n   1 A   2 B,C   3 4   4 Sandvika sentrum\n"
    )
    assert parse_answers("Takk!", ombruk, original).answers == {}


def test_numbers_with_a_dash_are_question_numbers_in_a_compact_line(ombruk: Survey) -> None:
    parsed = parse_answers("1A, 2-B,C, 3-4, 4 Høvik", ombruk)
    assert parsed.answers == {"q1": "Ja", "q2": ("Klær", "Sportsutstyr"), "q3": 4, "q4": "Høvik"}


def test_numbered_answers_after_a_lead_in_sentence_are_read(ombruk: Survey) -> None:
    parsed = parse_answers("hei jeg synes det er bra. 1 ja 2 klær 3 4 4 Rud", ombruk)
    assert parsed.answers == {"q1": "Ja", "q2": ("Klær",), "q3": 4, "q4": "Rud"}


def test_a_choice_that_swallowed_other_answers_is_not_recorded_unasked(ombruk: Survey) -> None:
    parsed = parse_answers("1 A, 3-4 2", ombruk)  # where did 3 and 4 go? ask rather than record A alone
    assert "q1" not in parsed.answers or "q1" in parsed.confirm
