"""Delivery failures: is this a bounce, which addresses failed, for good or for now.

Order of trust, as in Mailman: our own VERP token first (it names the member even
when the body is unreadable), then the RFC 3464 delivery-status fields, then
flufl.bounce's detectors for the many non-standard formats, then a last look at
the text. A 4.x.x status or "delayed" is temporary: the address is not dead.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from email.iterators import body_line_iterator
from email.message import Message
from functools import lru_cache
from io import StringIO
from itertools import islice

from flufl.bounce import _scan
from flufl.bounce._detectors import simplematch, simplewarning

from mailbot.reading.decode import MAX_DEPTH, MAX_TEXT_CHARS, header_text, part_text, walk
from mailbot.reading.vocabulary import lowered

_VERP_TOKEN = re.compile(r"\bbounces\+([A-Za-z0-9_=-]{1,64})@", re.I)
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+"
)
_VALID_ADDRESS = re.compile(r"^" + _ADDRESS.pattern + r"$")
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_REPLY = re.compile(r"\b([45])\d\d[ -]")

# _BOUNCE_SENDER and _BOUNCE_SUBJECT are asked of every message, so they are written in lower
# case and searched in `lowered` text: the matches of re.I, several times faster.
_BOUNCE_SENDER = re.compile(r"mailer-daemon|postmaster|mail\s+delivery\s+(system|subsystem)|microsoftexchange")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery\s+status\s+notification|delivery\s+(has\s+)?fail|failure\s+notice"
    r"|returned\s+mail|mail\s+delivery\s+failed|could\s+not\s+be\s+delivered|delivery\s+notification"
    r"|nondeliverable|non-deliverable|ikke\s+levert|kan\s+ikke\s+leveres|levering\s+mislykte|ikke\s+leverbar"
    r"|unzustellbar|olevererbar|kunde\s+inte\s+levereras|returned\s+to\s+sender|delivery\s+problem"
    r"|message\s+not\s+delivered|warning:\s+could\s+not\s+send|delayed\s+mail|delivery\s+delayed",
)
_TEMPORARY_TEXT = re.compile(
    r"\bdelayed\b|will\s+(retry|keep\s+trying|continue\s+trying)|still\s+trying|has\s+not\s+yet\s+been\s+delivered"
    r"|not\s+yet\s+been\s+delivered|forsinket|prøver\s+(igjen|fortsatt)|temporar(y|ily)\s+(failure|problem|error)",
    re.I,
)
_PERMANENT_TEXT = re.compile(
    r"user\s+unknown|unknown\s+user|not\s+a\s+valid\s+(user|recipient|address)|no\s+such\s+(user|mailbox|address)|does\s+not\s+exist|doesn't\s+exist"
    r"|address\s+not\s+found|recipient\s+not\s+found|mailbox\s+unavailable|invalid\s+(recipient|address|mailbox)"
    r"|account\s+(has\s+been\s+)?disabled|deactivated|permanent(ly)?\s+(fatal|error|failure)|finnes\s+ikke"
    r"|fant\s+ikke|ble\s+ikke\s+funnet|mislyktes|could\s+not\s+be\s+delivered|unrouteable|not\s+our\s+customer",
    re.I,
)


@dataclass(frozen=True)
class Bounce:
    """A delivery failure. `permanent` is None when the report does not say."""

    addresses: tuple[str, ...]
    permanent: bool | None
    token: str | None = None


def read_bounce(msg: Message, own_addresses: Iterable[str] = ()) -> Bounce | None:
    """The delivery failure this message reports, or None if it is not a bounce."""
    own = {a.lower() for a in own_addresses}
    token = verp_token(msg)
    dsn_failed, dsn_delayed, is_dsn = _delivery_status(msg)
    looks_like_bounce = is_dsn or _looks_like_bounce(msg)
    header_failed = {a for a in _addresses_in(header_text(msg, "X-Failed-Recipients"))}
    if not (looks_like_bounce or dsn_failed or dsn_delayed or header_failed):
        # An ordinary reply stops here, cheaply: flufl.bounce's detectors each walk
        # the whole message, and the notice text is decoded only for a bounce.
        return None

    text = _report_text(msg)
    flufl_temporary, flufl_permanent = (
        _flufl_failures(msg) if (looks_like_bounce or token) else (set(), set())
    )
    failed = dsn_failed | header_failed | flufl_permanent
    delayed = (dsn_delayed | flufl_temporary) - failed
    if not failed and not delayed and looks_like_bounce:
        failed = _addresses_in_failure_text(text)
    addresses = tuple(sorted(a for a in (failed or delayed) if _is_theirs(a, own)))
    named_nobody = not addresses and not token and not is_dsn and not header_failed
    if named_nobody and not _BOUNCE_SUBJECT.search(lowered(header_text(msg, "Subject"))):
        return None  # a "Mail Delivery System" notice that names nobody and says no failure
    return Bounce(addresses=addresses, permanent=_permanence(failed, delayed, is_dsn, text, msg), token=token)


def verp_token(msg: Message) -> str | None:
    """The token from a `bounces+TOKEN@…` address this message was sent to (VERP)."""
    for name in ("Delivered-To", "X-Original-To", "Envelope-To", "To", "X-Envelope-To", "Original-Recipient"):
        for value in msg.get_all(name, []) or []:
            match = _VERP_TOKEN.search(str(value)[:2000])
            if match:
                return match.group(1).lower()
    return None


def _is_theirs(address: str, own: set[str]) -> bool:
    low = address.lower()
    return (
        low not in own
        and not _VERP_TOKEN.search(low)
        and not low.startswith(("mailer-daemon@", "postmaster@"))
    )


def _looks_like_bounce(msg: Message) -> bool:
    sender = header_text(msg, "From")
    if _BOUNCE_SENDER.search(lowered(sender)) or sender.strip() in ("<>", '""'):
        return True
    return_path = header_text(msg, "Return-Path").strip()
    subject = header_text(msg, "Subject")
    return bool(_BOUNCE_SUBJECT.search(lowered(subject))) and (
        return_path in ("<>", "") or "daemon" in sender.lower()
    )


def _delivery_status(msg: Message) -> tuple[set[str], set[str], bool]:
    """(failed, delayed, found a delivery-status part) from RFC 3464 fields."""
    failed: set[str] = set()
    delayed: set[str] = set()
    found = False
    for part in walk(msg):
        if part.get_content_type() not in ("message/delivery-status", "message/global-delivery-status"):
            continue
        found = True
        for block in _status_blocks(part):
            # The original recipient is the address we sent to; the final one may be a rewrite.
            recipient = block.get("original-recipient") or block.get("final-recipient") or ""
            addresses = _addresses_in(recipient.split(";", 1)[-1])
            action = block.get("action", "").lower()
            status = _STATUS.search(block.get("status", ""))
            if action.startswith(("delayed", "relayed", "delivered", "expanded")) and action != "failed":
                if action.startswith("delayed"):
                    delayed |= addresses
                continue
            if status and status.group(1) == "4":
                delayed |= addresses
            elif action.startswith("failed") or (status and status.group(1) == "5"):
                failed |= addresses
    return failed, delayed, found


def _status_blocks(part: Message) -> list[dict[str, str]]:
    """Per-recipient field blocks of a delivery-status part, however it was parsed."""
    payload = part.get_payload()
    blocks: list[dict[str, str]] = []
    if isinstance(payload, list):
        for sub in payload:
            if isinstance(sub, Message):
                blocks.append({k.lower(): " ".join(str(v).split()) for k, v in sub.items()})
        return blocks
    # Some MTAs base64 the part, so the parser leaves it as text: split it ourselves.
    text = part_text(part)
    current: dict[str, str] = {}
    last = ""
    for line in text.splitlines()[:2000]:
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, ""
        elif line[:1] in " \t" and last:
            current[last] += " " + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            last = key.strip().lower()
            current[last] = value.strip()
    if current:
        blocks.append(current)
    return blocks


def _addresses_in(text: str) -> set[str]:
    return {m.group(0).strip(".").lower() for m in _ADDRESS.finditer(text[:MAX_TEXT_CHARS])}


def _report_text(msg: Message) -> str:
    """The human-readable notice: text parts outside the returned original."""
    chunks: list[str] = []
    for part in walk(msg):
        if part.get_content_type() in ("text/plain", "text/html") and len(chunks) < 4:
            chunks.append(part_text(part)[:50_000])
    return "\n".join(chunks)


_FAILURE_LINE = re.compile(
    r"(unknown|not\s+found|not\s+a\s+valid|does\s+not\s+exist|no\s+such|failed|undeliverable|rejected|denied|invalid|disabled"
    r"|mislyktes|finnes\s+ikke|could\s+not|couldn't|unable|permanent|550|553|554|5\.\d\.\d|over\s+quota|full)",
    re.I,
)


def _addresses_in_failure_text(text: str) -> set[str]:
    """Addresses named next to failure words in the notice, before any returned original."""
    lines = text.splitlines()[:400]
    found: set[str] = set()
    for i, line in enumerate(lines):
        if re.match(r"^\s*(-+\s*original|original\s+message|received:|return-path:|message-id:)", line, re.I):
            break
        addresses = _addresses_in(line[:1000])
        if not addresses:
            continue
        window = " ".join(lines[max(0, i - 3) : i + 4])[:3000]
        if _FAILURE_LINE.search(window):
            found |= addresses
    return found


# --- flufl.bounce on a bounded copy of the message (issue 14) ------------------------------------
# The detectors read every line of every part, SimpleMatch once per pattern (42 of them), and some
# of their patterns backtrack quadratically along a long line without an "@": Exchange's took 3.3 s
# on one 90 KB line, SimpleMatch 8.9 s on a 66 KB bounce with a chunk of its body repeated. So they
# are shown a copy bounded the way no real notice is: a notice's failure block sits in its first
# few hundred lines and no address is longer than 254 characters, so results on real bounces are
# the same (checked against every fixture), while the work per message has a fixed ceiling.
VIEW_PARTS = 100  # MIME parts and delivery-status blocks copied (a DSN has one block per recipient)
VIEW_HEADERS = 200  # header fields per part; the detectors read From, X-Mailer, X-Failed-Recipients
VIEW_HEADER_CHARS = 4_000  # per header value (about 100 addresses in X-Failed-Recipients)
VIEW_SCAN_CHARS = 1_000_000  # body characters looked at, over all parts, to pick the lines below
VIEW_LINES = 1_500  # body lines shown, over all parts
VIEW_CHARS = 64_000  # body characters shown, over all parts
VIEW_LINE_CHARS = 1_000  # per line: far past an address, and it caps a backtracking pattern's cost
VIEW_SAME_LINE = 3  # copies of one line shown: a repeated chunk repeats its lines
VIEW_QUOTED_RUN = 20  # lines shown of one run of ">" lines (a returned original, quoted)


class _Budget:
    """What is left to copy; one per view, shared by every part."""

    def __init__(self) -> None:
        self.parts = VIEW_PARTS
        self.scan = VIEW_SCAN_CHARS
        self.lines = VIEW_LINES
        self.chars = VIEW_CHARS
        self.seen: dict[str, int] = {}


def bounded_view(msg: Message) -> Message:
    """A copy of `msg` for flufl.bounce's detectors: the same parts and headers, bounded.

    The tree keeps its shape (the first VIEW_PARTS parts, MAX_DEPTH deep) and every header
    field (values cut at VIEW_HEADER_CHARS); payloads stay as they were sent (the detectors
    decode what they need), but cut to VIEW_LINES lines and VIEW_CHARS characters in all,
    each line to VIEW_LINE_CHARS, with runs of blank lines collapsed to one, runs of ">"
    lines to VIEW_QUOTED_RUN, and no line shown more than VIEW_SAME_LINE times.
    """
    return _bounded_copy(msg, 0, _Budget())


def _bounded_copy(part: Message, depth: int, budget: _Budget) -> Message:
    budget.parts -= 1
    copy = Message()
    for name, value in islice(part.raw_items(), VIEW_HEADERS):
        copy[name] = value[:VIEW_HEADER_CHARS] if isinstance(value, str) else value
    # A part with no Content-Type is text/plain, or message/rfc822 inside a multipart/digest.
    copy.set_default_type(part.get_default_type())
    payload = part.get_payload()
    if isinstance(payload, list):
        children: list[Message | str] = []
        for sub in payload if depth < MAX_DEPTH else ():
            if budget.parts <= 0:
                break
            if isinstance(sub, Message):
                children.append(_bounded_copy(sub, depth + 1, budget))
        copy.set_payload(children)
    elif isinstance(payload, str):
        copy.set_payload(_bounded_lines(payload, budget))
    return copy


def _bounded_lines(payload: str, budget: _Budget) -> str:
    text = payload[: budget.scan]
    budget.scan -= len(text)
    kept: list[str] = []
    blank_before = False
    quoted_run = 0
    for line in StringIO(text):  # split as body_line_iterator splits, on "\n" only
        if budget.lines <= 0 or budget.chars <= 0:
            break
        if len(line) > VIEW_LINE_CHARS:
            line = line[:VIEW_LINE_CHARS] + ("\n" if line.endswith("\n") else "")
        stripped = line.strip()
        if not stripped:
            if blank_before:
                continue
            blank_before, quoted_run = True, 0
        else:
            blank_before = False
            quoted_run = quoted_run + 1 if stripped.startswith(">") else 0
            copies = budget.seen.get(line, 0)
            if quoted_run > VIEW_QUOTED_RUN or copies >= VIEW_SAME_LINE:
                continue
            budget.seen[line] = copies + 1
        kept.append(line)
        budget.lines -= 1
        budget.chars -= len(line)
    return "".join(kept)


class _SimpleMatch(simplematch.SimpleMatch):
    """flufl.bounce's SimpleMatch, reading the lines once, without its address filter's bug.

    flufl.bounce 6.0 validates found addresses with a pattern whose domain part
    allows no hyphen, so every failure at a domain like "bredband-nett.no" is dropped.
    It also walks the whole message once per pattern; here the lines are taken once, and a
    pattern's start is looked for in all of them with one search before any line-by-line
    matching: a line where the start matches is always inside the first match of the same
    pattern over the joined lines (with ^ and $ at line ends), so that search skips exactly
    the lines that could not start, and patterns whose start is nowhere cost one search.
    """

    TEMPORARY = False  # SimpleWarning's patterns find delays, not failures

    def process(self, msg: Message) -> tuple[frozenset[bytes], frozenset[bytes]]:
        lines = list(body_line_iterator(msg))
        offsets: list[int] = []
        at = 0
        for line in lines:
            offsets.append(at)
            at += len(line) + (not line.endswith("\n"))
        # Every line ends in "\n" here, so a part's last line ends where a line ends.
        joined = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        found: set[bytes] = set()
        for start, end, address_re in self.PATTERNS:
            first = _per_line(start).search(joined)
            if first is None:
                continue
            started = False
            for line in lines[bisect_right(offsets, first.start()) - 1 :]:
                if not started and start.search(line):
                    started = True
                if started:
                    match = address_re.search(line)
                    if match and match.group("addr"):
                        found.add(simplematch._quopri_decode(match.group("addr")))
                    elif end.search(line):
                        break
            if found:
                break
        valid = frozenset(a for a in found if _VALID_ADDRESS.match(a.decode("ascii", "replace").strip("<>")))
        return (valid, frozenset()) if self.TEMPORARY else (frozenset(), valid)


class _SimpleWarning(_SimpleMatch):
    """flufl.bounce's SimpleWarning on the same terms: its addresses are delays."""

    PATTERNS = simplewarning.PATTERNS
    TEMPORARY = True


@lru_cache(maxsize=128)
def _per_line(pattern: re.Pattern[str]) -> re.Pattern[str]:
    return re.compile(pattern.pattern, pattern.flags | re.MULTILINE)


_OURS: dict[type, type] = {simplematch.SimpleMatch: _SimpleMatch, simplewarning.SimpleWarning: _SimpleWarning}
_DETECTORS = [_OURS.get(d, d) for d in _scan._DETECTORS]


def _flufl_failures(msg: Message) -> tuple[set[str], set[str]]:
    """(temporary, permanent) addresses from flufl.bounce's per-MTA detectors, on a bounded view."""
    view = bounded_view(msg)
    for detector in _DETECTORS:
        try:
            temporary, permanent = detector().process(view)
        except Exception:  # one detector's crash on odd input must not stop the rest
            continue
        if temporary or permanent:
            return _as_addresses(temporary), _as_addresses(permanent)
    return set(), set()


def _as_addresses(found: Iterable[bytes | str]) -> set[str]:
    out = set()
    for item in found:
        text = item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
        out |= _addresses_in(text)
    return out


def _permanence(failed: set[str], delayed: set[str], is_dsn: bool, text: str, msg: Message) -> bool | None:
    if failed:
        return True
    if delayed:
        return False
    subject = header_text(msg, "Subject")
    statuses = {m.group(1) for m in _STATUS.finditer(text[:50_000])}
    if "5" in statuses:
        return True
    if "4" in statuses or _TEMPORARY_TEXT.search(subject) or _TEMPORARY_TEXT.search(text[:20_000]):
        return False
    if _PERMANENT_TEXT.search(text[:20_000]) or {m.group(1) for m in _SMTP_REPLY.finditer(text[:20_000])} == {
        "5"
    }:
        return True
    return None
