"""What a survey email says, in every language, as the resident's client shows it."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from mailbot import compose
from mailbot.compose import MARKERS, Templates
from mailbot.reading.quotes import REPLY_ABOVE_MARKER
from tests.compose import make

TEMPLATES = Templates()


def survey_email(step="invitation", recipient=None, s=None, templates=TEMPLATES, lnk=None):
    s = s or make.survey()
    return compose.survey_email(s, step, recipient or make.member(), lnk or make.links(s), make.sender(),
                                make.panel(), templates, make.NOW)


def test_the_reply_marker_is_the_first_line_of_the_text_in_every_language():
    for lang in ("nb", "nn", "en"):
        body = make.plain(survey_email(recipient=make.member(language=lang)))
        first = body.splitlines()[0]
        assert first == MARKERS[lang]
        assert REPLY_ABOVE_MARKER.search(first), "the reply reader must recognise the marker"


def test_the_example_answer_is_made_from_this_surveys_questions():
    body = make.plain(survey_email())
    assert "Svar ved å skrive for eksempel: 1 A   2 B,C   3 4   4 med egne ord" in body
    other = make.survey(make.text("idea", 1, "Hva bør kommunen gjøre?"),
                        make.scale("score", 2, "Hvor viktig er det?", 0, 10),
                        make.choice("yes", 3, "Vil du delta?", "Ja", "Nei"),
                        make.choice("when", 4, "Når passer det?", "Morgen", "Kveld", "Helg"))
    body = make.plain(survey_email(s=other))
    assert "Svar ved å skrive for eksempel: 1 med egne ord   2 9   3 A   4 B" in body


def test_questions_are_numbered_with_options_scale_and_multi_hints():
    body = make.plain(survey_email())
    assert "1. Er det behov for en ombruksbutikk i Bærum?\n   A) Ja  B) Nei  C) Vet ikke\n" in body
    assert "2. Hva ville du levert der? (velg én eller flere)\n   A) Møbler  B) Klær  C) Sportsutstyr\n" \
        in body
    assert "3. Hvor fornøyd er du med dagens ordning? (1–5, 1 = svært misfornøyd, 5 = svært fornøyd)" in body
    assert "4. Hvor i Bærum bør butikken ligge? (svar med egne ord)" in body


def test_the_close_date_is_written_the_way_each_language_writes_it():
    assert "stenger torsdag 15. desember kl. 23.59." in make.plain(survey_email())
    nn, en = (make.plain(survey_email(recipient=make.member(language=lang))) for lang in ("nn", "en"))
    assert "stengjer torsdag 15. desember kl. 23.59." in nn
    assert "closes on Thursday 15 December at 23:59." in en


def test_a_reminder_says_so_in_the_subject():
    nb = survey_email("reminder-2")
    assert make.parse(nb)["Subject"] == "Påminnelse: Behov for en ombruksbutikk i Bærum"
    en = survey_email("reminder-1", recipient=make.member(language="en"))
    assert make.parse(en)["Subject"] == "Reminder: Behov for en ombruksbutikk i Bærum"


@pytest.mark.parametrize("step", ["reminder", "reminder-0", "påminnelse-1", ""])
def test_an_unknown_step_is_refused(step):
    with pytest.raises(ValueError, match="unknown survey step"):
        survey_email(step)


def test_aeoeaa_survive_in_the_subject_and_both_bodies_of_the_bytes():
    m = make.parse(survey_email(recipient=make.member(name="Ørjan Æsøy")))
    assert m["Subject"] == "Behov for en ombruksbutikk i Bærum"
    assert "Hei Ørjan Æsøy," in make.plain(survey_email(recipient=make.member(name="Ørjan Æsøy")))
    page = unescape(make.html(survey_email(recipient=make.member(name="Ørjan Æsøy"))))
    assert "Hei Ørjan Æsøy," in page and "Hvor fornøyd er du" in page


def test_a_member_without_a_name_gets_a_neutral_greeting():
    body = make.plain(survey_email(recipient=make.member(name=None)))
    assert "\nHei,\n" in body
    assert "Hello," in make.plain(survey_email(recipient=make.member(name="", language="en")))


def test_the_html_has_a_one_click_button_for_every_option_of_choice_and_scale_questions():
    s = make.survey()
    lnk = make.links(s)
    page = make.html(survey_email(s=s, lnk=lnk))
    for (qid, value), url in lnk.answer_urls.items():
        assert f'href="{url}"' in page, (qid, value)
    assert len(lnk.answer_urls) == 3 + 5
    assert page.count('class="button"') == 8
    assert f'href="{lnk.form_url}"' in page
    assert f'href="{lnk.unsubscribe_url}"' in page


def test_buttons_are_at_least_44_pixels_for_a_thumb():
    page = make.html(survey_email())
    for style in re.findall(r'class="button"[^>]*style="([^"]*)"', page):
        assert "min-height: 44px" in style and "min-width: 44px" in style


def test_each_member_gets_their_own_name_and_links_from_the_shared_render():
    s = make.survey()
    a = survey_email(s=s, recipient=make.member(name="Anne"), lnk=make.links(s, token="aaa"))
    b = survey_email(s=s, recipient=make.member(name="Bjørn"), lnk=make.links(s, token="bbb"))
    assert "Hei Anne," in make.plain(a) and "/svar/aaa" in make.plain(a)
    assert "Bjørn" not in make.plain(a) + unescape(make.html(a)) and "/svar/bbb" not in make.html(a)
    assert "Hei Bjørn," in make.plain(b) and "/svar/bbb/need/Ja" in make.html(b)


def test_a_members_name_is_escaped_in_html_and_kept_as_written_in_text():
    name = '<b>Kari</b> & "Ola"'
    msg = survey_email(recipient=make.member(name=name))
    assert "<b>Kari</b>" not in make.html(msg)
    assert "&lt;b&gt;Kari&lt;/b&gt; &amp;" in make.html(msg)
    assert f"Hei {name}," in make.plain(msg)


def test_the_html_layout_is_accessible_and_fits_a_phone():
    page = make.html(survey_email())
    assert '<html lang="nb"' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert 'name="color-scheme" content="light dark"' in page and "prefers-color-scheme: dark" in page
    assert re.search(r"<h1[^>]*>Behov for en ombruksbutikk", unescape(page))
    assert all('role="presentation"' in t for t in re.findall(r"<table[^>]*>", page))
    assert "max-width: 600px" in page
    assert "<script" not in page and "<svg" not in page and "<img" not in page
    assert '<html lang="en"' in make.html(survey_email(recipient=make.member(language="en")))


def test_css_is_inlined_so_clients_without_style_sheets_still_get_it():
    page = make.html(survey_email())
    assert re.search(r'<a class="button"[^>]*style="[^"]*background-color: #0a5ca8', page)
    assert ".button {" not in page  # only media queries stay in <style>


def test_an_unknown_language_falls_back_to_the_panels_language():
    body = make.plain(survey_email(recipient=make.member(language="de")))
    assert body.startswith(MARKERS["nb"])


def test_a_staff_template_that_changes_a_members_value_still_gets_each_members_value(tmp_path: Path):
    (tmp_path / "nb").mkdir()
    builtin = (compose.BUILTIN_DIR / "emails" / "survey.txt").read_text()
    (tmp_path / "nb" / "survey.txt").write_text(builtin.replace("recipient_name=recipient.name)",
                                                                "recipient_name=recipient.name|upper)"))
    staff = Templates(tmp_path)
    assert "Hei ANNE," in make.plain(survey_email(recipient=make.member(name="Anne"), templates=staff))
    assert "Hei BJØRN," in make.plain(survey_email(recipient=make.member(name="Bjørn"), templates=staff))
    assert staff.per_member == {("nb/survey.txt", "nb/survey.html")}


def test_built_in_templates_render_once_per_survey_and_fill_in_each_member():
    t = Templates()
    s = make.survey()
    for name, lang in (("Anne", "nb"), (None, "nn"), ("Bjørn <b>", "en"), ("Å" * 300, "nb")):
        survey_email(recipient=make.member(name=name, language=lang), templates=t, s=s)
        survey_email("reminder-1", recipient=make.member(name=name, language=lang), templates=t, s=s)
    assert t.per_member == set()
