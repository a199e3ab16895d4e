"""The results email: response rate, key findings, bar charts with their text equivalents."""

from __future__ import annotations

import dataclasses
import re
from html import unescape

from mailbot import compose
from mailbot.compose import Templates
from tests.compose import make

TEMPLATES = Templates()
NBSP = "\xa0"


def results_email(lang="nb", report_url: str | None = "https://panel.example.no/resultater/ombruk-2022"):
    s = make.survey()
    lnk = make.links(s)
    lnk = dataclasses.replace(lnk, report_url=report_url)
    return compose.results_email(s, make.results(s), make.member(language=lang), lnk, make.sender(),
                                 make.panel(), TEMPLATES, make.NOW)


def test_the_response_rate_reads_n_of_m_answered_in_each_language():
    assert f"128 av 427 svarte (30{NBSP}%)." in make.plain(results_email())
    assert f"128 av 427 svarte (30{NBSP}%)." in make.plain(results_email("nn"))
    assert "128 of 427 answered (30%)." in make.plain(results_email("en"))


def test_each_option_has_a_text_equivalent_with_count_and_percent():
    body = make.plain(results_email())
    assert f"   Ja: 84 (70{NBSP}%)\n   Nei: 24 (20{NBSP}%)\n   Vet ikke: 12 (10{NBSP}%)\n" in body
    page = unescape(make.html(results_email()))
    assert re.search(rf"Ja: <strong[^>]*>84</strong> \(70{NBSP}%\)", page)


def test_bars_are_table_cells_as_wide_as_the_percentage_and_hidden_from_screen_readers():
    page = make.html(results_email())
    bars = re.findall(r'<table[^>]*aria-hidden="true"[^>]*>(.*?)</table>', page, re.S)
    assert len(bars) == 3 + 5  # three options, five scale values; suppressed and text questions have none
    first = bars[0]
    assert re.search(r'class="bar-fill"[^>]*width="70%"', first)
    assert re.search(r'class="bar-rest"[^>]*width="30%"', first)


def test_a_question_with_too_few_answers_is_explained_not_shown():
    body = make.plain(results_email())
    goods = body.split("2. Hva ville du levert der?")[1].split("3.")[0]
    assert "For få svar til å vise (færre enn 5)." in goods
    assert "Møbler" not in goods
    assert "Too few answers to show (fewer than 5)." in make.plain(results_email("en"))


def test_free_text_answers_are_counted_not_shown():
    body = make.plain(results_email())
    assert "64 svarte med egne ord. Fritekstsvar vises ikke her." in body


def test_key_findings_name_the_most_chosen_option_and_the_average():
    body = make.plain(results_email())
    assert f"- 70{NBSP}% valgte «Ja» på «Er det behov for en ombruksbutikk i Bærum?»" in body
    assert "- Gjennomsnitt 3,5 av 5 på «Hvor fornøyd er du med dagens ordning?»" in body
    assert "- An average of 3.5 out of 5" in make.plain(results_email("en"))


def test_the_full_report_is_linked_only_when_there_is_one():
    assert "https://panel.example.no/resultater/ombruk-2022" in make.plain(results_email())
    assert 'href="https://panel.example.no/resultater/ombruk-2022"' in make.html(results_email())
    assert "resultatrapporten" not in make.plain(results_email(report_url=None))


def test_results_are_campaign_mail_with_one_click_unsubscribe():
    m = make.parse(results_email())
    assert m["Subject"] == "Resultater: Behov for en ombruksbutikk i Bærum"
    assert m["Auto-Submitted"] == "auto-generated"
    assert m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
