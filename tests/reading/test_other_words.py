"""Options named in other words (issue 14): English and Nynorsk words from equivalents.txt, frequency
phrases, and rejections a resident writes after the thing rejected."""

from __future__ import annotations

import pytest

from mailbot.campaigns import Survey
from mailbot.reading import parse_answers
from mailbot.reading.values import read_value
from mailbot.reading.vocabulary import EQUIVALENTS, fold
from mailbot.reading.words import same_word
from tests.reading.conftest import write_survey


def test_the_words_file_is_read_with_every_line_a_group() -> None:
    cinema = [group for group in EQUIVALENTS if fold("kino") in group]
    assert cinema and fold("cinema") in cinema[0]
    assert not any(fold("#") in group or not group for group in EQUIVALENTS)


def test_english_prose_names_norwegian_options_and_rejects_one_afterwards(culture: Survey) -> None:
    value = read_value("For the house I'd like a cinema, a library and a café - concerts not so much.",
                       culture.question("tilbud"), anchored=False)
    assert set(value.answer or ()) == {"Kino", "Bibliotek", "Kafé"}


def test_a_rejection_after_the_verb_rejects_only_what_its_clause_names(culture: Survey) -> None:
    value = read_value("Jeg bruker kinoen og kafeen, men teater trenger jeg ikke.", culture.question("tilbud"),
                       anchored=False)
    assert set(value.answer or ()) == {"Kino", "Kafé"}


def test_how_often_in_other_words(tmp_path_factory: pytest.TempPathFactory) -> None:
    survey = write_survey(tmp_path_factory, "often-2026", "Hvor ofte", '''
[[questions]]
id = "ofte"
text = "Hvor ofte bruker du biblioteket?"
type = "choice"
options = ["Hver uke", "Hver måned", "Noen ganger i året", "Sjeldnere", "Aldri"]

[[questions]]
id = "hvorfor"
text = "Hvorfor?"
type = "text"
''')
    question = survey.question("ofte")
    said = {
        "Jeg går på noe der omtrent en gang i måneden.": "Hver måned",
        "I go a few times a year, mostly in winter.": "Noen ganger i året",
        "Eg er der kvar veke med ungane.": "Hver uke",
    }
    for text, option in said.items():
        assert read_value(text, question, anchored=False).answer == option, text
    assert parse_answers("Once a week\nDe har gode lydbøker", survey).answers.get("ofte") == "Hver uke"


def test_an_option_named_by_its_piece_or_its_clause_and_a_letter_with_a_hedge(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    survey = write_survey(tmp_path_factory, "kor-2026", "Syng i kor", '''
[[questions]]
id = "syng"
text = "Syng du i kor i dag?"
type = "choice"
options = ["Ja, fast", "Ja, av og til", "Nei, men eg vil gjerne", "Nei"]
''', language="nn")
    question = survey.question("syng")
    said = {
        "Av og til, trur eg": "Ja, av og til",
        "B vil jeg si": "Ja, av og til",
        "Jeg synger ikke i kor nå, men jeg vil gjerne.": "Nei, men eg vil gjerne",
        "Nei, jeg vil ikke": "Nei",
    }
    for text, option in said.items():
        value = read_value(text, question, anchored=True)
        assert value.answer == option, (text, value)


def test_nothing_to_add_is_the_residents_answer_to_a_text_question(culture: Survey) -> None:
    # The labelled sets record "Ingenting spesielt" as the answer it is; "-" and "vet ikke" are no answer.
    parsed = parse_answers("1 Ja\n2 Kino\n6 Ingenting spesielt, jeg er fornøyd 😊", culture)
    assert parsed.answers.get("forslag") == "Ingenting spesielt, jeg er fornøyd 😊"
    assert "forslag" not in parse_answers("1 Ja\n2 Kino\n6 -", culture).answers


def test_folded_words_are_lemmatised_as_the_words_they_were() -> None:
    # "søkte" folds to "sokte", which no lemma list knows; looked up as "søkte" it is "søke".
    assert same_word(fold("søkte"), fold("søke")) == 1.0
    assert same_word(fold("søkje"), fold("søke")) == 1.0  # Nynorsk infinitive
    assert same_word(fold("bøkene"), fold("møbler")) == 0.0


def test_the_last_sentence_of_a_paragraph_that_answered_in_order_is_read_back_as_the_free_text(
        culture: Survey) -> None:
    text = ("Ja, jeg var der i fjor. Jeg går mest på kino. Kommunen bør satse på billigere billetter. "
            "Jeg gir en femmer. Det er for få parkeringsplasser ved kulturhuset.")
    parsed = parse_answers(text, culture)
    assert parsed.answers.get("forslag") == "Det er for få parkeringsplasser ved kulturhuset."
    assert "forslag" in parsed.confirm


def test_the_labels_of_points_written_into_a_scale_question_are_read(tmp_path_factory: pytest.TempPathFactory) -> None:
    survey = write_survey(tmp_path_factory, "svar-2026", "Svar fra kommunen", '''
[[questions]]
id = "svar"
text = "Hvor fornøyd er du? (1 = svært misfornøyd, 2 = misfornøyd, 3 = verken eller, 4 = fornøyd, 5 = svært fornøyd)"
type = "scale"
min = 1
max = 5
''')
    question = survey.question("svar")
    said = {"Svaret var greit, fornøyd vil jeg si.": 4, "Misfornøyd.": 2, "Svært misfornøyd!": 1, "Eg er nøgd.": 4}
    for text, value in said.items():
        assert read_value(text, question, anchored=False).answer == value, text


def test_a_maybe_beside_sure_options_is_read_back_unless_it_depends_on_something(culture: Survey) -> None:
    also = parse_answers("1 Ja\n2 Kino, kafé, kanskje teater også\n4 5", culture)
    assert set(also.answers.get("tilbud") or ()) == {"Kino", "Kafé", "Teater"} and "tilbud" in also.confirm
    depends = parse_answers("1 Ja\n2 Kino og kanskje teater, hvis det er noe for barn\n4 5", culture)
    assert "tilbud" not in depends.answers and "tilbud" in depends.unsure
    preferred = read_value("Jeg vil helst ha kino og kafé", culture.question("tilbud"), anchored=True)
    assert set(preferred.answer or ()) == {"Kino", "Kafé"}


def test_the_first_part_of_a_compound_option_is_a_weaker_sign_of_it() -> None:
    assert same_word(fold("kultur"), fold("kulturtilbud")) == 0.75
    assert same_word(fold("kulturhuset"), fold("kulturtilbud")) == 0.75
    assert same_word(fold("kulturtilbudet"), fold("kulturtilbud")) == 1.0
    assert same_word(fold("kul"), fold("kulturtilbud")) == 0.0


def test_a_sentence_that_fits_the_next_question_goes_there_not_to_the_list_before(culture: Survey) -> None:
    text = "Ja, jeg har vært der. Jeg liker kinoen og kafeen. Det trengs mer konserter for barn."
    parsed = parse_answers(text, culture)
    assert set(parsed.answers.get("tilbud") or ()) == {"Kino", "Kafé"}
    assert parsed.answers.get("satsing") == "Flere konserter for barn"


def test_other_with_what_it_was_and_letters_in_a_sentence(tmp_path_factory: pytest.TempPathFactory) -> None:
    survey = write_survey(tmp_path_factory, "hvorfor-2026", "Hvorfor", '''
[[questions]]
id = "grunn"
text = "Hvorfor var du på kommunens nettsider sist?"
type = "choice"
options = ["Søke om noe", "Lese nyheter", "Finne åpningstider", "Annet"]

[[questions]]
id = "enhet"
text = "Hva brukte du?"
type = "multi"
options = ["Mobil", "PC", "Nettbrett"]
''')
    why = survey.question("grunn")
    assert read_value("Annet – las sakspapira til kommunestyremøtet", why, anchored=True).answer == "Annet"
    assert read_value("Eg ville finne ut når biblioteket opnar, så C vil eg tru.", why,
                      anchored=False).answer == "Finne åpningstider"
    assert read_value("D – ingenting av dette passet", why, anchored=True).answer == "Annet"
    # "alt er bare på norsk" is about the pages, not every device
    devices = survey.question("enhet")
    assert read_value("alt er bare på norsk, vanskelig for meg", devices, anchored=False).answer is None


def test_a_conceded_option_is_not_the_answer_and_none_is_the_option_that_says_not(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    survey = write_survey(tmp_path_factory, "batteri-2026", "Batterier", '''
[[questions]]
id = "hvor"
text = "Hvor leverer du brukte batterier?"
type = "choice"
options = ["I butikken", "På gjenvinningsstasjonen", "Miljøbilen", "Leverer ikke"]
''')
    where = survey.question("hvor")
    conceded = read_value("B, selv om jeg av og til leverer i butikken", where, anchored=True)
    assert conceded.answer == "På gjenvinningsstasjonen"
    none = read_value("ingen av dei, dei hamnar i skuffa", where, anchored=True)
    assert none.answer == "Leverer ikke" and none.confidence < 0.9  # read back, not recorded at once


def test_the_main_one_of_several_and_a_numbered_line_cut_only_at_its_own_numbers(culture: Survey) -> None:
    travel = culture.question("reise")
    mostly = read_value("Sykkel om sommeren, buss om vinteren, men mest sykkel", travel, anchored=True)
    assert mostly.answer == "Sykkel" and mostly.confidence < 0.9
    assert read_value("Om jeg må velge: bil. Men jeg går mye også.", travel, anchored=True).answer == "Bil"
    assert read_value("Bil og buss", travel, anchored=True).unclear
    parsed = parse_answers("1. Ja\n4. 4, kanskje 5 om sommeren\n6. Flere benker", culture)
    assert "fornoyd" in parsed.unsure  # two values for question 4; "5 om sommeren" is not question 5
    assert "reise" not in parsed.answers and "reise" not in parsed.unsure


def test_a_nested_option_is_named_by_its_own_words_and_the_longer_one_by_its_extra_word(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    survey = write_survey(tmp_path_factory, "drikkevatn-2026", "Drikkevatn", '''
[[questions]]
id = "drikk"
text = "Kva drikk du oftast heime?"
type = "choice"
options = ["Vatn frå springen", "Flaskevatn", "Filtrert vatn frå springen", "Anna"]

[[questions]]
id = "innspel"
text = "Har du andre innspel?"
type = "text"
required = false
''', language="nn")
    assert read_value("fra springen", survey.questions[0]).answer == "Vatn frå springen"
    assert read_value("filtrert fra springen", survey.questions[0]).answer == "Filtrert vatn frå springen"
    assert parse_answers("1 fra springen\n2 Nei takk", survey).answers == {"drikk": "Vatn frå springen"}
