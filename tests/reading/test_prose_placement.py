"""Prose answers out of the questions' order, and what in a paragraph is not a text answer (issue 14)."""

from __future__ import annotations

import pytest

from mailbot.campaigns import Survey
from mailbot.config import load_campaign_file
from mailbot.reading import parse_answers
from tests.reading.conftest import DATA


@pytest.fixture(scope="module")
def joy() -> Survey:
    survey = load_campaign_file(DATA / "replies-corpus" / "dev-d" / "surveys" / "hverdagsglede-2025.toml")
    assert isinstance(survey, Survey)
    return survey


def test_a_scale_answered_last_in_a_paragraph_is_the_scale_not_the_free_text(joy: Survey) -> None:
    text = ("Jeg er glad i naturen og tur i skogen. Jeg synes kommunen skal lage flere møteplass for folk. "
            "Ja jeg vil gjerne kurs. Min glede er 8.")
    parsed = parse_answers(text, joy)
    assert parsed.answers.get("glede") == 8 and "glede" in parsed.confirm
    assert "fortell" not in parsed.answers


def test_the_reason_after_an_answer_is_not_a_text_answer(joy: Survey) -> None:
    text = "Glede for meg er 6. Jeg liker trening og natur. Kurs nei takk, jeg jobber mye. Takk"
    parsed = parse_answers(text, joy)
    assert parsed.answers.get("kurs") == "Nei"
    assert "fortell" not in parsed.answers


def test_a_free_text_of_two_sentences_closes_a_one_per_line_reply(joy: Survey) -> None:
    text = "7\nnatur\nmøteplasser\nja\nJeg liker å gå på språkkafe. Der jeg møter nye venner 😊"
    parsed = parse_answers(text, joy)
    assert parsed.answers.get("fortell") == "Jeg liker å gå på språkkafe. Der jeg møter nye venner 😊"
    assert parsed.answers.get("kurs") == "Ja"


def test_answers_before_pages_of_pasted_text_are_still_read(joy: Survey) -> None:
    # Free text is aligned only up to MAX_FREE_CHARS: what a resident types first is what counts.
    pasted = "\n".join(f"Linje {i}: " + "lorem ipsum dolor sit amet, " * 30 for i in range(40))
    parsed = parse_answers("7\nnatur\nmøteplasser\nja\n\n" + pasted, joy)
    assert parsed.answers.get("glede") == 7 and parsed.answers.get("kurs") == "Ja"
