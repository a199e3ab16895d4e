"""The words a resident typed, separated from what their client quoted and appended.

Clients quote in two ways. Prefixed quotes ("> ") can be followed by more typed text
(bottom-posting, answers typed under each quoted question), so they are skipped and
reading goes on after them. Unprefixed originals (Outlook's "Fra:/Sendt:" block, a
"-----Original Message-----" line) never end, so everything after their header is
the original. Signatures and device lines are cut; employers' disclaimers follow them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailbot.reading.vocabulary import lowered

# Bounds that keep every scan linear and cheap: nobody types answers past these.
MAX_LINES = 3000
MAX_SCAN_CHARS = 400  # regexes look only at the start of a line
# Quoted lines kept before text typed between quotes: enough for "1. Question?" + options.
CONTEXT_LINES = 4

REPLY_ABOVE_MARKER = re.compile(
    r"skriv\s+svar(et|a)?\s+(ditt\s+|dit\s+)?(over|ovanfor|ovenfor)\s+denne\s+lin(j?en|a)"
    r"|write\s+your\s+(answer|reply)\s+above\s+this\s+line",
    re.I,
)

_QUOTE_PREFIX = re.compile(r"^[ \t]*>")  # as a pattern for readers; `_is_quoted` is the fast test

# The patterns below that name words are written in lower case and matched against `lowered`
# lines (see mailbot.reading.vocabulary.lowered): the same matches as re.I, at a fraction of
# the cost on every line of every reply. _OPENER_INSIDE and _DASHED_NAME are case-sensitive.
LOWERED_PATTERNS = (
    "_ATTRIBUTION", "_ATTRIBUTION_EVIDENCE", "_WRAPPED_START", "_ORIGINAL_SEPARATOR", "_HEADER_FROM",
    "_HEADER_OTHER", "_FORWARDED", "_DEVICE_SIGNATURE", "_SIGN_OFF", "_DISCLAIMER",
)

# "On … wrote:", "Den … skrev …:", "tor. 1. des. 2022 kl. 09:00 skrev …:", "Am … schrieb …:",
# "Le … a écrit :", "El … escribió:", "W dniu … napisał:", "Op … schreef …:", "… đã viết:".
_ATTRIBUTION = re.compile(
    r"\b(wrote|skrev|skreiv|schrieb|a\s+écrit|escribió|scrisse|schreef|napisał|kirjoitti|написал[аи]?"
    r"|đã\s+viết|sent|geschreven|ha\s+scritto)\b[^\n]{0,200}?(:|-{3,})\s*$"
    r"|\b(wrote|skrev|schrieb|sent)\s*$",
)
# An attribution names a date or an address; plain prose ending in "skrev:" does not.
_ATTRIBUTION_EVIDENCE = re.compile(
    r"\d|@|<|\bon\b|\bden\b|\bam\b|\ble\b|\bel\b|\bop\b|\bpå\b|^\s*-{2,}"
)
# A header wrapped over lines starts like one: an opener word or a date, not a sentence.
_WRAPPED_START = re.compile(
    r"^\s*(on|den|am|le|el|op|på|w\s+dniu|vào|\d|(mon|tue|wed|thu|fri|sat|sun|man|tir|tor|fre|lør|søn|ons)\w*\.?,?\s)",
)
# "reply On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:": text and header on one line.
_OPENER_INSIDE = re.compile(r"(?:\s|-{2,}\s*)(On|Den|Am|Le|El|Op|På)\s+[^\n]{0,40}?\d")
# "2014-10-17 11:28 GMT+03:00 Postmaster <postmaster@…>:" and other dated lines naming a sender.
_DATED_SENDER = re.compile(r"^[^\n]{0,60}\d[^\n]{0,160}?<?[\w.+-]{1,64}@[\w.-]{1,100}>?\s*:\s*$")
# "2011/4/7 Nathan <support@example.com>" with no colon (Gmail in East Asian locales): an
# attribution only when a "> " quote follows it.
_DATED_ADDRESS = re.compile(r"^\s*\d{4}[/.-]\d{1,2}[/.-]\d{1,2}\b[^\n]{0,160}<[\w.+-]{1,64}@[\w.-]{1,100}>\s*$")

# Lines that open an unprefixed original.
_ORIGINAL_SEPARATOR = re.compile(
    r"^\s*[-_=*]{2,}\s*(original\s+message|opprinnelig\s+melding|originalmeddelelse|oprindelig\s+meddelelse"
    r"|ursprüngliche\s+nachricht|ursprungligt\s+meddelande|ursprungligt\s+meddelande|oorspronkelijk\s+bericht"
    r"|message\s+d'origine|mensaje\s+original|messaggio\s+originale|alkuperäinen\s+viesti"
    r"|reply\s+message|original\s+melding|antwort\s+nachricht)\s*[-_=*]*\s*$",
)
_UNDERSCORE_RULE = re.compile(r"^\s*_{8,}\s*$")
_HEADER_FROM = re.compile(
    r"^\s*\*?\s*(from|fra|frå|von|de|från|van|od|от|da|lähettäjä|kimden|feladó)\s*\*?\s*:"
)
_HEADER_OTHER = re.compile(
    r"^\s*\*?\s*(sent|sendt|date|dato|datum|gesendet|skickat|envoyé\s|отправлено|envoyé|enviado|inviato|verzonden"
    r"|wysłano|to|til|an|till|à|para|aan|do|subject|emne|betreff|ämne|objet|asunto|oggetto|onderwerp"
    r"|temat|cc|kopi|kopie|кому|тема|дата)\s*\*?\s*:",
)
_FORWARDED = re.compile(r"^\s*[-_=*]{2,}\s*(forwarded\s+message|videresendt\s+melding|vidaresendt)")

# Device and app lines, in the languages residents' phones speak.
_DEVICE_SIGNATURE = re.compile(
    r"^\s*(sendt\s+fra\s+min|sendt\s+fra\s+(outlook|e-post|mail|yahoo|samsung)|sent\s+from\s+my"
    r"|sent\s+from\s+(outlook|mail\s+for|yahoo|samsung|mailbox|my\s)|sent\s+with\s+|skickat\s+från|sendt\s+frå"
    r"|von\s+meinem\s+\S+\s+gesendet|gesendet\s+von|hent(et)?\s+outlook\s+for|get\s+outlook\s+for"
    r"|hentet\s+fra\s+outlook|envoyé\s+de\s+mon|enviado\s+desde)",
)
# Sign-offs that start a signature. English "Thanks,"/"Regards," are kept: in English
# mail they are as often the message itself.
_SIGN_OFF = re.compile(
    r"^\s*(med\s+vennlig\s+hilsen|vennlig\s+hilsen|vennleg\s+helsing|med\s+venleg\s+helsing|venlig\s+hilsen"
    r"|med\s+venlig\s+hilsen|beste\s+hilsen|hilsen|helsing|helsinga|mvh|m\.v\.h\.|vh|hilsn|klem"
    r"|med\s+vänliga\s+hälsningar|vänliga\s+hälsningar|hälsningar|mvh\.|best\s+regards|kind\s+regards"
    r"|mit\s+freundlichen\s+grüßen|viele\s+grüße|liebe\s+grüße)\b[\s,.!]*\S{0,40}\s*$",
)
_SIGNATURE_DELIMITER = re.compile(r"^(-- ?|--|—|-{3,}|_{3,})$")
# "-Lev.", "- roman": a dashed name as the very last line (not one item of a dashed list).
_DASHED_NAME = re.compile(r"^\s*-{1,3}\s?[A-ZÆØÅa-zæøå][\w.]{0,20}(\s[A-ZÆØÅ][\w.]{0,20})?\s*$")
# Employers' transport rules append these after everything, often in two languages.
_DISCLAIMER = re.compile(
    r"^\s*(denne\s+e-?post(en)?\s+(kan|er|og)|this\s+(e-?mail|message)\s+(and\s+any|may|is|contains)"
    r"|konfidensialitet|confidentiality\s+notice|disclaimer\s*:|ansvarsfraskrivelse|taushetsplikt)",
)


@dataclass(frozen=True)
class NewText:
    """What the sender typed.

    `text` is their words alone. `with_context` also keeps, before words typed between
    quoted blocks, the last quoted lines they answer ("> 1. Er det behov …?"), so an
    answer typed under a quoted question can be tied to it. `original` is the
    unprefixed original the client appended, in which some residents type too.
    """

    text: str
    with_context: str
    original: str = ""
    marker_seen: bool = False


def extract_new_text(body: str) -> NewText:
    """Split a plain-text body into the sender's own words and what was quoted."""
    lines = [line.rstrip() for line in body.splitlines()[:MAX_LINES]]
    # Lower-casing keeps every character in place, so these are the same lines, lowered.
    low = [line.rstrip() for line in lowered(body).splitlines()[:MAX_LINES]]
    typed: list[str] = []
    context: list[str] = []
    original: list[str] = []
    marker_seen = False
    quoted_run: list[str] = []  # the prefixed quote just passed, for context
    in_signature = False
    forwarded = False  # inside a forwarded message, its header block is content, not a quote
    i = 0
    while i < len(lines):
        line = lines[i]
        head = line[:MAX_SCAN_CHARS]
        low_head = low[i][:MAX_SCAN_CHARS]
        # Both wordings of the marker start with a fixed word: look for it before the regex.
        if ("skriv" in low_head or "write" in low_head) and REPLY_ABOVE_MARKER.search(head):
            marker_seen = True
            if not _is_quoted(head):
                original = lines[i:]
                break
        if _is_quoted(head):
            quoted_run.append(_unquote(line))
            in_signature = False  # a signature ends where the next quote starts
            i += 1
            continue
        if quoted_run and not line.strip():
            i += 1  # blank lines closing a quote belong to it
            continue
        if _FORWARDED.match(low_head):
            forwarded = True
        header_len = 0 if forwarded else _original_header_at(lines, low, i)
        if header_len:
            before = _text_before_header(head, low_head)
            if before:
                typed.append(before)
                context.append(before)
            k = _next_nonblank(lines, i + header_len)
            if k is not None and _is_quoted(lines[k]):
                # "On … wrote:" before a "> " quote: skip to the quote, read on after it.
                quoted_run = []
                i = k
                continue
            original = lines[i + header_len :]
            break
        if (
            _DEVICE_SIGNATURE.match(low_head)
            or _DISCLAIMER.match(low_head)
            or _ends_in_signature(lines, low, i)
            or _SIGN_OFF.match(low_head)
            and _short_tail(lines, low, i + 1)
        ):
            in_signature = True
        if in_signature:
            i += 1
            continue
        if line.strip() and quoted_run:
            # Text typed after a quote: keep the quoted lines it follows as context.
            kept = [q for q in quoted_run if q.strip()][-CONTEXT_LINES:]
            if context and context[-1].strip():
                context.append("")
            context.extend(f"> {q}" for q in kept)
            quoted_run = []
        if line.strip():
            quoted_run = []
        typed.append(line)
        context.append(line)
        i += 1
    return NewText(
        text=_tidy(typed),
        with_context=_tidy(context),
        original="\n".join(original[:MAX_LINES]),
        marker_seen=marker_seen,
    )


def _is_quoted(line: str) -> bool:
    """`_QUOTE_PREFIX.match(line)`, without the regex: asked of every line, often twice."""
    return line.lstrip(" \t").startswith(">")


def _unquote(line: str) -> str:
    """The line without its leading quote marks (`^[ \t]*(>[ \t]?)+`), as a string scan."""
    end = len(line) - len(line.lstrip(" \t"))
    if not line.startswith(">", end):
        return line
    while line.startswith(">", end):
        end += 1
        if line.startswith((" ", "\t"), end):
            end += 1
    return line[end:]


def _original_header_at(lines: list[str], low: list[str], i: int) -> int:
    """How many lines the quote header starting at line i spans (0 if none); `low` is `lines` lowered."""
    head = low[i][:MAX_SCAN_CHARS]
    if not head.strip() or _FORWARDED.match(head):
        return 0
    if _ORIGINAL_SEPARATOR.match(head):
        return 1
    if _UNDERSCORE_RULE.match(head):
        nxt = _next_nonblank(lines, i + 1)
        return 1 if nxt is not None and _HEADER_FROM.match(low[nxt][:MAX_SCAN_CHARS]) else 0
    if _HEADER_FROM.match(head) or _HEADER_OTHER.match(head):
        # A "From:" block: at least two header-like lines among the next few.
        count = 0
        for j in range(i, min(i + 6, len(lines))):
            candidate = low[j][:MAX_SCAN_CHARS]
            if _HEADER_FROM.match(candidate) or _HEADER_OTHER.match(candidate):
                count += 1
            elif candidate.strip() and count < 2 and not candidate.startswith((" ", "\t")):
                break
        if count >= 2:
            return 1
        return 0
    if _DATED_ADDRESS.match(head):
        k = _next_nonblank(lines, i + 1)
        if k is not None and _is_quoted(lines[k]):
            return 1
    # An attribution may be wrapped over up to three lines by the client.
    joined = ""
    for span in range(1, 4):
        if i + span > len(lines):
            break
        part = low[i + span - 1][:MAX_SCAN_CHARS].strip()
        if span > 1 and not part:
            break
        joined = f"{joined} {part}".strip()
        if len(joined) > 2 * MAX_SCAN_CHARS:
            break
        if span == 2 and not _WRAPPED_START.match(low[i]):
            break
        attribution = bool(_ATTRIBUTION.search(joined) and _ATTRIBUTION_EVIDENCE.search(joined))
        dated = "@" in joined and ":" in joined and bool(_DATED_SENDER.match(joined))  # both are in the pattern
        found = (attribution or dated) and len(joined) < 300
        # A wrapped header counts from its first line, not from a line that is one already.
        if found and (span == 1 or not _ATTRIBUTION.search(low[i][:MAX_SCAN_CHARS])):
            return span
    return 0


def _text_before_header(line: str, low_line: str) -> str:
    """Words typed on the same line as the header: "reply On Wed, 4 Apr … wrote:"."""
    shared = _OPENER_INSIDE.search(line)
    if shared and _ATTRIBUTION.search(low_line[shared.start() :]):
        return line[: shared.start()].rstrip(" -")
    return ""


def _next_nonblank(lines: list[str], j: int) -> int | None:
    for k in range(j, min(j + 4, len(lines))):
        if lines[k].strip():
            return k
    return None


def _ends_in_signature(lines: list[str], low: list[str], i: int) -> bool:
    """A delimiter line ("-- ", "---") with a short tail, or a dashed name as the last line."""
    line = lines[i]
    if line in ("-- ", "--") or (_SIGNATURE_DELIMITER.match(line.strip()) and _short_tail(lines, low, i + 1)):
        return True
    if not _DASHED_NAME.match(line):
        return False
    previous = next((p for p in reversed(lines[:i]) if p.strip()), "")
    following = [n for n in lines[i + 1 : i + 4] if n.strip()]
    # "- Møbler" after "- Ja" is a list of answers, not a signature.
    return not previous.lstrip().startswith("-") and not following


def _short_tail(lines: list[str], low: list[str], j: int) -> bool:
    """A sign-off starts a signature only when little, and nothing answer-like, follows it."""
    rest = []
    for k in range(j, min(j + 12, len(lines))):
        if _is_quoted(lines[k]) or _original_header_at(lines, low, k):
            break
        rest.append(lines[k])
    nonblank = [r for r in rest if r.strip()]
    return len(nonblank) <= 8 and all(len(r) <= 120 for r in nonblank)


def _tidy(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line)
    return "\n".join(out).strip("\n")
