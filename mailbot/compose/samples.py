"""Sample data for `Templates.check()` and previews: one survey with every kind of question.

The contexts are made by the same functions that make real emails, so a
template that renders here gets every value it will get in production.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from mailbot.campaigns import Question, QuestionType, Survey
from mailbot.compose import context
from mailbot.compose.context import Links
from mailbot.panel.settings import PanelSection
from mailbot.people import Recipient
from mailbot.results import OptionCount, QuestionResult, Results

OSLO = ZoneInfo("Europe/Oslo")

PANEL = PanelSection(name="Innbyggerpanelet", organisation="Bærum kommune",
                     address="innbyggerpanel@example.no", reply_domain="svar.example.no",
                     public_url="https://panel.example.no")

SURVEY = Survey(
    id="ombruk-2022",
    title="Behov for en ombruksbutikk i Bærum",
    opens=datetime(2022, 12, 1, 9, 0, tzinfo=OSLO),
    closes=datetime(2022, 12, 15, 23, 59, tzinfo=OSLO),
    intro="Kommunen vurderer å åpne en ombruksbutikk. Vi vil gjerne høre hva du mener.",
    questions=(
        Question("need", 1, "Er det behov for en ombruksbutikk i Bærum?", QuestionType.CHOICE,
                 ("Ja", "Nei", "Vet ikke")),
        Question("goods", 2, "Hva ville du levert eller kjøpt der?", QuestionType.MULTI,
                 ("Møbler", "Klær", "Sportsutstyr", "Elektronikk")),
        Question("today", 3, "Hvor fornøyd er du med dagens ordning?", QuestionType.SCALE, min=1, max=5,
                 min_label="svært misfornøyd", max_label="svært fornøyd"),
        Question("where", 4, "Hvor i Bærum bør butikken ligge?", QuestionType.TEXT, required=False),
    ),
)

RESULTS = Results(
    campaign_id=SURVEY.id,
    invited=427,
    answered=128,
    min_group_size=5,
    questions=(
        QuestionResult(SURVEY.questions[0], 120, (OptionCount("Ja", 84, 70.0), OptionCount("Nei", 24, 20.0),
                                                  OptionCount("Vet ikke", 12, 10.0))),
        QuestionResult(SURVEY.questions[1], 3, (), suppressed=True),
        QuestionResult(SURVEY.questions[2], 110, tuple(OptionCount(str(v), c, 100.0 * c / 110) for v, c in
                                                       ((1, 5), (2, 10), (3, 30), (4, 40), (5, 25))),
                       mean=3.6, median=4.0),
        QuestionResult(SURVEY.questions[3], 64, ()),
    ),
)

RECIPIENT = Recipient(member_id=1, email="kari.nordmann@example.no", name="Kari Nordmann")


def links() -> Any:
    base = "https://panel.example.no/svar/tok"
    answers = {(q.id, v): f"{base}/{q.id}/{quote(v, safe='')}" for q in SURVEY.questions
               for v in (q.options if q.type == QuestionType.CHOICE else
                         [str(s) for s in q.scale_values] if q.type == QuestionType.SCALE else [])}
    return Links(form_url=base, unsubscribe_url="https://panel.example.no/avmeld/tok",
                 unsubscribe_mailto="mailto:innbyggerpanel+tok@svar.example.no?subject=STOPP",
                 answer_urls=answers, report_url="https://panel.example.no/resultater/ombruk-2022")


def notice_context(lang: str) -> dict[str, Any]:
    """What every notice gets, whoever sends it."""
    return context.common_part(lang, PANEL, context.slots_of(RECIPIENT, None, None))


def sample_contexts() -> Mapping[str, Callable[[str], Mapping[str, Any]]]:
    """Email name -> (language -> the context a real email of that kind is rendered with)."""
    def common(lang: str) -> dict[str, Any]:
        return context.common_part(lang, PANEL, context.slots_of(RECIPIENT, links(), SURVEY))

    def survey(lang: str) -> dict[str, Any]:
        values = context.slots_of(RECIPIENT, links(), SURVEY)
        return {**common(lang), **context.survey_part(SURVEY, lang, PANEL, values),
                "step": "reminder-1", "reminder": 1}

    def receipt(lang: str) -> dict[str, Any]:
        values = context.slots_of(RECIPIENT, links(), None)
        return {**common(lang), **context.survey_part(SURVEY, lang, PANEL, values),
                **context.receipt_part(SURVEY, {"need": "Ja", "goods": ("Møbler", "Klær")}, ["today"],
                                  {"where": "kanskje"}, lang)}

    def plain(lang: str) -> dict[str, Any]:
        return {**common(lang), **context.survey_part(SURVEY, lang, PANEL, {}, with_urls=False)}

    def results(lang: str) -> dict[str, Any]:
        return {**plain(lang), **context.results_part(RESULTS, lang)}

    def notice(extra: dict[str, Any]) -> Callable[[str], Mapping[str, Any]]:
        return lambda lang: {**extra, **notice_context(lang)}

    return {
        "survey": survey,
        "receipt": receipt,
        "not-understood": plain,
        "closed": plain,
        "results": results,
        "notice-unsubscribe": notice({"command": "unsubscribe"}),
        "notice-pause": notice({"command": "pause", "until": date(2023, 3, 1)}),
        "notice-resume": notice({"command": "resume"}),
        "notice-language": notice({"command": "language", "language": "nn"}),
        "notice-erase": notice({"command": "erase"}),
        "notice-join": notice({"command": "join"}),
    }
