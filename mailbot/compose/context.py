"""What a template is given: the context of each email, and the slots that differ per member.

Built from plain data (survey, recipient, links, results) and nothing else; `mailbot.compose`
renders it, and `mailbot.compose.samples` builds the same contexts from sample data so the
template check sees what a real email sees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mailbot.campaigns import AnswerValue, Question, QuestionType, Survey
from mailbot.compose import formats, headers
from mailbot.panel.settings import PanelSection
from mailbot.people import Recipient
from mailbot.results import QuestionResult, Results


@dataclass(frozen=True)
class Links:
    """Links built by the edge with signed tokens; compose only prints them."""

    form_url: str  # the whole survey as a web form
    unsubscribe_url: str  # https one-click (RFC 8058 POST target, also the footer link)
    unsubscribe_mailto: str  # mailto:panel+TOKEN@reply-domain?subject=STOPP
    # (question id, option text or str(scale value)) -> one-click URL
    answer_urls: Mapping[tuple[str, str], str] = field(default_factory=dict)
    report_url: str | None = None  # full results report


def reminder_number(step: str) -> int:
    if step == "invitation":
        return 0
    prefix, _, number = step.partition("-")
    # "reminder-extra-N": the extra reminder staff send to under-represented groups (mailbot remind).
    number = number.removeprefix("extra-")
    if prefix == "reminder" and number.isdigit() and int(number) >= 1:
        return int(number)
    raise ValueError(f"unknown survey step {step!r}: "
                     "write \"invitation\" or \"reminder-1\", \"reminder-2\", … (or \"reminder-extra-1\")")


def _answer_slot(qid: str, value: str) -> str:
    return f"answer:{qid}:{value}"


def slots_of(recipient: Recipient, links: Links | None, survey: Survey | None) -> dict[str, str | None]:
    """Everything that differs from one member to the next, by slot name."""
    slots: dict[str, str | None] = {
        "name": headers.one_line(recipient.name or "", 100) or None,
        "email": recipient.email,
        "form_url": links.form_url if links else None,
        "unsubscribe_url": links.unsubscribe_url if links else None,
        "unsubscribe_mailto": links.unsubscribe_mailto if links else None,
        "report_url": links.report_url if links else None,
    }
    if survey is not None and links is not None:
        urls = links.answer_urls
        for q in survey.questions:
            for value in _one_click_values(q):
                slots[_answer_slot(q.id, value)] = urls.get((q.id, value))
    return slots


def _one_click_values(q: Question) -> tuple[str, ...]:
    if q.type == QuestionType.CHOICE:
        return q.options
    if q.type == QuestionType.SCALE and q.min is not None and q.max is not None:
        return tuple(str(v) for v in q.scale_values)
    return ()


def common_part(lang: str, panel: PanelSection, values: Mapping[str, str | None]) -> dict[str, Any]:
    return {
        "lang": lang,
        "timezone": panel.timezone,
        "marker": formats.MARKERS[lang],
        "panel": {"name": panel.name, "organisation": panel.organisation, "address": panel.address,
                  "public_url": panel.public_url},
        "recipient": {"name": values.get("name"), "email": values.get("email")},
        "links": {key: values.get(key) for key in ("form_url", "unsubscribe_url", "unsubscribe_mailto",
                                                    "report_url")},
    }


def survey_part(survey: Survey, lang: str, panel: PanelSection, values: Mapping[str, str | None], *,
                 with_urls: bool = True) -> dict[str, Any]:
    zone = panel.timezone
    return {
        "survey": {
            "id": survey.id,
            "title": survey.title,
            "intro": survey.intro,
            "opens": formats.datetime_text(survey.opens, lang, zone),
            "closes": formats.datetime_text(survey.closes, lang, zone),
            "closes_date": formats.date_text(survey.closes, lang, zone),
        },
        "questions": [_question_view(q, values if with_urls else {}) for q in survey.questions],
        "example": formats.example_answer(survey.questions, lang),
    }


def _question_view(q: Question, values: Mapping[str, str | None]) -> dict[str, Any]:
    scale = None
    if q.type == QuestionType.SCALE:
        steps = [{"value": v, "url": values.get(_answer_slot(q.id, str(v)))} for v in q.scale_values]
        scale = {"min": q.min, "max": q.max, "min_label": q.min_label, "max_label": q.max_label,
                 "steps": steps}
    options = [{"key": key, "text": text,
                "url": values.get(_answer_slot(q.id, text)) if q.type == QuestionType.CHOICE else None}
               for key, text in q.keyed_options]
    return {"id": q.id, "number": q.number, "text": q.text, "type": str(q.type), "required": q.required,
            "options": options, "scale": scale}


def _answer_text(q: Question | None, value: AnswerValue) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if q is not None and q.type == QuestionType.CHOICE and isinstance(value, str):
        key = next((k for k, o in q.keyed_options if o == value), None)
        return f"{key}) {value}" if key else value
    return str(value)


def receipt_part(survey: Survey, recorded: Mapping[str, AnswerValue], missing: Sequence[str],
                  unsure: Mapping[str, str], lang: str) -> dict[str, Any]:
    def brief(q: Question) -> dict[str, Any]:
        return {"id": q.id, "number": q.number, "text": q.text}

    recorded_view = [{**brief(q), "answer": _answer_text(q, recorded[q.id])}
                     for q in survey.questions if q.id in recorded]
    missing_qs = [q for q in survey.questions if q.id in set(missing)]
    unsure_view = [{**brief(q), "reason": headers.one_line(str(unsure[q.id]), 200)}
                   for q in survey.questions if q.id in unsure]
    open_qs = [q for q in survey.questions if q.id in set(missing) or q.id in unsure]
    return {
        "recorded": recorded_view,
        "missing": [brief(q) for q in missing_qs],
        "unsure": unsure_view,
        "complete": not missing_qs and not unsure_view,
        "example": formats.example_answer(open_qs or list(survey.questions), lang),
    }


def results_part(results: Results, lang: str) -> dict[str, Any]:
    questions = [_result_view(r, lang) for r in results.questions]
    findings = []
    for r, view in zip(results.questions, questions, strict=True):
        shown = [o for o in r.options if not o.suppressed]  # a hidden option is no finding
        if r.suppressed or not r.options or not r.answered or not (shown or r.mean is not None):
            continue
        top = max(shown or r.options, key=lambda o: o.count)
        finding = {"number": r.question.number, "question": r.question.text, "type": view["type"],
                   "label": top.label, "percent": formats.percent_text(top.percent, lang),
                   "mean": view["mean"], "max": r.question.max}
        findings.append(finding)
    return {
        "results": {
            "invited": results.invited,
            "answered": results.answered,
            "invited_text": formats.number_text(results.invited, lang),
            "answered_text": formats.number_text(results.answered, lang),
            "rate": formats.percent_text(100.0 * results.rate, lang),
            "min_group_size": results.min_group_size,
        },
        "findings": findings,
        "questions": questions,
    }


def _result_view(r: QuestionResult, lang: str) -> dict[str, Any]:
    q = r.question
    return {
        "number": q.number,
        "text": q.text,
        "type": str(q.type),
        "answered": r.answered,
        "answered_text": formats.number_text(r.answered, lang),
        "suppressed": r.suppressed,
        # A hidden option (minimum group size) carries count 0 and 0.0 %: templates say "skjult" instead.
        "distribution_suppressed": r.distribution_suppressed,
        "options": [{"label": o.label, "count": o.count, "count_text": formats.number_text(o.count, lang),
                     "percent": formats.percent_text(o.percent, lang), "suppressed": o.suppressed,
                     "width": max(0, min(100, round(o.percent)))} for o in r.options],
        "mean": formats.number_text(r.mean, lang, 1) if r.mean is not None else None,
        "median": formats.number_text(r.median, lang, 1) if r.median is not None else None,
        "min": q.min,
        "max": q.max,
    }
