"""The words a resident typed, separated from what their client quoted and appended.

Clients quote in two ways. Prefixed quotes ("> ") can be followed by more typed text
(bottom-posting, answers typed under each quoted question), so they are skipped and
reading goes on after them. Unprefixed originals (Outlook's "Fra:/Sendt:" block, a
"-----Original Message-----" line) never end, so everything after their header is
the original. Signatures and device lines are cut; employers' disclaimers follow them.
Text typed above a forwarded message is the reply (someone answering for a parent); the
forward is kept as the text only when nothing was typed above it.

The words clients use for all this, in some twenty languages, are a table in
`mailbot.reading.quote_headers`; the rules here are few and know no language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailbot.reading import quote_headers as qh
from mailbot.reading.vocabulary import lowered

# Bounds that keep every scan linear and cheap: nobody types answers past these.
MAX_LINES = 3000
MAX_SCAN_CHARS = 400  # regexes look only at the start of a line
# Quoted lines kept before text typed between quotes: enough for "1. Question?" + options.
CONTEXT_LINES = 4
# Runs longer than these are cut to their ends before anything is scanned: a quoted invitation is
# some forty lines and a resident leaves a few blank lines, so only mutated or looping mail is cut,
# and what it loses (the middle of one quote, surplus blank lines) never holds typed words.
MAX_QUOTED_RUN = 160
MAX_BLANK_RUN = 3

REPLY_ABOVE_MARKER = re.compile(
    r"skriv\s+svar(et|a)?\s+(ditt\s+|dit\s+)?(over|ovanfor|ovenfor)\s+denne\s+lin(j?en|a)"
    r"|write\s+your\s+(answer|reply)\s+above\s+this\s+line",
    re.I,
)

_QUOTE_PREFIX = re.compile(r"^[ \t]*>")  # as a pattern for readers; `_is_quoted` is the fast test

# The patterns below that name words are written in lower case and matched against `lowered`
# lines (see mailbot.reading.vocabulary.lowered): the same matches as re.I, at a fraction of
# the cost on every line of every reply. _OPENER_INSIDE and _DASHED_NAME are case-sensitive.
# The words themselves come from the table in mailbot.reading.quote_headers.
LOWERED_PATTERNS = (
    "_ATTRIBUTION", "_ATTRIBUTION_EVIDENCE", "_STRONG_EVIDENCE", "_OPENS_WITH_WORD",
    "_DATE_OR_TIME", "_INLINE_FIELD",
    "_DEVICE_SIGNATURE", "_SENT_FROM", "_SIGN_OFF", "_DISCLAIMER",
)


def _alternatives(words: list[str]) -> str:
    """A regex alternation of table words: "…" is a few words of anything, spaces may be several.

    Words of scripts written without spaces (Chinese, Japanese, Korean) are matched anywhere;
    the others only as whole words, so "sent" is not found in "sentrum".
    """
    bounded: list[str] = []
    unbounded: list[str] = []
    for word in words:
        pattern = r"\s+".join(
            r"[^\n]{0,40}?".join(re.escape(part) for part in piece.split("…")) for piece in word.split(" ")
        )
        (unbounded if _spaceless(word) else bounded).append(pattern)
    parts = []
    if bounded:
        parts.append(r"(?<!\w)(?:" + "|".join(bounded) + r")(?!\w)")
    if unbounded:
        parts.append("|".join(unbounded))
    return "(?:" + "|".join(parts) + ")"


def _spaceless(word: str) -> bool:
    return any("\u1100" <= c <= "\u11ff" or "\u3040" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af" for c in word)


# "On … wrote:", "Den … skrev …:", "tor. 1. des. 2022 kl. 09:00 skrev …:", "Am … schrieb …:",
# "Le … a écrit :", "El … escribió:", "W dniu … napisał:", "… пише:", "…写道：", "---- Kari wrote ----".
_ATTRIBUTION = re.compile(
    _alternatives(qh.WROTE_VERBS) + r"[^\n]{0,200}?(:|：|-{3,})\s*$|(?<!\w)(wrote|skrev|schrieb|sent)\s*$"
)
_LATIN_OPENERS = [w for w in qh.OPENERS if not _spaceless(w)]
# An attribution names a date or an address, or is drawn between dashes ("---- Kari wrote ----");
# prose ending in "skrev:" or "On reflection I wrote:" does not. Every client writes a date.
_ATTRIBUTION_EVIDENCE = re.compile(r"\d|@|<|^\s*-{2,}")
# Text joined from several lines needs more: a time, a year or an address ("1 A\nsom jeg skrev:" is prose).
_STRONG_EVIDENCE = re.compile(r"@|<|\d{1,2}[:.]\d\d|(?<!\d)(19|20)\d\d(?!\d)|\d年")
# A header wrapped over lines starts like one (see `_starts_as_header`): an opener word, or
# a date or time before any address; not a sentence ("4 Sandvika").
_OPENS_WITH_WORD = re.compile(r"^\s*" + _alternatives(qh.OPENERS))
_DATE_OR_TIME = re.compile(r"\d{1,2}[:.]\d\d|(?<!\d)(19|20)\d\d(?!\d)")
# "reply On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:": text and header on one line.
_OPENER_INSIDE = re.compile(
    r"(?:\s|-{2,}\s*)(" + "|".join(re.escape(w.capitalize()) for w in _LATIN_OPENERS) + r")\s+[^\n]{0,40}?\d"
)
# "2014-10-17 11:28 GMT+03:00 Postmaster <postmaster@…>:" and other dated lines naming a sender.
_DATED_SENDER = re.compile(r"^[^\n]{0,60}\d[^\n]{0,160}?<?[\w.+-]{1,64}@[\w.-]{1,100}>?\)?\s*[:：]\s*$")
# "2011/4/7 Nathan <support@example.com>" with no colon (Gmail in East Asian locales): an
# attribution only when a "> " quote follows it.
_DATED_ADDRESS = re.compile(r"^\s*\d{4}[/.-]\d{1,2}[/.-]\d{1,2}\b[^\n]{0,160}<[\w.+-]{1,64}@[\w.-]{1,100}>\s*$")

# "From: Kari Sent: Monday To: Ola Subject: Svar", an Outlook block run into one line. Only
# names of three letters or more: "a:" and "an:" are too common inside a sentence.
_INLINE_FIELD = re.compile(
    r"\s\*?(" + "|".join(re.escape(n) for n in sorted(qh.FIELDS, key=len, reverse=True) if len(n) >= 3)
    + r")\*?\s*[:：]"
)
# A rule line some clients draw above the header block ("________________", "-----------").
_RULE = frozenset("-_=")
_DELIMITER_DECORATION = " \t-_=*~#–—[]"

# Device and app lines, in the languages residents' phones speak. Phrases that start with the
# device's name ("iPhoneから送信") are line endings: a pattern starting with "anything" would
# be tried at every line's every character.
_DEVICE_SIGNATURE = re.compile(r"^\s*" + _alternatives([p for p in qh.MOBILE_PHRASES if not p.startswith("…")]))
_DEVICE_ENDINGS = tuple(p.lstrip("…") for p in qh.MOBILE_PHRASES if p.startswith("…"))
_SENT_FROM = re.compile(_alternatives(qh.SENT_FROM) + r"\s+\S")
# Sign-offs that start a signature when a short tail follows them. English "Thanks," is kept:
# in English mail it is as often the message itself.
_SIGN_OFF = re.compile(r"^\s*" + _alternatives(qh.SIGN_OFFS) + r"[\s,.!]*\S{0,40}\s*$")
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
    lines, low = _bounded_lines(body)
    typed: list[str] = []
    context: list[str] = []
    original: list[str] = []
    marker_seen = False
    quoted_run: list[str] = []  # the prefixed quote just passed, for context
    in_signature = False
    forwarded = False  # inside a forwarded message, its header block is content, not a quote
    # Header lengths by line: a signature's tail is looked over from many lines above it.
    headers: dict[int, int] = {}
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
        if not forwarded and _delimiter(low_head) == "forwarded":
            if any(t.strip() for t in typed):
                # Typed above a forward (a son answering for his mother): that is the reply,
                # the forwarded message is the original, read only for answers typed into it.
                original = lines[i + 1 :]
                break
            forwarded = True  # a bare forward: the forwarded message is what was sent to us
        header_len = 0 if forwarded else _header_at(lines, low, i, headers)
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
        if not in_signature and (
            _is_device_line(low_head)
            or _DISCLAIMER.match(low_head)
            or _ends_in_signature(lines, low, i, headers)
            or _SIGN_OFF.match(low_head)
            and _short_tail(lines, low, i + 1, headers)
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


def _bounded_lines(body: str) -> tuple[list[str], list[str]]:
    """The body's lines and the same lines lowered, long quoted and blank runs cut to their ends."""
    lines = [line.rstrip() for line in body.splitlines()]
    # Lower-casing keeps every character in place, so these are the same lines, lowered.
    low = [line.rstrip() for line in lowered(body).splitlines()]
    keep: list[int] = []
    i = 0
    while i < len(lines):
        kind = _line_kind(lines[i])
        end = i + 1
        while end < len(lines) and _line_kind(lines[end]) == kind:
            end += 1
        if kind == "blank":
            keep += range(i, min(end, i + MAX_BLANK_RUN))
        elif kind == "quoted" and end - i > MAX_QUOTED_RUN:
            keep += [*range(i, i + MAX_QUOTED_RUN // 2), *range(end - MAX_QUOTED_RUN // 2, end)]
        else:
            keep += range(i, end)
        i = end
    if len(keep) == len(lines) <= MAX_LINES:
        return lines, low
    keep = keep[:MAX_LINES]
    return [lines[i] for i in keep], [low[i] for i in keep]


def _line_kind(line: str) -> str:
    return "quoted" if _is_quoted(line[:MAX_SCAN_CHARS]) else "typed" if line.strip() else "blank"


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


def _header_at(lines: list[str], low: list[str], i: int, headers: dict[int, int]) -> int:
    """`_original_header_at`, asked once per line."""
    found = headers.get(i)
    if found is None:
        found = headers[i] = _original_header_at(lines, low, i)
    return found


def _original_header_at(lines: list[str], low: list[str], i: int) -> int:
    """How many lines the quote header starting at line i spans (0 if none); `low` is `lines` lowered."""
    head = low[i][:MAX_SCAN_CHARS]
    if not head.strip():
        return 0
    kind = _delimiter(head)
    if kind == "original":
        return 1
    if kind == "forwarded":
        return 0
    if head.lstrip()[:1] in _RULE and _is_rule(head):
        # "________________________________" over Outlook's "From:" block.
        nxt = _next_nonblank(lines, i + 1)
        return 1 if nxt is not None and _field(low[nxt]) is not None else 0
    if _field(head) is not None:
        return _header_block(low, i)
    if head.endswith(">") and _DATED_ADDRESS.match(head):
        k = _next_nonblank(lines, i + 1)
        if k is not None and _is_quoted(lines[k]):
            return 1
    return _attribution(lines, low, i)


def _delimiter(low_line: str) -> str | None:
    """"original" or "forwarded" for a delimiter line ("-----Original Message-----",
    "Begin forwarded message:", "-------- Videresendt melding --------"), else None."""
    stripped = low_line.strip()
    if len(stripped) > 120 or len(stripped) < 6:
        return None
    if stripped[0] not in _DELIMITER_DECORATION and not stripped.endswith((":", "：")):
        return None  # the common case, answered without building the phrase
    core = stripped.strip(_DELIMITER_DECORATION)
    decorated = core != stripped
    if core.endswith((":", "：")):
        core = core[:-1].strip(_DELIMITER_DECORATION)
        decorated = True
    if not decorated:
        return None  # the bare words "original message" in a sentence are no delimiter
    words = core.split()
    kind = qh.DELIMITERS.get(" ".join(words))
    if kind is None and stripped[0] in "-_=*" and stripped[-1] in "-_=*":
        # Between dashes, a phrase may go on: "----- Forwarded by Kari/Org on 01.12.2022 -----".
        kind = next((k for n in range(2, 5) if (k := qh.DELIMITERS.get(" ".join(words[:n])))), None)
    return kind


def _is_rule(low_line: str) -> bool:
    stripped = low_line.strip()
    return len(stripped) >= 8 and set(stripped) <= _RULE


def _field(low_line: str) -> tuple[dict[str, str], str] | None:
    """The header field a line starts with ("From:", "*Von:*", "Från :", "发件人："), by table
    lookup: its {language: role} and the value after the colon."""
    head = low_line[:48]
    colon = head.find(":")
    wide = head.find("：")
    if wide != -1 and (colon == -1 or wide < colon):
        colon = wide
    if colon < 1:
        return None
    name = head[:colon].strip(" \t*_")
    if not name:
        return None
    roles = qh.FIELDS.get(name) or qh.FIELDS.get(" ".join(name.split()))
    if roles is None:
        return None
    return roles, low_line[colon + 1 : MAX_SCAN_CHARS].strip(" \t*")


def _header_block(low: list[str], i: int) -> int:
    """The length of the header block at line i: 2+ field names of one language's table on
    consecutive lines (a wrapped To: or Subject: value may sit between them), 0 if none."""
    fields: list[dict[str, str]] = []
    values: list[str] = []
    end = i
    wrapped = 0
    j = i
    while j < len(low) and j < i + 16:
        found = _field(low[j][:MAX_SCAN_CHARS])
        if found is not None:
            if any(found[0] is seen for seen in fields):  # one dict per field name in the table
                break  # a block names each field once: "From: x" / "From: y" is two tries at one
            fields.append(found[0])
            values.append(found[1])
            end, wrapped = j, 0
        elif not low[j].strip():
            # Some clients (and HTML turned into text) put a blank line between the fields.
            if j + 1 < len(low) and _field(low[j + 1][:MAX_SCAN_CHARS]) is not None:
                j += 1
                continue
            break
        elif wrapped < 2:
            wrapped += 1  # "Subject: Two\nline subject", an address list wrapped
        else:
            break
        j += 1
    if len(fields) == 1:
        return 1 if _inline_block(fields[0], low[i]) else 0
    if not _one_language_block(fields):
        return 0
    # Two lines of "Til: … / Fra: …" could be typed; a real block names an address or a date.
    if len(fields) == 2 and not any("@" in v or "<" in v or any(c.isdigit() for c in v) for v in values):
        return 0
    return end - i + 1


def _one_language_block(fields: list[dict[str, str]]) -> bool:
    """Two or more roles, one of them From or Sent, named in one language's words."""
    languages = {code for roles in fields for code in roles}
    for code in languages:
        named = {roles[code] for roles in fields if code in roles}
        if len(named) >= 2 and named & {"from", "sent"}:
            return True
    return False


def _inline_block(first: dict[str, str], low_line: str) -> bool:
    """"From: Kari <k@x.no> Sent: 1 Dec 2022 To: Ola Subject: Svar" on one line."""
    if "from" not in first.values():
        return False
    found = [qh.FIELDS[m.group(1)] for m in _INLINE_FIELD.finditer(low_line[:MAX_SCAN_CHARS])]
    return len(found) >= 2 and _one_language_block([first, *found])


def _attribution(lines: list[str], low: list[str], i: int) -> int:
    """The length of an attribution line ("On … wrote:") at line i, which a client may have
    wrapped over up to four lines, with blank lines or quote marks inside (Polymail)."""
    first = low[i][:MAX_SCAN_CHARS]
    if _is_attribution(first.strip()):
        return 1
    if not ("@" in first or "<" in first or _starts_as_header(first)):
        return 0
    ahead = range(i + 1, min(i + 6, len(lines)))
    if not any(low[j].endswith(_ATTRIBUTION_ENDINGS) for j in ahead):  # `low` lines are rstripped
        return 0  # nothing below ends as a header does: spare the joins
    # Blank lines inside only after "On <date> <name>" broken before its verb.
    gaps = bool(_OPENS_WITH_WORD.match(first) and _STRONG_EVIDENCE.search(first))
    parts = [first.strip()]
    for j in ahead:
        part = low[j][:MAX_SCAN_CHARS]
        if not part.strip():
            if gaps:
                continue
            break
        if _is_quoted(part):
            if not gaps:
                break
            part = _unquote(part)
        parts.append(part.strip())
        joined = " ".join(parts)
        # Joined lines need a time, a year or an address: "1 A" / "som jeg skrev:" is prose.
        if _ends_like_attribution(parts[-1]) and _is_attribution(joined) and _STRONG_EVIDENCE.search(joined):
            # "4 Sandvika" / "Den 01.12.2022 09:00, skrev …:": the header starts below.
            later = range(1, len(parts))
            if any(_starts_as_header(parts[k]) and _is_attribution(" ".join(parts[k:])) for k in later):
                return 0
            return j - i + 1
        if len(parts) == 4:
            break
    return 0


# What every attribution ends in, "…:", "… wrote ----" or a bare verb (see _ATTRIBUTION).
_ATTRIBUTION_ENDINGS = (":", "：", "--", "wrote", "skrev", "schrieb", "sent")


def _is_device_line(low_line: str) -> bool:
    """ "Sent from my iPhone", "Von meinem iPhone gesendet", "iPhoneから送信", and any short
    "Sent from Spark" line: an app's name, not a sentence."""
    if _DEVICE_SIGNATURE.match(low_line):
        return True
    stripped = low_line.strip()
    if len(stripped) > 60:
        return False
    if stripped.endswith(_DEVICE_ENDINGS):
        return True
    return len(stripped.split()) <= 6 and not any(c in stripped for c in ",;?") and bool(_SENT_FROM.match(stripped))


def _starts_as_header(text: str) -> bool:
    """An opener word, or a date or time in the first 30 characters before any address."""
    if _OPENS_WITH_WORD.match(text):
        return True
    head = text[:34]
    for mark in "@<":
        if mark in head:
            head = head[: head.index(mark)]
    return bool(_DATE_OR_TIME.search(head))


def _ends_like_attribution(text: str) -> bool:
    """A cheap test that spares the long patterns nearly every line."""
    return text.endswith(_ATTRIBUTION_ENDINGS)


def _is_attribution(text: str) -> bool:
    if len(text) >= 300 or not _ends_like_attribution(text):
        return False
    tail = text[-260:]  # the verb stands at most 200 characters before the colon
    if _ATTRIBUTION.search(tail) and _ATTRIBUTION_EVIDENCE.search(text):
        return True
    return "@" in text and bool(_DATED_SENDER.match(text))  # "@" is in the pattern: a cheap test first


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


def _ends_in_signature(lines: list[str], low: list[str], i: int, headers: dict[int, int]) -> bool:
    """A delimiter line ("-- ", "---") with a short tail, or a dashed name as the last line."""
    line = lines[i]
    if line in ("-- ", "--") or (_SIGNATURE_DELIMITER.match(line.strip()) and _short_tail(lines, low, i + 1, headers)):
        return True
    if not _DASHED_NAME.match(line):
        return False
    previous = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
    following = [k for k in range(i + 1, min(i + 4, len(lines))) if lines[k].strip()]
    # "- Møbler" after "- Ja" is a list of answers, not a signature. Only a phone's own
    # line ("-Lev." / "Sent from my HTC smartphone!") or a signature block ("-Kari" / "--"
    # / "Kari Nordmann, Tlf …") may follow the name.
    if previous.lstrip().startswith("-"):
        return False
    if following and _SIGNATURE_DELIMITER.match(lines[following[0]].strip()):
        return _short_tail(lines, low, following[0] + 1, headers)
    return all(_is_device_line(low[k]) for k in following)


def _short_tail(lines: list[str], low: list[str], j: int, headers: dict[int, int]) -> bool:
    """A sign-off starts a signature only when little, and nothing answer-like, follows it:
    a few short lines, or a whole business card (name, title, address, phones) up to the
    quote or the end."""
    rest = []
    complete = False
    for k in range(j, min(j + 18, len(lines))):
        if _is_quoted(lines[k]) or _header_at(lines, low, k, headers):
            complete = True
            break
        rest.append(lines[k])
    else:
        complete = j + 18 >= len(lines)
    if any(len(r) > 120 for r in rest[:12]):
        return False
    nonblank = [r for r in rest if r.strip()]
    return len([r for r in rest[:12] if r.strip()]) <= 8 or (complete and len(nonblank) <= 12)


def _tidy(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line)
    return "\n".join(out).strip("\n")
