"""The emails of courses, recruitments and updates: context from the campaign in force, plus an .ics.

Rendered by `compose.notice_email` from `templates/<lang>/notice-<kind>.txt|html`
(so the template check covers them), with the row's one-click links. The
outbox payload names only ids (campaign, cohort or meeting, lesson, outcome);
dates, places and calendar files are made at send time from the current
campaign file, so a moved workshop is announced with its new time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from mailbot import calendar, compose
from mailbot.campaigns import Cohort, Course, Lesson, Meeting, Recruitment, Update
from mailbot.campaigns.forms import answer_options, words
from mailbot.compose import formats
from mailbot.panel.settings import PanelSection
from mailbot.people import Recipient

KINDS = ("course-", "recruitment-", "update")
_TEMPLATE = {"course-reminder": "course-lesson", "recruitment-reminder": "recruitment-answer"}


def is_campaign_mail(kind: str) -> bool:
    return kind.startswith(KINDS)


def email(kind: str, payload: Mapping[str, Any], recipient: Recipient, campaigns: Mapping[str, object],
          links: compose.Links, sender: compose.Sender, panel: PanelSection, templates: compose.Templates,
          now: datetime) -> EmailMessage:
    campaign = campaigns.get(str(payload.get("campaign")))
    lang = formats.language_of(recipient.language, panel.language)
    context, ics = _context(kind, payload, campaign, recipient, links, panel, lang, now)
    template = _TEMPLATE.get(kind, kind)
    msg = compose.notice_email(template, recipient, context, sender, panel, templates, now, links=links)
    if ics is not None:
        data, cancel = ics
        method = "CANCEL" if cancel else "REQUEST"
        msg.make_mixed()
        msg.add_attachment(data, maintype="text", subtype="calendar", filename="invitasjon.ics",
                           params={"method": method})
    return msg


def _context(kind: str, payload: Mapping[str, Any], campaign: object, recipient: Recipient, links: compose.Links,
             panel: PanelSection, lang: str, now: datetime) -> tuple[dict[str, Any], tuple[bytes, bool] | None]:
    if isinstance(campaign, Update):
        return {"title": campaign.title, "body": campaign.body, "signature": campaign.signature}, None
    if not isinstance(campaign, Course | Recruitment):
        raise LookupError(f"campaign {payload.get('campaign')!r} is no longer in schedules/")
    w = words(campaign.language)
    urls = {option: links.answer_urls.get(("svar", option)) or "" for option in answer_options(campaign)}
    offer = {"yes": links.answer_urls.get(("svar", w["yes"])) or "", "no": links.answer_urls.get(("svar", w["no"]))
             or ""}
    base: dict[str, Any] = {
        "title": campaign.title, "intro": campaign.intro, "outcome": str(payload.get("outcome", "")),
        "yes_word": w["yes"], "no_word": w["no"], "yes_url": urls.get(w["yes"], ""), "no_url": urls.get(w["no"], ""),
        "offer_yes_url": offer["yes"], "offer_no_url": offer["no"], "offer_hours": campaign.offer_hours,
        # feedback emails: the lesson's "Var du med?" and "Hvor nyttig var det?" one-click links
        "attended_yes_url": links.answer_urls.get(("attended", w["yes"])) or "",
        "attended_no_url": links.answer_urls.get(("attended", w["no"])) or "",
        "useful_steps": [{"value": v, "url": links.answer_urls.get(("useful", str(v))) or ""} for v in range(1, 6)],
    }
    group = str(payload.get("group") or "")
    if isinstance(campaign, Course):
        return _course(kind, campaign, base, group, payload, urls, recipient, panel, lang, now)
    return _recruitment(kind, campaign, base, group, payload, urls, recipient, panel, lang, now)


def _when(moment: datetime | None, lang: str, zone: str) -> str:
    return formats.datetime_text(moment, lang, zone) if moment is not None else ""


def _course(kind: str, c: Course, base: dict[str, Any], group: str, payload: Mapping[str, Any],
            urls: Mapping[str, str], recipient: Recipient, panel: PanelSection, lang: str, now: datetime
            ) -> tuple[dict[str, Any], tuple[bytes, bool] | None]:
    zone = panel.timezone
    w = words(c.language)
    cohort = c.cohort(group) or c.cohorts[0]
    lesson = cohort.lesson(int(payload.get("lesson") or 0))
    numbered = len(c.cohorts) > 1
    cohort_lines = [f"{i}) {x.title}: {_when(x.starts, lang, zone)}, {len(x.lessons)}"
                    for i, x in enumerate(c.cohorts, 1)] if numbered else []
    cohort_links = [{"number": i, "title": x.title, "url": urls.get(str(i), "")}
                    for i, x in enumerate(c.cohorts, 1)] if numbered else []
    given = [x for x in cohort.lessons if x.starts <= now]
    context = {
        **base,
        "webinar_url": c.webinar_url,
        "enrolment_closes": _when(c.enrolment_closes, lang, zone),
        "cohort": cohort.title,
        "cohorts_text": "\n".join(cohort_lines),
        "cohort_links": cohort_links,
        "many_cohorts": numbered,
        "capacity": cohort.capacity or 0,
        "first_lesson": _when(cohort.starts, lang, zone),
        "last_lesson": _when(cohort.lessons[-1].starts, lang, zone),
        "lesson_count": len(cohort.lessons),
        "lessons_text": "\n".join(_lesson_line(x, lang, zone) for x in cohort.lessons),
        "catch_up_text": "\n".join(_lesson_line(x, lang, zone) for x in given)
        if c.late_joiners == "catch-up" and payload.get("outcome") == "seated" else "",
        "pause_word": w["pause"], "skip_word": w["skip"], "leave_word": w["leave"],
        "pause_url": urls.get(w["pause"], ""), "skip_url": urls.get(w["skip"], ""),
        "leave_url": urls.get(w["leave"], ""),
        "reminder": kind == "course-reminder",
        "lesson_number": lesson.number if lesson else 0,
        "lesson_title": lesson.title if lesson else "",
        "lesson_at": _when(lesson.starts, lang, zone) if lesson else "",
    }
    ics = None
    domain = panel.address.rsplit("@", 1)[1]
    if kind in ("course-lesson",) and lesson is not None:
        ics = (_lesson_ics(c, cohort, [lesson], recipient, panel, domain, now), False)
    elif kind == "course-answer" and payload.get("outcome") in ("seated", "resumed"):
        coming = [x for x in cohort.lessons if x.starts > now]
        if coming:
            ics = (_lesson_ics(c, cohort, coming, recipient, panel, domain, now), False)
    elif kind == "course-answer" and payload.get("outcome") == "declined" and group:
        coming = [x for x in cohort.lessons if x.starts > now]
        if coming:
            ics = (_lesson_ics(c, cohort, coming, recipient, panel, domain, now, cancel=True), True)
    return context, ics


def _lesson_line(x: Lesson, lang: str, zone: str) -> str:
    return f"{x.number}. {_when(x.starts, lang, zone)}" + (f": {x.title}" if x.title else "")


def _lesson_ics(c: Course, cohort: Cohort, lessons: list[Lesson], recipient: Recipient, panel: PanelSection,
                domain: str, now: datetime, cancel: bool = False) -> bytes:
    events = [calendar.CalendarEvent(calendar.uid(c.id, cohort.id, domain, x.number), x.starts, x.ends,
                                     f"{c.title}: {x.title or x.number}", c.intro, c.webinar_url, c.webinar_url)
              for x in lessons]
    return calendar.invitation(events, organizer=panel.address, organizer_name=panel.name,
                               attendee=recipient.email, zone=panel.zone, now=now, cancel=cancel)


def _recruitment(kind: str, r: Recruitment, base: dict[str, Any], group: str, payload: Mapping[str, Any],
                 urls: Mapping[str, str], recipient: Recipient, panel: PanelSection, lang: str, now: datetime
                 ) -> tuple[dict[str, Any], tuple[bytes, bool] | None]:
    zone = panel.timezone
    meeting = r.meeting(group)
    numbered = len(r.meetings) > 1
    context = {
        **base,
        "committee": r.is_committee,
        "closes": _when(r.closes, lang, zone),
        "drawn": r.selection != "first-come",
        "sessions_text": "\n".join(_meeting_line(m, lang, zone, numbered) for m in r.meetings if not m.cancelled),
        "session_links": [{"number": m.number, "title": m.title, "url": urls.get(str(m.number), "")}
                          for m in r.meetings if not m.cancelled] if numbered else [],
        "many_sessions": numbered,
        "session": _meeting_line(meeting, lang, zone, False) if meeting else "",
        "session_at": _when(meeting.starts, lang, zone) if meeting else "",
        "place": meeting.place if meeting else "",
        "video_url": meeting.video_url if meeting else "",
        "sequence": int(payload.get("sequence") or 0),
    }
    ics = None
    outcome = payload.get("outcome")
    if meeting is not None and meeting.starts is not None and meeting.ends is not None:
        domain = panel.address.rsplit("@", 1)[1]
        cancel = outcome in ("declined", "cancelled")
        if outcome in ("seated", "moved", "reminder") or cancel:
            event = calendar.CalendarEvent(calendar.uid(r.id, meeting.id, domain), meeting.starts, meeting.ends,
                                           f"{r.title}: {meeting.title}", r.intro, meeting.place or meeting.video_url,
                                           meeting.video_url, int(payload.get("sequence") or 0))
            ics = (calendar.invitation([event], organizer=panel.address, organizer_name=panel.name,
                                       attendee=recipient.email, zone=panel.zone, now=now, cancel=cancel), cancel)
    return context, ics


def _meeting_line(m: Meeting, lang: str, zone: str, numbered: bool) -> str:
    head = f"{m.number}) " if numbered else ""
    where = ", ".join(x for x in (m.place, m.video_url) if x)
    when = _when(m.starts, lang, zone)
    return head + ", ".join(x for x in (m.title, when, where) if x)
