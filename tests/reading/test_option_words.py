"""Options named by other words than their own: a piece of the option, its English or Nynorsk word,
"don't know" typed with an apostrophe, and options rejected in passing (issue 14)."""

from __future__ import annotations

import pytest

from mailbot.campaigns import Survey
from mailbot.config import load_campaign_file
from mailbot.reading import parse_answers
from tests.reading.conftest import DATA

SETS = DATA / "replies-corpus"


def _survey(folder: str, survey_id: str) -> Survey:
    survey = load_campaign_file(SETS / folder / "surveys" / f"{survey_id}.toml")
    assert isinstance(survey, Survey)
    return survey


@pytest.fixture(scope="module")
def glass() -> Survey:
    return _survey("dev-a", "glass-metall-2022")


@pytest.fixture(scope="module")
def ageing() -> Survey:
    return _survey("dev-b", "aldersvennlig-2021")


def test_the_distinct_word_of_a_yes_option_names_it(glass: Survey) -> None:
    assert parse_answers("1 Always\n2 C", glass).answers["sorts"] == "Ja, alltid"
    assert parse_answers("1 sometimes\n2 C", glass).answers["sorts"] == "Ja, av og til"


def test_dont_know_with_an_apostrophe_is_the_dont_know_option(glass: Survey) -> None:
    assert parse_answers("4. Don't know", glass).answers["home_bin"] == "Vet ikke"
    assert parse_answers("4. Don’t know", glass).answers["home_bin"] == "Vet ikke"


def test_a_bare_not_is_not_the_dont_know_option(glass: Survey) -> None:
    answers = parse_answers("3. 1 - det er 4 km og jeg har ikke bil lenger\n4. Ja", glass).answers
    assert answers.get("home_bin") == "Ja"


def test_english_words_for_pieces_of_options_and_a_rejection_in_passing(ageing: Survey) -> None:
    text = "2. I'd pick good lighting and benches, not so much meeting places."
    assert parse_answers(text, ageing).answers["neighbourhood"] == ("Benker og hvileplasser", "God belysning")


def test_a_word_that_looks_like_an_english_synonym_names_nothing(ageing: Survey) -> None:
    # "ligger" is two letters from "lighting", an English word for "belysning": not a typo of it.
    text = "2. benker, og en butikk som ligger nærmere"
    assert parse_answers(text, ageing).answers["neighbourhood"] == ("Benker og hvileplasser", "Butikk i nærheten")


def test_an_option_named_out_of_order_in_prose_is_read_back_not_recorded(ageing: Survey) -> None:
    text = ("Jeg kjører ikke bil lenger, så det blir bussen det meste. Det er svært viktig for meg å bo her. "
            "Det jeg savner mest i nærmiljøet er benker.")
    parsed = parse_answers(text, ageing)
    assert parsed.answers.get("transport") == "Buss eller bane"
    assert "transport" in parsed.confirm


@pytest.fixture(scope="module")
def participation() -> Survey:
    return _survey("dev-c", "medvirkning-2024")


@pytest.fixture(scope="module")
def web_pages() -> Survey:
    return _survey("dev-c", "nettsider-2025")


def test_an_option_that_says_not_is_named_by_a_sentence_that_says_not(participation: Survey) -> None:
    assert parse_answers("4. jeg har rett og slett ikke tid med småbarn", participation).answers["barrier"] \
        == "Har ikke tid"
    assert parse_answers("4. møtetidene passer ikke for meg", participation).answers["barrier"] \
        == "Møtetidspunktene passer ikke"
    assert "barrier" not in parse_answers("4. jeg har god tid", participation).answers


def test_a_word_two_options_share_is_the_one_it_stands_alone_in(web_pages: Survey) -> None:
    # "PC" is "PC eller Mac"; "Jobb-PC" needs its first word.
    assert parse_answers("3. PC + mobil", web_pages).answers["devices"] == ("Mobil", "PC eller Mac")
    assert parse_answers("3. jobb-pc og mobil", web_pages).answers["devices"] == ("Mobil", "Jobb-PC")


def test_a_dice_grade_on_a_ten_point_scale_is_asked_about(participation: Survey) -> None:
    parsed = parse_answers("1 Nei 2 E-post 3 terningkast fire 4 B 5 2", participation)
    assert "heard" not in parsed.answers and "heard" in parsed.unsure
    assert parsed.answers["feedback"] == 2


def test_a_later_change_of_a_numbered_answer_replaces_it(participation: Survey) -> None:
    text = "1. Yes\n2. A, C\n3. 7\n4. A\n5. 4\n\nActually, make that 3 for question 3 - they didn't listen much."
    assert parse_answers(text, participation).answers["heard"] == 3


def test_a_change_of_mind_not_understood_sends_every_answer_back_to_the_resident(participation: Survey) -> None:
    text = "1. Ja\n2. A\n3. 7\n4. A\n5. 4\n\nForresten, jeg har ombestemt meg på en av dem."
    parsed = parse_answers(text, participation)
    assert parsed.answers and set(parsed.confirm) == set(parsed.answers)


def test_an_option_tried_but_rejected_after_men_is_left_out(participation: Survey) -> None:
    text = ("2. Jeg foretrekker folkemøter og åpen kontordag. Innspillkart har jeg prøvd, men det er ikke noe for meg.")
    assert parse_answers(text, participation).answers["channels"] == ("Folkemøter", "Åpen kontordag")


def test_a_correction_after_unnumbered_lines_replaces_its_answer(web_pages: Survey) -> None:
    text = ("Søke om noe\n5\niPad og mobil\nFlere skjemaer uten BankID\n\n"
            "Beklager, på nr 2 skulle det stått 4, ikke 5.")
    parsed = parse_answers(text, web_pages)
    assert parsed.answers["grade"] == 4
    assert parsed.answers["devices"] == ("Mobil", "Nettbrett")
    assert parsed.answers["improve"] == "Flere skjemaer uten BankID"


def test_a_corrected_dont_know_keeps_its_not(participation: Survey) -> None:
    text = "1. Ja\n2. A\n3. 7\n4. A\n5. 4\n\nNei vent, på nr 1 mener jeg Nei."
    assert parse_answers(text, participation).answers["attended"] == "Nei"
