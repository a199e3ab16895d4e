"""The small surveys courses and recruitments are answered through, and what an answer means.

Each course or recruitment has an answer form (`<id>.svar`: "Ja", a session number, "Nei",
"Pause", "Hopp over neste", "Slutt"), an offer form (`<id>.tilbud`: JA/NEI to a freed seat), and
a course has a feedback form per lesson (`<id>.<cohort>.<n>`: "Var du med?", "Hvor nyttig var
det?"). Pure: `intent` says what an answer asks for; `mailbot.forms` acts on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mailbot.campaigns import (
    AnswerValue,
    CampaignForm,
    Course,
    FormPurpose,
    Question,
    QuestionType,
    Recruitment,
)
from mailbot.campaigns.course.lessons import answer_form_id, feedback_form_id

_WORDS = {
    "nb": {"yes": "Ja", "no": "Nei", "pause": "Pause", "skip": "Hopp over neste", "leave": "Slutt",
           "answer": "Ditt svar", "offer": "Vil du ha plassen?", "attended": "Var du med på webinaret?",
           "useful": "Hvor nyttig var det?", "low": "lite nyttig", "high": "svært nyttig"},
    "nn": {"yes": "Ja", "no": "Nei", "pause": "Pause", "skip": "Hopp over neste", "leave": "Slutt",
           "answer": "Svaret ditt", "offer": "Vil du ha plassen?", "attended": "Var du med på webinaret?",
           "useful": "Kor nyttig var det?", "low": "lite nyttig", "high": "svært nyttig"},
    "en": {"yes": "Yes", "no": "No", "pause": "Pause", "skip": "Skip next", "leave": "Leave",
           "answer": "Your answer", "offer": "Do you want the seat?", "attended": "Did you join the webinar?",
           "useful": "How useful was it?", "low": "not useful", "high": "very useful"},
}


def words(lang: str) -> dict[str, str]:
    return _WORDS.get(lang, _WORDS["nb"])


def offer_form_id(campaign_id: str) -> str:
    return f"{campaign_id}.tilbud"


# ---------------------------------------------------------------- the forms


def forms_of(campaign: object, zone: ZoneInfo | None = None) -> list[CampaignForm]:
    """The derived surveys of a course or recruitment (none for other kinds)."""
    if isinstance(campaign, Course):
        return course_forms(campaign)
    if isinstance(campaign, Recruitment):
        return recruitment_forms(campaign)
    return []


def _form(parent: Course | Recruitment, form_id: str, purpose: FormPurpose, questions: tuple[Question, ...],
          opens: datetime, closes: datetime, **extra: Any) -> CampaignForm:
    return CampaignForm(id=form_id, title=parent.title, opens=opens, closes=closes, questions=questions,
                        language=parent.language, parent=parent.id, purpose=purpose, source=parent.source, **extra)


def answer_options(campaign: Course | Recruitment) -> tuple[str, ...]:
    w = words(campaign.language)
    groups = campaign.cohorts if isinstance(campaign, Course) else campaign.meetings
    numbers = tuple(str(i) for i in range(1, len(groups) + 1)) if len(groups) > 1 else ()
    if isinstance(campaign, Course):
        return (w["yes"], *numbers, w["no"], w["pause"], w["skip"], w["leave"])
    return (w["yes"], *numbers, w["no"])


def course_forms(c: Course) -> list[CampaignForm]:
    w = words(c.language)
    until = c.closes + timedelta(days=1)
    out = [
        _form(c, answer_form_id(c.id), FormPurpose.ANSWER,
              (Question("svar", 1, w["answer"], QuestionType.CHOICE, answer_options(c)),), c.opens, until),
        _form(c, offer_form_id(c.id), FormPurpose.OFFER,
              (Question("svar", 1, w["offer"], QuestionType.CHOICE, (w["yes"], w["no"])),), c.opens, until),
    ]
    for cohort in c.cohorts:
        for lesson in cohort.lessons:
            questions = (
                Question("attended", 1, w["attended"], QuestionType.CHOICE, (w["yes"], w["no"])),
                Question("useful", 2, w["useful"], QuestionType.SCALE, min=1, max=5, min_label=w["low"],
                         max_label=w["high"], required=False),
            )
            out.append(_form(c, feedback_form_id(c.id, cohort.id, lesson.number), FormPurpose.FEEDBACK, questions,
                             lesson.starts, lesson.ends + timedelta(days=14), cohort=cohort.id,
                             lesson=lesson.number))
    return out


def recruitment_forms(r: Recruitment) -> list[CampaignForm]:
    w = words(r.language)
    starts = [m.starts for m in r.meetings if m.starts is not None]
    until = max(starts) if starts else r.closes + timedelta(days=30)
    return [
        _form(r, answer_form_id(r.id), FormPurpose.ANSWER,
              (Question("svar", 1, w["answer"], QuestionType.CHOICE, answer_options(r)),), r.opens, until),
        _form(r, offer_form_id(r.id), FormPurpose.OFFER,
              (Question("svar", 1, w["offer"], QuestionType.CHOICE, (w["yes"], w["no"])),), r.opens, until),
    ]


# ---------------------------------------------------------------- what an answer means


@dataclass(frozen=True)
class Intent:
    what: str  # yes | group | no | pause | skip | leave
    group: str = ""  # the cohort or meeting chosen by number


def intent(campaign: Course | Recruitment, form: CampaignForm, answers: Mapping[str, AnswerValue]) -> Intent | None:
    value = answers.get("svar")
    if not isinstance(value, str):
        return None
    options = form.questions[0].options
    if value not in options:
        return None
    w = words(campaign.language)
    if value == w["yes"]:
        return Intent("yes")
    if value.isdigit():
        groups = campaign.cohorts if isinstance(campaign, Course) else campaign.meetings
        i = int(value)
        return Intent("group", groups[i - 1].id) if 1 <= i <= len(groups) else None
    for key in ("no", "pause", "skip", "leave"):
        if value == w[key]:
            return Intent(key)
    return None
