"""One inbound message read end to end: bytes in, a `Reading` out. Pure: no I/O, no clock."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from email.utils import parseaddr
from enum import StrEnum

from mailbot.campaigns import AnswerValue, QuestionType, Survey
from mailbot.reading.answers import parse_answers
from mailbot.reading.bounces import Bounce
from mailbot.reading.classify import classify
from mailbot.reading.commands import REPLY_PREFIX
from mailbot.reading.decode import decode, header_text


class Route(StrEnum):
    """What the bot does with a reply's answers."""

    RECORD = "record"  # every answer read with confidence: record them, send a receipt
    READ_BACK = "read-back"  # a likely reading: record nothing yet, ask the resident "is this right?"
    HUMAN = "human"  # nothing could be read: the human queue


@dataclass(frozen=True)
class Reading:
    """What an inbound message means.

    `answers` is everything read, sure or not. `confirm` names the answers read with less
    than full confidence: while it is non-empty nothing is recorded until the resident
    confirms the read-back. `unsure` holds questions that were answered in a way that could
    not be read, with the reason. `needs_human` says why the reply is not fully read (an
    unclear answer, or no answer at all), or is None; `route` says who acts on that.
    """

    kind: str  # reply | auto-reply | bounce | command
    text: str = ""
    answers: dict[str, AnswerValue] = field(default_factory=dict)
    unsure: dict[str, str] = field(default_factory=dict)
    confirm: tuple[str, ...] = ()
    confidence: dict[str, float] = field(default_factory=dict)
    command: str | None = None  # unsubscribe | pause | resume | language | erase | join
    command_value: str | None = None  # a language code, or the raw "until" text of a pause
    bounce: Bounce | None = None
    needs_human: str | None = None
    subject: str = ""
    refused: bool = False

    @property
    def route(self) -> Route:
        """Record now, read back to the resident first, or leave to staff."""
        if self.refused or (self.kind == "bounce" and self.needs_human):
            return Route.HUMAN
        if self.confirm:
            return Route.READ_BACK
        if self.kind == "reply" and not self.answers and self.needs_human:
            return Route.HUMAN
        return Route.RECORD


def read_message(raw: bytes, survey: Survey | None = None, own_addresses: Iterable[str] = ()) -> Reading:
    """Read raw message bytes: kind, the typed text, answers to `survey`, command, bounce."""
    decoded = decode(raw)
    if decoded.message is None:
        return Reading(kind="reply", needs_human=decoded.refused, refused=True)
    msg = decoded.message
    classification = classify(msg, own_addresses)
    new_text = classification.new_text
    text = new_text.text if new_text else ""
    subject = header_text(msg, "Subject")
    kind = classification.kind

    if kind == "bounce":
        bounce = classification.bounce
        why = None if bounce and (bounce.addresses or bounce.token) else "bounce that names no address"
        return Reading(kind=kind, text=text, bounce=bounce, needs_human=why, subject=subject)

    parsed = None
    command = classification.command
    apart = False  # the command stood in a paragraph of its own, apart from the answers
    if survey is not None and new_text is not None and kind != "bounce":
        typed = new_text.with_context
        if command is not None and command.said:
            typed, apart = _without_command(typed, command.said, survey)
        parsed = parse_answers(typed, survey, new_text.original, _signer(msg))
        if not parsed.answers and not parsed.unsure and (extra := _typed_in_subject(subject, survey)):
            # "Re: Parkering i Bærum - 1A 2C 3 4 4 AB": answered in the subject line, the body left empty
            # (only answers count there: "Påminnelse:" or a word of the subject's own is no unclear answer)
            in_subject = parse_answers(extra, survey, "", "")
            parsed = in_subject if in_subject.answers and not in_subject.unsure else parsed
        if kind == "auto-reply" and set(parsed.answers) - set(parsed.confirm) and not classification.firmly_automatic:
            # Wording alone said "away"; a person who answers the questions is not a machine.
            kind = "reply"
    if kind == "auto-reply":
        return Reading(kind=kind, text=text, subject=subject)

    answers = dict(parsed.answers) if parsed else {}
    if kind == "command":
        # Beside a command, only answers read for sure count: "STOPP. Hilsen Kari" answers nothing.
        text_questions = {q.id for q in survey.questions if q.type is QuestionType.TEXT} if survey else set()
        firm = {q: a for q, a in answers.items()
                if parsed is None or (parsed.confidence.get(q, 0) >= 0.9 and q not in text_questions)}
        if firm and parsed is not None:  # beside firm answers, a numbered text answer is an answer too
            firm.update({q: a for q, a in answers.items()
                         if q in text_questions and parsed.confidence.get(q, 0) >= 0.9})
        if apart and len(answers) >= 2:
            # "Kvaliteten er god, 4. Trykket er også godt, 4. ¶ De kan melde meg ut etter denne": a reply that
            # answers and, in a paragraph of its own, leaves; its answers are read like any reply's (one
            # stray reading is the command's own words: "ber om at dere sletter alle opplysninger")
            firm = answers
        answers = firm
    if kind == "command" and not answers:
        unsure = {}  # "AVMELD. Jeg flytter til Polen": the rest of a command is not a half-read answer
    if kind == "command" and answers:
        kind = "reply"  # answers and a command ("… og sett meg på pause til mars"): both are acted on
    unsure = dict(parsed.unsure) if parsed else {}
    return Reading(
        kind=kind,
        text=text,
        answers=answers,
        unsure=unsure,
        confirm=tuple(q for q in parsed.confirm if q in answers) if parsed else (),
        confidence={q: parsed.confidence.get(q, 1.0) for q in answers} if parsed else {},
        command=command.name if command else None,
        command_value=command.value if command else None,
        needs_human=_why_human(kind, text, answers, unsure, survey is not None),
        subject=subject,
    )


def _without_command(typed: str, said: str, survey: Survey) -> tuple[str, bool]:
    """The text without the command: its whole paragraph when other paragraphs hold the answers and it
    answers nothing itself ("Dette er siste gongen eg svarar. De kan melde meg ut …" is no free text)."""
    paragraphs = re.split(r"\n\s*\n", typed)
    mine = next((p for p in paragraphs if said in p), None)
    others = [p for p in paragraphs if p is not mine and p.strip() and not p.lstrip().startswith(">")]
    if mine is not None and others and not parse_answers(mine.replace(said, "", 1), survey).answers:
        return "\n\n".join(p for p in paragraphs if p is not mine), True
    return typed.replace(said, "", 1), False  # the command is not an answer


def _typed_in_subject(subject: str, survey: Survey) -> str:
    """What the resident added to the invitation's subject, or "" (the subject is the survey's title)."""
    rest = REPLY_PREFIX.sub("", subject or "").strip()
    at = rest.casefold().find(survey.title.casefold())
    if at < 0:
        return ""
    rest = (rest[:at] + " " + rest[at + len(survey.title):]).strip(" -–—:;,|")
    return rest if any(c.isalnum() for c in rest) else ""


def _signer(msg: Message) -> str:
    """The display name of the sender ("Kari Nordmann" <kari@…>), to know the signature."""
    try:
        name, _ = parseaddr(header_text(msg, "From"))
    except Exception:  # a malformed header names nobody
        return ""
    return name[:100]


def _why_human(kind: str, text: str, answers: dict, unsure: dict[str, str], has_survey: bool) -> str | None:
    if unsure:
        return "; ".join(unsure.values())
    if kind == "reply" and has_survey and not answers:
        return "ingen svar funnet i teksten" if text.strip() else "tomt svar"
    return None
