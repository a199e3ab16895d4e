"""Answers said in the resident's own sentence (issue 14): a yes/no question answered by saying its subject
with or without a "not", an option that says something is missing named by "ikke"/"ingen", and "alt"
that means every thing on the list (or nothing of the kind: "alt i alt")."""

from __future__ import annotations

import pytest

from mailbot.campaigns import Question, QuestionType, Survey
from mailbot.reading import parse_answers
from mailbot.reading.answers import SURE
from mailbot.reading.values import read_value
from tests.reading.conftest import write_survey

GARDEN = '''
[[questions]]
id = "hage"
text = "Har du egen hage eller tomt med hageavfall?"
type = "choice"
options = ["Ja", "Nei"]

[[questions]]
id = "kompost"
text = "Kunne du tenke deg å kompostere hageavfallet selv?"
type = "choice"
options = ["Ja", "Nei", "Vet ikke"]

[[questions]]
id = "vanskelig"
text = "Hva gjør det vanskelig å bli kvitt hageavfallet? Velg gjerne flere."
type = "multi"
options = ["Det mangler gjenvinningsstasjon i nærheten", "For få hentedager", "Greiner blir ikke hentet", "Annet"]

[[questions]]
id = "fornoyd"
text = "Hvor fornøyd er du med hentingen av hageavfall?"
type = "scale"
min = 1
max = 5
min_label = "Svært misfornøyd"
max_label = "Svært fornøyd"
'''


IDEA = Question(id="ide", number=5, text="Har du andre innspill om hageavfall?", type=QuestionType.TEXT)


@pytest.fixture(scope="module")
def garden(tmp_path_factory: pytest.TempPathFactory) -> Survey:
    return write_survey(tmp_path_factory, "hageavfall-2026", "Hageavfall", GARDEN)


@pytest.mark.parametrize(("text", "answer"), [
    ("Vi har ikke hage, vi bor i blokk på Fornebu.", "Nei"),
    ("We do have a garden, quite a big one.", "Ja"),
    ("Ingen hage her, bare en liten balkong.", "Nei"),
    ("Vi har hatt hage på Bekkestua i tretti år.", "Ja"),
])
def test_a_yes_no_question_answered_by_saying_its_subject(garden: Survey, text: str, answer: str) -> None:
    value = read_value(text, garden.question("hage"), anchored=False)
    assert value.answer == answer, text
    assert value.confidence < SURE  # said, not ticked: read back to the resident before it is recorded


@pytest.mark.parametrize("text", [
    "I'd like to know what happens to the garden waste afterwards.",  # the subject, but no yes or no
    "Hage? Det har jeg lurt på.",  # asks
    "Så vi har jo en tomt, men jeg vet ikke om det blir noe hageavfall.",  # does not know
    "Kommunen burde hente oftere.",  # the panel's own subject, in every question
])
def test_a_sentence_that_only_touches_the_subject_is_no_yes_or_no(garden: Survey, text: str) -> None:
    value = read_value(text, garden.question("hage"), anchored=False)
    assert value.answer not in ("Ja", "Nei"), text


def test_a_modal_jo_inside_a_sentence_is_not_a_yes(garden: Survey) -> None:
    value = read_value("Vi bor i leilighet, så vi har jo ikke noe hage.", garden.question("hage"), anchored=False)
    assert value.answer == "Nei"


def test_an_option_that_says_something_is_missing_is_named_by_a_not(garden: Survey) -> None:
    question = garden.question("vanskelig")
    value = read_value("Det finnes ingen gjenvinningsstasjon i nærheten, og greinene blir liggende.", question,
                       anchored=False)
    assert set(value.answer or ()) == {"Det mangler gjenvinningsstasjon i nærheten", "Greiner blir ikke hentet"}
    # what comes before an option's own "not" names it without one; what comes after it needs one
    assert read_value("Greiner", question, anchored=True).answer == ("Greiner blir ikke hentet",)


def test_everything_is_every_thing_on_the_list_and_all_in_all_is_not_everything(garden: Survey) -> None:
    question = garden.question("vanskelig")
    value = read_value("Alt unntatt hentedagene", question, anchored=True)
    assert value.answer == ("Det mangler gjenvinningsstasjon i nærheten", "Greiner blir ikke hentet")  # not "Annet"
    assert read_value("Alt i alt er jeg fornøyd, 4.", question, anchored=False).answer is None
    reply = parse_answers("Vi har ikke hage.\nAlle sammen\nAlt i alt fornøyd, en firer.", garden)
    assert reply.answers.get("fornoyd") == 4
    assert reply.answers.get("hage") == "Nei"


def _mail(subject: str, body: str) -> bytes:
    from email.message import EmailMessage
    msg = EmailMessage()
    msg["From"] = "Kari Nordmann <kari@example.no>"
    msg["To"] = "innbyggerpanel@baerum.example.no"
    msg["Subject"] = subject
    msg["Date"] = "Tue, 03 Feb 2026 10:00:00 +0100"
    msg.set_content(body)
    return bytes(msg)


def test_answers_typed_in_the_subject_line_are_read(garden: Survey) -> None:
    from mailbot.reading import Route, read_message
    quote = "\n\n> Hei Kari,\n> 1. Har du egen hage eller tomt med hageavfall?\n"
    reading = read_message(_mail("SV: Hageavfall - 1A 2B 3 B,C 4 4", "Sendt fra min iPhone" + quote), garden)
    assert reading.answers == {"hage": "Ja", "kompost": "Nei", "vanskelig": ("For få hentedager",
                               "Greiner blir ikke hentet"), "fornoyd": 4}
    bare = read_message(_mail("SV: Hageavfall", "Takk!" + quote), garden)
    assert not bare.answers and bare.route is Route.HUMAN  # the subject is only the title: nothing read there


def test_a_reply_that_answers_and_then_leaves_keeps_its_answers_and_no_free_text_from_the_farewell(
        garden: Survey) -> None:
    from mailbot.reading import read_message
    body = ("Ja, vi har hage. Kompostere selv? Nei. Med hentingen er jeg middels fornøyd, 3.\n\n"
            "Dette er siste gangen jeg svarer. Dere kan melde meg ut av panelet etter denne, jeg flytter til Voss.\n")
    reading = read_message(_mail("SV: Hageavfall", body), garden)
    assert reading.command == "unsubscribe"
    assert reading.answers.get("hage") == "Ja" and reading.answers.get("fornoyd") == 3
    assert not any("siste" in str(v) for v in reading.answers.values())
    stop = read_message(_mail("SV: Hageavfall", "STOPP\n\nHilsen Kari"), garden)
    assert stop.command == "unsubscribe" and not stop.answers


def test_a_numbered_answer_after_a_lead_in_and_a_lone_list_mark_before_a_free_text(garden: Survey) -> None:
    reply = parse_answers("Berre svar på 4: 2. Resten passar ikkje for meg.", garden)
    assert reply.answers == {"fornoyd": 2}
    text = IDEA
    assert read_value("* Hent greiner oftere om våren!", text, anchored=True).answer == "Hent greiner oftere om våren!"
    listed = "- greiner\n- løv"
    assert read_value(listed, text, anchored=True).answer == listed  # a list of the resident's own is as written


def test_leaving_said_in_nynorsk_passive_is_a_command() -> None:
    from mailbot.reading.intents import UNSUBSCRIBE
    from mailbot.reading.vocabulary import fold
    assert UNSUBSCRIBE.search(fold("Og så vil eg gjerne meldast ut av panelet etter denne."))
    assert not UNSUBSCRIBE.search(fold("Eg meldte frå om hullet i vegen i fjor."))
    assert not UNSUBSCRIBE.search(fold("Det meldes regn hele helga, så jeg svarer senere."))


def test_a_thing_put_first_and_denied_after_the_verb_is_rejected(culture: Survey) -> None:
    question = culture.question("tilbud")
    value = read_value("Kino går jeg på hver måned. Teater har jeg aldri likt.", question, anchored=False)
    assert value.answer == ("Kino",)
    value = read_value("Jeg vil ha kafé, men kino trenger jeg ikke.", question, anchored=False)
    assert value.answer == ("Kafé",)


def test_a_grade_written_with_digits_and_nearly_never(tmp_path_factory: pytest.TempPathFactory,
                                                      garden: Survey) -> None:
    assert read_value("Helt ok, kanskje en 4'er.", garden.question("fornoyd"), anchored=False).answer == 4
    often = write_survey(tmp_path_factory, "ofte-2026", "Hvor ofte", '''
[[questions]]
id = "ofte"
text = "Hvor ofte leverer du hageavfall?"
type = "choice"
options = ["Daglig eller nesten daglig", "Hver uke", "Sjeldnere eller aldri"]
''')
    assert read_value("Nesten aldri", often.question("ofte"), anchored=True).answer == "Sjeldnere eller aldri"


def test_a_promise_to_answer_later_is_no_answer(garden: Survey) -> None:
    from mailbot.reading.units import is_chatter
    assert is_chatter("Takk, jeg svarer i helgen! 😊")
    assert is_chatter("I'll answer later this week, sorry")
    assert not is_chatter("Jeg svarer Ja på den første")
    assert parse_answers("Takk, jeg svarer i helgen! 😊", garden).answers == {}


def test_a_visit_said_is_a_yes(tmp_path_factory: pytest.TempPathFactory) -> None:
    survey = write_survey(tmp_path_factory, "fornebu-2026", "Biblioteket", '''
[[questions]]
id = "besok"
text = "Har du besøkt det nye biblioteket på Fornebu?"
type = "choice"
options = ["Ja", "Nei"]
''')
    question = survey.question("besok")
    assert read_value("Var innom biblioteket på Fornebu i februar, flott bygg!", question,
                      anchored=False).answer == "Ja"
    assert read_value("Har ikke vært på Fornebu enda.", question, anchored=False).answer == "Nei"


def test_one_grade_in_a_sentence_answers_one_scale_and_a_doubtful_grade_is_no_free_text(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    survey = write_survey(tmp_path_factory, "stasjon-2026", "Stasjonen", '''
[[questions]]
id = "stasjon"
text = "Hvilket terningkast gir du parkeringen ved stasjonen?"
type = "scale"
min = 1
max = 6

[[questions]]
id = "fornoyd"
text = "Hvor fornøyd er du alt i alt, fra 0 til 10?"
type = "scale"
min = 0
max = 10

[[questions]]
id = "innspill"
text = "Har du andre innspill?"
type = "text"
required = false
''')
    reply = parse_answers("Eg gjev stasjonsparkeringa ein firar. Nøgd alt i alt? Tja, ein femmar.", survey)
    assert reply.answers.get("stasjon") == 4 and reply.answers.get("fornoyd") == 5
    doubt = parse_answers("Terningkast 3.\n6 eller 7", survey)
    assert "innspill" not in doubt.answers and "fornoyd" not in doubt.answers


def test_the_last_thing_wanted_is_rejected_and_driving_less_is_no_not(culture: Survey,
                                                                      garden: Survey) -> None:
    value = read_value("Teater er det siste jeg vil ha, men kino hadde vært fint.", culture.question("tilbud"),
                       anchored=False)
    assert value.answer == ("Kino",)
    value = read_value("Det som ville fått meg til å levere mindre er flere hentedager.",
                       garden.question("vanskelig"), anchored=False)
    assert value.answer == ("For få hentedager",)


ACTIVITY = '''
[[questions]]
id = "often"
text = "How often do you go to the activity centre at Bekkestua?"
type = "choice"
options = ["Every week", "Now and then", "Never"]

[[questions]]
id = "wanted"
text = "Which activities would you like the centre to offer? Choose as many as you like."
type = "multi"
options = ["Exercise classes", "Shared meals", "Computer and phone help", "Trips and outings"]

[[questions]]
id = "easy"
text = "How easy is it to find out what is on?"
type = "scale"
min = 1
max = 5

[[questions]]
id = "else"
text = "Is there anything else the centre should do?"
type = "text"
required = false
'''


@pytest.fixture(scope="module")
def activity(tmp_path_factory: pytest.TempPathFactory) -> Survey:
    return write_survey(tmp_path_factory, "activity-2026", "The activity centre", ACTIVITY, language="en")


def test_norwegian_words_for_the_options_of_an_english_survey(activity: Survey) -> None:
    value = read_value("Eg vil gjerne ha felles middag og datahjelp, og nokre utflukter.", activity.question("wanted"),
                       anchored=False)
    assert value.answer == ("Shared meals", "Computer and phone help", "Trips and outings")


def test_two_options_not_decided_between_are_asked_about(activity: Survey) -> None:
    reply = parse_answers("1: now and then\n2: B or D, can't decide\n3: somewhere in the middle", activity)
    assert reply.answers == {"often": "Now and then", "easy": 3}
    assert "wanted" in reply.unsure


def test_only_the_last_question_answered_and_a_grade_not_known(activity: Survey) -> None:
    reply = parse_answers("Just the last question from me: please offer meals at the weekend too.", activity)
    assert reply.answers == {"else": "please offer meals at the weekend too."}
    reply = parse_answers("1. Every week\n3. vet ikke, har aldri sett noe", activity)
    assert reply.answers == {"often": "Every week"} and "easy" in reply.skipped and not reply.unsure


@pytest.mark.parametrize(("text", "grade"), [
    ("Jeg er fornøyd med hentingen.", 4),  # one step below "Svært fornøyd"
    ("Der er jeg misfornøyd.", 2),
    ("Fornøyd, men ikke svært fornøyd.", 4),
    ("Middels fornøyd, egentlig.", 3),
    ("Vanskelig å si, sånn 3 kanskje", 3),
])
def test_a_scale_label_said_without_its_very(garden: Survey, text: str, grade: int) -> None:
    assert read_value(text, garden.question("fornoyd"), anchored=True).answer == grade, text


def test_a_bare_label_on_a_long_scale_is_no_one_point(tmp_path_factory: pytest.TempPathFactory) -> None:
    survey = write_survey(tmp_path_factory, "lett-2026", "Lett", '''
[[questions]]
id = "lett"
text = "Hvor lett er det å forstå brevene fra kommunen?"
type = "scale"
min = 1
max = 7
min_label = "Svært vanskelig"
max_label = "Svært lett"

[[questions]]
id = "viktig"
text = "How important is it that there are benches along the paths?"
type = "scale"
min = 1
max = 5
min_label = "Not important"
max_label = "Very important"
''')
    assert read_value("lett", survey.question("lett"), anchored=True).answer is None
    assert read_value("Benches are extremely important where I live (5).", survey.question("viktig"),
                      anchored=True).answer == 5


def test_the_line_before_answers_numbered_from_two_answers_the_first(garden: Survey) -> None:
    reply = parse_answers("Alt sammen unntatt greinene, de henter dere fint.\n4: 2\n", garden)
    assert reply.answers.get("vanskelig") == ("Det mangler gjenvinningsstasjon i nærheten", "For få hentedager")
    assert reply.answers.get("fornoyd") == 2
    assert "vanskelig" in reply.confirm  # placed by where it stands: read back first


def test_not_and_the_thing_rejects_an_option_that_says_it_is_missing(garden: Survey) -> None:
    question = garden.question("vanskelig")
    value = read_value("Ikke gjenvinningsstasjonen, den har vi nok av. Men B!! Hentedagene er for få.", question,
                       anchored=False)
    assert value.answer == ("For få hentedager",)


def test_a_compound_that_starts_with_an_options_own_word_names_it(tmp_path_factory: pytest.TempPathFactory) -> None:
    survey = write_survey(tmp_path_factory, "skolevei-test", "Skoleveien", '''
[[questions]]
id = "utrygt"
text = "Hva gjør skoleveien utrygg?"
type = "multi"
options = ["Foreldre som kjører barna helt fram", "For lite lys", "Biler som kjører fort"]
''')
    value = read_value("Alt unntatt foreldrekjøringen, den er grei hos oss.", survey.question("utrygt"), anchored=True)
    assert value.answer == ("For lite lys", "Biler som kjører fort")


def test_a_short_form_of_the_senders_name_signs_the_reply(activity: Survey) -> None:
    reply = parse_answers("1. Every week\n4. More trips in spring, please.\n\nCheers,\nDan", activity,
                          signer="Daniel Whitfield")
    assert reply.answers == {"often": "Every week", "else": "More trips in spring, please."}


def test_fine_enough_is_no_obstacle_and_english_contractions_say_no(tmp_path_factory: pytest.TempPathFactory) -> None:
    survey = write_survey(tmp_path_factory, "buss-test", "Bussen", '''
[[questions]]
id = "hinder"
text = "Hva gjør at du ikke tar bussen oftere?"
type = "multi"
options = ["Bussen går for sjelden", "Billettene er for dyre", "Bussen er ofte forsinket"]

[[questions]]
id = "fornebu"
text = "Har du besøkt det nye biblioteket på Fornebu?"
type = "choice"
options = ["Ja", "Nei"]
''')
    value = read_value("Den er ofte forsinket, billettprisen er grei nok.", survey.question("hinder"), anchored=False)
    assert value.answer == ("Bussen er ofte forsinket",)
    said = read_value("I haven't been to the new library at Fornebu yet.", survey.question("fornebu"), anchored=False)
    assert said.answer == "Nei"
    reply = parse_answers("1. B\n2. No\n\nActually for 2 it should be yes, I was at Fornebu once.", survey)
    assert reply.answers.get("fornebu") == "Ja"


def test_a_phone_number_an_apology_and_an_otherwise_are_no_free_text(activity: Survey) -> None:
    text = "1. Av og til\n4. Ellers: meir musikk og song!\n\nBeklager dårlig norsk.\nKari\nTlf 67 54 32 10"
    reply = parse_answers(text, activity, signer="Kari Nordmann")
    assert reply.answers == {"often": "Now and then", "else": "meir musikk og song!"}


def test_nynorsk_now_is_no_no(tmp_path_factory: pytest.TempPathFactory) -> None:
    survey = write_survey(tmp_path_factory, "prioritet-test", "Bussen", '''
[[questions]]
id = "prioritet"
text = "Kva bør kommunen prioritere fram til banen opnar?"
type = "choice"
options = ["Fleire avgangar på dei store linjene", "Betre overgang til toget på Lysaker"]

[[questions]]
id = "bil"
text = "Har du bil?"
type = "choice"
options = ["Ja", "Nei"]
''', language="nn")
    value = read_value("Viktigast no er betre overgang til toget på Lysaker.", survey.question("prioritet"),
                       anchored=False)
    assert value.answer == "Betre overgang til toget på Lysaker"
    assert read_value("Eg har bil no.", survey.question("bil"), anchored=False).answer == "Ja"


WATER = '''
[[questions]]
id = "kvalitet"
text = "Kor nøgd er du med kvaliteten på drikkevatnet?"
type = "scale"
min = 1
max = 5

[[questions]]
id = "trykk"
text = "Kor nøgd er du med vasstrykket i springen?"
type = "scale"
min = 1
max = 5

[[questions]]
id = "flaum"
text = "Har du hatt vatn i kjellaren etter kraftig regn dei siste fem åra?"
type = "choice"
options = ["Ja", "Nei", "Veit ikkje"]

[[questions]]
id = "regnbed"
text = "Kunne du tenkje deg å lage regnbed på eigen tomt?"
type = "choice"
options = ["Ja", "Nei"]
'''


def test_a_grade_said_for_a_named_scale_and_a_yes_in_doubt_are_read_in_order(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    survey = write_survey(tmp_path_factory, "vatn-test", "Vatn", WATER, language="nn")
    reply = parse_answers("Trur eg vil seie 3 på den fyrste.\n4 kanskje, på trykket.\n"
                          "Vi hadde vatn i kjellaren i fjor, men eg veit ikkje om det var regnet.\nNei.", survey)
    assert reply.answers == {"kvalitet": 3, "trykk": 4, "regnbed": "Nei"}
    assert "flaum" in reply.unsure  # water in the cellar, but maybe not from rain: asked, not "Veit ikkje"


def test_answers_run_into_their_numbers_in_a_row(tmp_path_factory: pytest.TempPathFactory) -> None:
    survey = write_survey(tmp_path_factory, "vatn-run", "Vatn", WATER, language="nn")
    assert parse_answers("14 23 3a 4b", survey).answers == {"kvalitet": 4, "trykk": 3, "flaum": "Ja", "regnbed": "Nei"}
    assert parse_answers("Ring meg på 12 25 36 47", survey).answers == {}
