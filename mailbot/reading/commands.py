"""Commands residents send by email: STOPP, PAUSE, START, SPRÅK, SLETT, BLI MED.

Like Mailman's command runner, only the subject and the first lines of the newly
typed text are read, never the quote (every survey quotes "Meld deg av her"). A
command is a whole short line, not a word inside a sentence: "Dere må stoppe dette
maset" or "nei takk" are left to people, because acting wrongly on them (an
unsubscribe nobody asked for) is worse than a human reading them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailbot.reading.intents import find_intent, pause_end

FIRST_LINES = 3  # non-empty lines, after a greeting, that may hold a command

_POLITE = r"(?:[\s,.!]*(?:takk|tusen\s+takk|thanks|thank\s+you|please|vær\s+så\s+snill|ver\s+so\s+snill))?"
_END = _POLITE + r"[\s.!]*$"

_UNSUBSCRIBE = re.compile(
    r"^(?:stopp?|stop|avmeld(?:\s+meg)?|avmelding|meld\s+meg\s+(?:av|ut)|unsubscribe(?:\s+me)?|remove\s+me"
    r"|avslutt(?:\s+abonnement(?:et)?)?|ta\s+meg\s+(?:av|bort)(?:\s+lista?)?)" + _END,
    re.I,
)
_PAUSE = re.compile(
    r"^pause(?:\s+(?:meg|me))?(?:\s+(?:til|until|till|fram\s+til|frem\s+til|to)\s+(?P<until>[^\n]{1,60}?))?"
    + _END,
    re.I,
)
_RESUME = re.compile(r"^(?:start|fortsett|resume|start\s+igjen|begynn\s+igjen)" + _END, re.I)
_LANGUAGE = re.compile(
    r"^(?:språk|spraak|sprak|mål|language)\s*:?\s*(?P<lang>nb|nn|en|bokmål|bokmal|nynorsk|english|engelsk|norsk)"
    + _END,
    re.I,
)
_ERASE = re.compile(
    r"^(?:slett(?:\s+meg|\s+mine\s+data|\s+dataene\s+mine|\s+alt\s+om\s+meg)?|delete\s+(?:me|my\s+data))"
    + _END,
    re.I,
)
_JOIN = re.compile(r"^(?:bli\s+med|meld\s+meg\s+på|join|subscribe|ja,?\s+jeg\s+vil\s+bli\s+med)" + _END, re.I)

_GREETING = re.compile(r"^(hei|hallo|hello|hi|god\s+dag|heisann|hei\s+\w+)[\s,.!]*$", re.I)
# "Re:", "SV:", "Fwd:" … in front of a subject, as many as the clients put there
REPLY_PREFIX = re.compile(r"^\s*((re|sv|aw|vs|fw|fwd|wg|antw|odp|tr)\s*(\[\d+\])?\s*:\s*)+", re.I)
_LANGUAGES = {
    "nb": "nb",
    "bokmål": "nb",
    "bokmal": "nb",
    "norsk": "nb",
    "nn": "nn",
    "nynorsk": "nn",
    "en": "en",
    "english": "en",
    "engelsk": "en",
}


@dataclass(frozen=True)
class Command:
    """A command and its argument: a language code, or the raw "until" text of a pause."""

    name: str  # unsubscribe | pause | resume | language | erase | join
    value: str | None = None
    source: str = "text"  # "subject", "text" (a keyword line) or "sentence" (plain words)
    said: str = ""  # the line or sentence that gave the command: not an answer


def find_command(subject: str, new_text: str) -> Command | None:
    """The command in a subject without "Re:", or in the first typed lines; None if none."""
    subject = subject.strip()[:200]
    if subject and not REPLY_PREFIX.match(subject):
        command = _command_in_line(subject, "subject")
        if command:
            return command
    seen = 0
    for line in new_text.splitlines()[:40]:
        line = line.strip()[:200]
        if not line or (seen == 0 and _GREETING.match(line)) or line.startswith(">"):
            continue
        command = _command_in_line(line, "text")
        if command:
            return command
        if not _ANSWER_LINE.match(line):  # keywords may follow the answers: "1 A / 2 B / SPRÅK nynorsk"
            seen += 1
        if seen >= FIRST_LINES:
            break
    intent = find_intent(new_text)
    return Command(intent.name, intent.value, "sentence", intent.sentence) if intent else None


_ANSWER_LINE = re.compile(r"^\s*(?:\d{1,2}\b|[A-Za-z]\s*[.)]?$|-$)")


def _command_in_line(said: str, source: str) -> Command | None:
    named = _named_in_line(said.strip().strip("*_\"'“”«»"))
    if named is None:
        return None
    # A subject line is not in the typed text; a typed keyword line is left out of the answers.
    return Command(named[0], named[1], source, said if source == "text" else "")


def _named_in_line(line: str) -> tuple[str, str | None] | None:
    if _UNSUBSCRIBE.match(line):
        return "unsubscribe", None
    pause = _PAUSE.match(line)
    if pause:
        until = pause.group("until")
        return "pause", pause_end(until) if until else None
    if _RESUME.match(line):
        return "resume", None
    language = _LANGUAGE.match(line)
    if language:
        return "language", _LANGUAGES[language.group("lang").lower()]
    if _ERASE.match(line):
        return "erase", None
    if _JOIN.match(line):
        return "join", None
    return None
