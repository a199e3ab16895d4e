"""Raw bytes to a message and its readable text, whatever the sender's client did.

Nothing here raises on bad input: a message over the size limit is refused with a
reason, broken MIME is read as far as it goes, and text in a charset that lies about
itself is repaired (utf-8 labelled iso-8859-1 and the reverse are both common).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.feedparser import FeedParser
from email.header import decode_header
from email.message import Message
from email.policy import compat32
from functools import lru_cache

MAX_MESSAGE_BYTES = 25 * 1024 * 1024

# Deeply nested multiparts and forwards are legal but never useful past a few levels;
# bounding the walk keeps a hostile message from costing more than a normal one.
MAX_DEPTH = 12
MAX_PARTS = 200
# Text beyond this is never an answer; cutting it bounds every later scan.
MAX_TEXT_CHARS = 200_000
# The parser builds a Message for every part and every delivery-status block (one per blank
# line there), and checks each line against every open boundary: 5 000 parts took 0.4 s and
# 400 nested multiparts 0.25 s. It stops feeding once this many parts, or this many multiparts,
# are built; walk() reads only the first MAX_PARTS, MAX_DEPTH deep, so what is never parsed
# was never read.
MAX_PARSED_PARTS = 300
MAX_PARSED_MULTIPARTS = 4 * MAX_DEPTH
_FEED_CHARS = 1024  # fed at a time, so the parser stops at most a chunk past a limit
# Content-Type and Content-Disposition are split into parameters on every get_param (the
# parser asks for the boundary, the reader for charset and filename), in time that grows with
# the square of the value: a 100 KB parameter list cost 30 ms a call. They are kept to this,
# cut after a whole parameter.
MAX_PARAMS_CHARS = 2_000
# A header value is read up to here (at a space, not inside an encoded word): no Subject,
# From or X-Failed-Recipients needs more, and decoding 12 000 encoded words took 80 ms.
MAX_HEADER_CHARS = 8_000

# The parser costs a few µs a header line and every header lookup walks all fields: 10 000
# header lines took 30 ms to parse and as much again to ask for Subject, From and the rest. Past
# MAX_HEADER_FIELDS fields, a message's own header block keeps only the fields the reader (or
# flufl.bounce) asks for by name; real mail has a few dozen (the most in any fixture: 24).
MAX_HEADER_FIELDS = 300
_HEADERS_READ = frozenset(
    name.encode() for name in (
        "content-type", "content-transfer-encoding", "content-disposition", "content-description",
        "mime-version", "from", "sender", "to", "cc", "reply-to", "subject", "date", "message-id",
        "in-reply-to", "references", "return-path", "delivered-to", "x-original-to", "envelope-to",
        "x-envelope-to", "original-recipient", "auto-submitted", "precedence", "x-failed-recipients",
        "x-mailer", "list-id", "list-unsubscribe", "x-auto-response-suppress", "x-vacation", "x-cron-env",
    )
)
_HEADERS_READ_PREFIXES = (b"x-auto", b"x-mail-autoreply", b"x-boxbe")
_HEADER_END = re.compile(rb"\n\r?\n")
_FIELD_NAME = re.compile(rb"([\041-\071\073-\176]+):")  # a header line as feedparser's headerRE takes it

# Charsets where a utf-8 trial decode would be wrong (ASCII-compatible single-byte
# charsets are the ones clients mislabel; these multi-byte ones are not).
# Bytes the parser could not decode, kept as lone surrogates (surrogateescape).
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_TRUST_DECLARED = re.compile(r"utf-?16|utf-?32|ucs|iso-?2022|shift.?jis|sjis|euc|gb|big5|koi8|cp932|hz", re.I)


@dataclass(frozen=True)
class Decoded:
    """A parsed message, or the reason it was not parsed."""

    message: Message | None
    refused: str | None = None


def decode(raw: bytes) -> Decoded:
    """Parse raw bytes into a Message; refuse oversized input instead of raising."""
    if len(raw) > MAX_MESSAGE_BYTES:
        return Decoded(None, f"message is {len(raw) // (1024 * 1024)} MB, over the 25 MB limit")
    # NUL bytes are never meaningful in mail and upset later string handling.
    raw = raw.replace(b"\x00", b"")
    try:
        return Decoded(_parse(raw))
    except Exception as exc:  # the parser is lenient; this is a last guard
        return Decoded(None, f"message could not be parsed: {type(exc).__name__}")


class _Parsed:
    """What the parser has built so far: parts, and parts that declared a multipart type."""

    def __init__(self) -> None:
        self.parts = 0
        self.multiparts = 0

    def over(self) -> bool:
        return self.parts > MAX_PARSED_PARTS or self.multiparts > MAX_PARSED_MULTIPARTS


class _Part(Message):
    """A parsed part whose structure headers are cut to MAX_PARAMS_CHARS as they are read."""

    built: _Parsed | None = None  # set by the parser's factory

    def set_raw(self, name: str, value: str) -> None:
        if isinstance(value, str) and name.lower() in ("content-type", "content-disposition"):
            if len(value) > MAX_PARAMS_CHARS:
                cut = value.rfind(";", 0, MAX_PARAMS_CHARS)
                value = value[: cut if cut > 0 else MAX_PARAMS_CHARS]
            if self.built is not None and value.lstrip()[:10].lower() == "multipart/":
                self.built.multiparts += 1
        super().set_raw(name, value)


def _parse(raw: bytes) -> Message:
    """message_from_bytes(raw, policy=compat32), stopped past MAX_PARSED_PARTS or _MULTIPARTS."""
    built = _Parsed()

    def factory(**kwargs: object) -> Message:
        part = _Part(**kwargs)  # type: ignore[arg-type]
        part.built = built
        built.parts += 1
        return part

    # compat32 parses lazily and tolerates broken headers; policy.default re-parses every
    # header on access, which is slow and can raise on garbage. Bytes are read as
    # message_from_bytes reads them: ASCII, other bytes kept as surrogates.
    parser = FeedParser(factory, policy=compat32)
    text = _fewer_header_fields(raw).decode("ascii", "surrogateescape")
    for at in range(0, len(text), _FEED_CHARS):
        parser.feed(text[at : at + _FEED_CHARS])
        if built.over():
            break  # what is left stays unparsed: open parts end here, as in a truncated message
    return parser.close()


def _fewer_header_fields(raw: bytes) -> bytes:
    """`raw` with its header block past MAX_HEADER_FIELDS fields cut to the fields read by name.

    Only the message's own header block, and only up to its first line the parser would not
    take for a header: from there on, the bytes are as they came.
    """
    end = _HEADER_END.search(raw)
    head_end = end.start() + 1 if end else len(raw)
    if raw.count(b"\n", 0, head_end) < MAX_HEADER_FIELDS:
        return raw  # every real message
    lines = raw[:head_end].splitlines(keepends=True)
    kept: list[bytes] = []
    fields = 0
    keep = True
    for at, line in enumerate(lines):
        if line[:1] in (b" ", b"\t"):
            if keep:
                kept.append(line)  # a folded line goes with its field
            continue
        name = _FIELD_NAME.match(line)
        if name is None and line.startswith(b"From "):
            kept.append(line)  # an mbox "From " line, which the parser reads as a header line too
            keep = True
            continue
        if name is None:
            kept.extend(lines[at:])  # not a header line: the parser's header block ends here
            break
        fields += 1
        low = name.group(1).lower()
        keep = fields <= MAX_HEADER_FIELDS or low in _HEADERS_READ or low.startswith(_HEADERS_READ_PREFIXES)
        if keep:
            kept.append(line)
    return b"".join(kept) + raw[head_end:]


def text_from_bytes(data: bytes, declared: str | None) -> str:
    """Decode bytes to text, trusting the bytes over the declared charset."""
    charset = (declared or "").strip().strip('"').lower()
    if charset and _TRUST_DECLARED.search(charset):
        try:
            return data.decode(_codec(charset) or "utf-8", errors="replace")
        except (LookupError, ValueError):
            pass
    try:
        # Valid utf-8 with any non-ASCII byte is almost never an accident of latin-1.
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    codec = _codec(charset)
    if codec in (None, "utf-8", "ascii", "latin-1", "iso8859-1", "iso8859-15"):
        # Clients that say iso-8859-1 (or utf-8, wrongly) mean windows-1252 in practice:
        # curly quotes and en dashes live in 0x80-0x9f.
        codec = "cp1252"
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return data.decode("latin-1")


def _codec(charset: str) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


def header_text(msg: Message, name: str) -> str:
    """A header's value with RFC 2047 words decoded; empty when missing or broken."""
    wanted = name.lower()
    try:
        # raw_items gives the stored string; get() would wrap 8-bit values in a Header
        # whose str() has already replaced the bytes with U+FFFD.
        value = next((v for k, v in msg.raw_items() if k.lower() == wanted), None)
    except Exception:
        return ""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    if len(value) > MAX_HEADER_CHARS:
        cut = max(value.rfind(space, 0, MAX_HEADER_CHARS) for space in " \t\n")
        value = value[: cut if cut > 0 else MAX_HEADER_CHARS]
    # The same Subject and From are asked for several times per message, and the same Subject
    # arrives in every reply to a survey; long values (10 000 recipients) have a small cache.
    return _short_header_value(value) if len(value) <= 2000 else _long_header_value(value)


def _header_value(value: str) -> str:
    if not value.isascii() and _ESCAPED_BYTE.search(value):
        # Raw 8-bit header (RFC 6532 or a sloppy client): the parser kept the bytes as
        # surrogates; decode them like a body.
        value = text_from_bytes(value.encode("ascii", "surrogateescape"), None)
    if "=?" not in value:
        # No encoded word, so decode_header would hand the value back unchanged.
        return " ".join(value.split())
    try:
        parts = decode_header(value)
    except Exception:
        return " ".join(value.split())
    out = []
    for chunk, charset in parts:
        out.append(text_from_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    # decode_header keeps folding whitespace between unencoded pieces; collapse it.
    return " ".join("".join(out).split())


_short_header_value = lru_cache(maxsize=1024)(_header_value)
_long_header_value = lru_cache(maxsize=8)(_header_value)


def walk(msg: Message, *, into_messages: bool = False) -> Iterator[Message]:
    """Every part, depth-first, bounded in depth and count.

    Attached messages (message/rfc822, forwards, returned originals in bounces) are
    entered only when asked: their text is someone else's, not the sender's.
    """
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack and seen < MAX_PARTS:
        part, depth = stack.pop()
        seen += 1
        yield part
        if depth >= MAX_DEPTH:
            continue
        if part.get_content_maintype() == "message" and not into_messages and part is not msg:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend((p, depth + 1) for p in reversed(payload) if isinstance(p, Message))


def part_text(part: Message) -> str:
    """The decoded text of one leaf part (transfer encoding and charset)."""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if not isinstance(data, bytes):
        payload = part.get_payload()
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return text_from_bytes(data[: MAX_TEXT_CHARS * 4], charset)[:MAX_TEXT_CHARS]


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).split(";")[0].strip().lower()
    return disposition == "attachment"


@dataclass(frozen=True)
class BodyText:
    """The sender's text, and whether it came from HTML (quotes then look different)."""

    text: str
    from_html: bool = False


def body_text(msg: Message) -> BodyText:
    """The message's own text: text/plain preferred, else HTML rendered as text."""
    plain: Message | None = None
    html: Message | None = None
    for part in walk(msg):
        if _is_attachment(part):
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain" and plain is None:
            plain = part
        elif ctype == "text/html" and html is None:
            html = part
    if plain is not None:
        text = part_text(plain)
        if str(plain.get_param("format") or "").lower() == "flowed":
            from mailbot.reading.flowed import unflow

            text = unflow(text.replace("\r\n", "\n"), str(plain.get_param("delsp") or "").lower() == "yes")
        # Some clients send an empty text/plain beside the real HTML.
        if text.strip() or html is None:
            return BodyText(_normalise(text))
    if html is not None:
        from mailbot.reading.html import html_to_text  # lxml is heavy; load on need

        return BodyText(_normalise(html_to_text(part_text(html))), from_html=True)
    if msg.get_content_maintype() not in ("multipart", "message") and not msg.get_content_type().startswith(
        ("image/", "audio/", "video/", "application/")
    ):
        return BodyText(_normalise(part_text(msg)))
    return BodyText("")


def _normalise(text: str) -> str:
    # BOMs (iOS puts U+FEFF in quoted bodies), NBSPs and CRs are invisible differences
    # that would otherwise break every line-based rule.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\ufeff", "").replace("\u00a0", " ").replace("\u200b", "")
