"""What an email says: pure composition from templates.

Every function here takes plain data and returns a complete
`email.message.EmailMessage` (multipart/alternative, text/plain + text/html,
utf-8) ready to send: no database, no clock (`now` is an argument), no
network. The edge builds the signed links and addresses (`Links`, `Sender`);
this package only prints them.

The wording lives in templates (one layout per email, `templates/emails/<email>.txt|.html`,
with the words of each language in `templates/emails/words.<lang>.toml`; staff override
`<lang>/<email>.txt|.html`, see `Templates`); the structure that must not change
with wording lives here: headers, the reply marker, the example answer line.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from mailbot.campaigns import AnswerValue, Survey
from mailbot.compose import formats, headers
from mailbot.compose.context import (
    Links,
    common_part,
    receipt_part,
    reminder_number,
    results_part,
    slots_of,
    survey_part,
)
from mailbot.compose.headers import HeaderValueError, PreparedHeader
from mailbot.compose.templates import (
    BUILTIN_DIR,
    Rendered,
    TemplateMissing,
    TemplateProblem,
    Templates,
)
from mailbot.panel.settings import PanelSection
from mailbot.people import Recipient
from mailbot.results import Results

__all__ = [
    "BUILTIN_DIR",
    "HeaderValueError",
    "Links",
    "Sender",
    "TemplateMissing",
    "TemplateProblem",
    "Templates",
    "closed_email",
    "not_understood_email",
    "notice_email",
    "receipt_email",
    "results_email",
    "survey_email",
]

MARKERS = formats.MARKERS


@dataclass(frozen=True)
class Sender:
    """Addressing decided by the edge."""

    from_addr: str  # "Innbyggerpanelet <innbyggerpanel@example.no>"
    reply_to: str  # panel+TOKEN@svar.example.no
    message_id: str  # "<…@example.no>"
    list_id: str  # "Innbyggerpanelet <innbyggerpanel.example.no>"
    in_reply_to: str | None = None  # for receipts: the resident's Message-ID


# ---------------------------------------------------------------- emails


def survey_email(survey: Survey, step: str, recipient: Recipient, links: Links, sender: Sender,
                 panel: PanelSection, templates: Templates, now: datetime) -> EmailMessage:
    """An invitation (`step="invitation"`) or reminder (`"reminder-1"`, …, `"reminder-extra-1"`) to answer `survey`."""
    reminder = reminder_number(step)
    lang = formats.language_of(recipient.language, panel.language)
    names = templates.pair("survey", lang)
    slots = slots_of(recipient, links, survey)

    def build(values: Mapping[str, str | None]) -> dict[str, Any]:
        return {**common_part(lang, panel, values), **survey_part(survey, lang, panel, values),
                "step": step, "reminder": reminder}

    rendered = templates.render_for(names, (survey, panel, step), build, slots)
    return _message(rendered, recipient, sender, panel, now, links, campaign=True)


def receipt_email(survey: Survey, recipient: Recipient, recorded: Mapping[str, AnswerValue],
                  missing: Sequence[str], unsure: Mapping[str, str], links: Links, sender: Sender,
                  panel: PanelSection, templates: Templates, now: datetime) -> EmailMessage:
    """What was recorded, what is still missing, what needs a clearer answer, and how to change it."""
    lang = formats.language_of(recipient.language, panel.language)
    names = templates.pair("receipt", lang)
    values = slots_of(recipient, links, None)
    context = {**common_part(lang, panel, values), **survey_part(survey, lang, panel, values),
               **receipt_part(survey, recorded, missing, unsure, lang)}
    return _message(templates.render(names, context), recipient, sender, panel, now, links, campaign=False)


def not_understood_email(survey: Survey, recipient: Recipient, links: Links, sender: Sender,
                         panel: PanelSection, templates: Templates, now: datetime) -> EmailMessage:
    """We could not read the answer: here is how to write it; a person will look at it."""
    return _survey_reply("not-understood", survey, recipient, links, sender, panel, templates, now)


def closed_email(survey: Survey, recipient: Recipient, links: Links, sender: Sender, panel: PanelSection,
                 templates: Templates, now: datetime) -> EmailMessage:
    """The survey closed on <date>; the reply was not recorded; thanks all the same."""
    return _survey_reply("closed", survey, recipient, links, sender, panel, templates, now)


def results_email(survey: Survey, results: Results, recipient: Recipient, links: Links, sender: Sender,
                  panel: PanelSection, templates: Templates, now: datetime) -> EmailMessage:
    """Key findings, the response rate and a bar chart per question (HTML tables, with text equivalents)."""
    lang = formats.language_of(recipient.language, panel.language)
    names = templates.pair("results", lang)
    slots = slots_of(recipient, links, None)

    def build(values: Mapping[str, str | None]) -> dict[str, Any]:
        return {**common_part(lang, panel, values), **survey_part(survey, lang, panel, values, with_urls=False),
                **results_part(results, lang)}

    rendered = templates.render_for(names, (survey, results, panel), build, slots)
    return _message(rendered, recipient, sender, panel, now, links, campaign=True)


def notice_email(name: str, recipient: Recipient, context: Mapping[str, Any], sender: Sender,
                 panel: PanelSection, templates: Templates, now: datetime, *,
                 links: Links | None = None) -> EmailMessage:
    """A short answer to a command ("Du er nå meldt av", pause, language changed): `<lang>/notice-<name>`.

    `context` is passed to the template as it is (dates print with `|date`).
    A notice about a language change is written in the new language.
    """
    wanted = context.get("language") if name == "language" else recipient.language
    lang = formats.language_of(str(wanted) if wanted else None, formats.language_of(recipient.language,
                                                                                    panel.language))
    names = templates.pair(f"notice-{name}", lang, (panel.language, formats.DEFAULT_LANGUAGE))
    values = slots_of(recipient, links, None)
    full = {**dict(context), **common_part(lang, panel, values)}
    return _message(templates.render(names, full), recipient, sender, panel, now, links, campaign=False)


# ---------------------------------------------------------------- context


def _survey_reply(kind: str, survey: Survey, recipient: Recipient, links: Links, sender: Sender,
                  panel: PanelSection, templates: Templates, now: datetime) -> EmailMessage:
    lang = formats.language_of(recipient.language, panel.language)
    names = templates.pair(kind, lang)
    slots = slots_of(recipient, links, None)

    def build(values: Mapping[str, str | None]) -> dict[str, Any]:
        return {**common_part(lang, panel, values), **survey_part(survey, lang, panel, values, with_urls=False)}

    rendered = templates.render_for(names, (survey, panel), build, slots)
    return _message(rendered, recipient, sender, panel, now, links, campaign=False)


# ---------------------------------------------------------------- message


_AUTO_GENERATED = headers.token("Auto-Submitted", "auto-generated")
_AUTO_REPLIED = headers.token("Auto-Submitted", "auto-replied")
_ONE_CLICK = headers.token("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
_PRECEDENCE = headers.token("Precedence", "bulk")
# Ask Exchange/Outlook not to send out-of-office replies to us: we would only have to ignore them.
_SUPPRESS = headers.token("X-Auto-Response-Suppress", "OOF, AutoReply")
_SUPPRESS_ALL = headers.token("X-Auto-Response-Suppress", "All")


def _message(rendered: Rendered, recipient: Recipient, sender: Sender, panel: PanelSection, now: datetime,
             links: Links | None, *, campaign: bool) -> EmailMessage:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    hs: list[PreparedHeader] = [
        headers.parsed_mailbox("From", sender.from_addr),
        headers.mailbox("To", recipient.name, recipient.email),
        headers.unstructured("Subject", rendered.subject),
        headers.token("Date", email.utils.format_datetime(now.astimezone(panel.zone))),
        headers.message_id("Message-ID", sender.message_id),
        headers.mailbox("Reply-To", None, sender.reply_to),
    ]
    if not campaign and sender.in_reply_to:
        hs.append(headers.message_id("In-Reply-To", sender.in_reply_to))
        hs.append(headers.message_id("References", sender.in_reply_to))
    if links is not None:
        unsubscribe = f"<{links.unsubscribe_url}>, <{links.unsubscribe_mailto}>"
        hs.append(headers.token("List-Unsubscribe", unsubscribe))
        hs.append(_ONE_CLICK)
    if campaign:
        hs += [headers.parsed_mailbox("List-Id", sender.list_id), _AUTO_GENERATED, _PRECEDENCE, _SUPPRESS]
    else:
        hs += [_AUTO_REPLIED, _SUPPRESS_ALL]
    return headers.assemble(hs, rendered.text, rendered.html, headers.boundary_for(sender.message_id))
