"""Headers and MIME structure, encoded once, by hand, and fast.

`policy.default` parses every header it is given and refolds it on output
(tens of microseconds each); the headers here are made from values we
control, so they are encoded and folded once (RFC 2047 / RFC 5322) and stored
as `PreparedHeader` objects the policy passes through untouched. Reading a
header back (`msg["To"]`) gives its decoded text, safely quoted, as
`policy.default` would; `msg.as_bytes()` writes the encoded form.

A member's name is data, never structure: control characters become spaces
and anything special is quoted or encoded, so no name can add a header or a
recipient.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import EmailPolicy, Policy
from functools import lru_cache

MAX_LINE = 78  # RFC 5322 "SHOULD"; encoded lines never pass 998
_HTML_LINE = 900  # 7bit HTML lines stay well under the 998-octet limit

# Control characters, Unicode line/paragraph separators and the BOM/zero-width
# formatting characters: a name is one line of visible text.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]+")
_SPACES = re.compile(r"\s+")
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+")  # atext and spaces: needs no quoting
_ADDR = re.compile(r"[^\s<>()\[\],;:\\\"@]+@[^\s<>()\[\],;:\\\"@]+")
_MSGID = re.compile(r"<[^\s<>]+>")


class HeaderValueError(ValueError):
    """A value the edge handed us cannot go into a header (a line break in an address, say)."""


class PreparedHeader(str):
    """A header already encoded and folded: `str()` is the decoded text, `fold()` the wire form."""

    __slots__ = ("name", "_lines")

    name: str
    _lines: tuple[str, ...]

    def __new__(cls, name: str, decoded: str, lines: tuple[str, ...]) -> PreparedHeader:
        self = super().__new__(cls, decoded)
        self.name = name
        self._lines = lines
        return self

    def fold(self, *, policy: object) -> str:
        linesep = getattr(policy, "linesep", "\n")
        return linesep.join(self._lines) + linesep

    def __reduce__(self) -> tuple[object, ...]:
        return (PreparedHeader, (self.name, str(self), self._lines))


class ComposePolicy(EmailPolicy):
    """`policy.SMTP` without the per-header uniqueness scan.

    The stock check builds a header class and rescans every header on each
    assignment; `assemble` sets each header once, so the scan only costs time.
    """

    def header_max_count(self, name: str) -> int | None:
        return None


POLICY = ComposePolicy(linesep="\r\n")


def one_line(text: str, limit: int = 200) -> str:
    """Text made safe for a header phrase: control characters and line breaks become single spaces."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()[:limit].strip()


def _encoded_words(text: str) -> list[str]:
    """RFC 2047 "B" encoded words of at most 75 characters, never splitting a character."""
    data = text.encode("utf-8")
    words = []
    start = 0
    while start < len(data):
        end = min(start + 45, len(data))  # 45 octets -> 60 base64 characters -> a 72-character word
        while end < len(data) and data[end] & 0xC0 == 0x80:  # do not cut inside a UTF-8 sequence
            end -= 1
        words.append("=?utf-8?b?" + base64.b64encode(data[start:end]).decode("ascii") + "?=")
        start = end
    return words


def _fold(name: str, tokens: list[str]) -> tuple[str, ...]:
    """Join tokens with spaces into lines of at most 78 characters where possible."""
    lines: list[str] = []
    current = name + ":"
    for token in tokens:
        if len(current) + 1 + len(token) > MAX_LINE and current != name + ":":
            lines.append(current)
            current = " " + token
        else:
            current += " " + token
    lines.append(current)
    return tuple(lines)


def _phrase_tokens(phrase: str) -> tuple[list[str], str]:
    """(encoded tokens, decoded form) for a display name."""
    if not phrase:
        return [], ""
    if phrase.isascii():
        if _ATOMS.fullmatch(phrase):
            return phrase.split(" "), phrase
        quoted = '"' + phrase.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return quoted.split(" "), quoted
    decoded = phrase if _ATOMS.fullmatch(phrase.encode("ascii", "replace").decode()) else (
        '"' + phrase.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return _mixed_tokens(phrase, _is_atom), decoded


def _is_atom(word: str) -> bool:
    return bool(_ATOMS.fullmatch(word)) and "=?" not in word


def check_address(address: str) -> str:
    """An addr-spec as it goes on the wire (IDNA domain); HeaderValueError if it is not one."""
    addr = address.strip()
    if not _ADDR.fullmatch(addr):
        raise HeaderValueError(f"not an email address: {address!r}")
    local, domain = addr.rsplit("@", 1)
    if not local.isascii():
        raise HeaderValueError(f"cannot address {address!r}: non-ASCII before the @ needs SMTPUTF8")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise HeaderValueError(f"not an email address: {address!r}") from None
    return f"{local}@{domain}"


def mailbox(name: str, display: str | None, address: str) -> PreparedHeader:
    """`To: "Name" <addr>`; the name is cleaned to one line and quoted or encoded."""
    addr = check_address(address)
    tokens, decoded = _phrase_tokens(one_line(display or "", 100))
    if not tokens:
        return PreparedHeader(name, addr, _fold(name, [addr]))
    return PreparedHeader(name, f"{decoded} <{addr}>", _fold(name, [*tokens, f"<{addr}>"]))


@lru_cache(maxsize=256)
def parsed_mailbox(name: str, value: str) -> PreparedHeader:
    """A "Name <addr>" written by the edge or staff (From, List-Id), prepared once per value."""
    if "\r" in value or "\n" in value:
        raise HeaderValueError(f"{name} has a line break: {value!r}")
    text = value.strip()
    if text.endswith(">") and "<" in text:
        display, _, rest = text.rpartition("<")
        target = rest[:-1].strip()
        display = display.strip().strip('"')
    else:
        display, target = "", text
    if name == "List-Id":  # <list-label.domain>: an address-like id without '@'
        if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+", target):
            raise HeaderValueError(f"List-Id {value!r} is not like \"Name <label.example.no>\"")
        tokens, decoded = _phrase_tokens(one_line(display))
        return PreparedHeader(name, f"{decoded} <{target}>".strip(), _fold(name, [*tokens, f"<{target}>"]))
    return mailbox(name, display, target)


@lru_cache(maxsize=1024)
def unstructured(name: str, value: str) -> PreparedHeader:
    """Subject and the like: one line; words with non-ASCII (or "=?") as encoded words."""
    text = one_line(value, 900)
    return PreparedHeader(name, text, _fold(name, _mixed_tokens(text, _is_plain)))


def _is_plain(word: str) -> bool:
    return word.isascii() and "=?" not in word


def _mixed_tokens(text: str, plain: Callable[[str], bool]) -> list[str]:
    """Plain words stay readable; each run of words that need encoding becomes encoded words.

    A run is encoded as one piece, spaces included, because the space between
    two encoded words disappears when they are decoded.
    """
    tokens: list[str] = []
    run: list[str] = []
    for word in text.split(" "):
        if plain(word):
            if run:
                tokens += _encoded_words(" ".join(run))
                run = []
            tokens.append(word)
        else:
            run.append(word)
    if run:
        tokens += _encoded_words(" ".join(run))
    return tokens


def token(name: str, value: str) -> PreparedHeader:
    """A header whose value is ASCII we made (Date, Message-ID, List-Unsubscribe …)."""
    if not value.isascii() or "\r" in value or "\n" in value:
        raise HeaderValueError(f"{name} must be one line of ASCII: {value!r}")
    return PreparedHeader(name, value, _fold(name, value.split(" ")))


def message_id(name: str, value: str) -> PreparedHeader:
    """Message-ID, In-Reply-To, References: `<id@host>` (angle brackets added if missing)."""
    ids = _MSGID.findall(value) or ([f"<{value.strip()}>"] if value.strip() else [])
    if not ids or not all(i.isascii() for i in ids):
        raise HeaderValueError(f"{name} is not a message id: {value!r}")
    return token(name, " ".join(ids))


def boundary_for(seed: str) -> str:
    """A multipart boundary derived from the Message-ID: same input, same bytes.

    "==" cannot occur in quoted-printable text, and the HTML part is checked.
    """
    return "==mb" + hashlib.blake2b(seed.encode("utf-8", "replace"), digest_size=12).hexdigest() + "=="


def _wrap_html(html: str) -> str:
    """Break lines longer than the 7bit limit where a line break changes nothing shown.

    A space in text (outside any tag) becomes a newline; else a newline goes
    between two tags. Attribute values are never cut.
    """
    out = []
    for line in html.split("\n"):
        while len(line) > _HTML_LINE:
            cut = _text_space_before(line, _HTML_LINE)
            if cut > 0:
                out.append(line[:cut])
                line = line[cut + 1 :]
                continue
            cut = line.rfind("><", 0, _HTML_LINE)
            if cut <= 0:
                break  # one unbreakable run; still under 998 octets in practice
            out.append(line[: cut + 1])
            line = line[cut + 1 :]
        out.append(line)
    return "\n".join(out)


def _text_space_before(line: str, limit: int) -> int:
    i = line.rfind(" ", 0, limit)
    while i > 0:
        if line.rfind("<", 0, i) <= line.rfind(">", 0, i):
            return i
        i = line.rfind(" ", 0, line.rfind("<", 0, i))
    return -1


class ComposedMessage(EmailMessage):
    """An EmailMessage that remembers its own bytes.

    `as_bytes()` returns the bytes made when the message was composed (the
    generator would spend longer writing them than compose spent making them)
    as long as the headers and parts are still the ones composed; after any
    change, or with another policy, it is the standard generator's output.
    Both are the same bytes (tested).
    """

    _wire: bytes | None = None
    _state: tuple[object, ...] | None = None

    def _current(self) -> tuple[object, ...]:
        parts = self.get_payload()
        assert isinstance(parts, list)
        return (tuple(self.raw_items()), tuple(parts), self.preamble, self.epilogue,
                tuple(_part_state(p) for p in parts))

    def as_bytes(self, unixfrom: bool = False, policy: Policy | None = None) -> bytes:
        if (self._wire is not None and not unixfrom and (policy is None or policy is self.policy)
                and self._state == self._current()):
            return self._wire
        return super().as_bytes(unixfrom=unixfrom, policy=policy)

    def _remember(self) -> None:
        nl = "\r\n"

        def block(m: EmailMessage) -> str:
            return "".join(v.fold(policy=POLICY) if isinstance(v, PreparedHeader) else POLICY.fold(k, v)
                           for k, v in m.raw_items())

        parts = self.get_payload()
        assert isinstance(parts, list)
        boundary = self.get_boundary()
        out = [block(self), nl]
        for i, part in enumerate(parts):
            out += [nl if i else "", "--", str(boundary), nl, block(part), nl,
                    str(part.get_payload()).replace("\n", nl)]
        out += [nl, "--", str(boundary), "--", nl]
        self._wire = "".join(out).encode("ascii")
        self._state = self._current()


def _part_state(part: object) -> tuple[object, ...]:
    assert isinstance(part, EmailMessage)
    return (tuple(part.raw_items()), part.get_payload(), part.preamble, part.epilogue)


def assemble(headers: list[PreparedHeader], text: str, html: str, boundary: str) -> ComposedMessage:
    """multipart/alternative: text/plain (quoted-printable) then text/html.

    The HTML part is 7bit with non-ASCII as character references: nothing on
    the way re-encodes it (so DKIM holds), and it writes out in a few long
    lines instead of hundreds of 76-character ones.
    """
    msg = ComposedMessage(policy=POLICY)
    for h in headers:
        msg[h.name] = h
    lines = html.replace("\r\n", "\n").replace("\r", "\n")
    html7 = lines.encode("ascii", "xmlcharrefreplace").decode("ascii")
    if max(map(len, html7.split("\n"))) > _HTML_LINE:
        html7 = _wrap_html(html7)
    while boundary in html7:
        boundary += "x"
    msg["MIME-Version"] = _MIME_VERSION
    ctype = f'multipart/alternative; boundary="{boundary}"'
    msg["Content-Type"] = PreparedHeader("Content-Type", ctype, (f"Content-Type: {ctype}",))

    plain = EmailMessage(policy=POLICY)
    plain["Content-Type"] = _TEXT_TYPE
    plain["Content-Transfer-Encoding"] = _QP
    body = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    plain.set_payload(binascii.b2a_qp(body, istext=True).decode("ascii"))

    rich = EmailMessage(policy=POLICY)
    rich["Content-Type"] = _HTML_TYPE
    rich["Content-Transfer-Encoding"] = _7BIT
    rich.set_payload(html7)

    msg.set_payload([plain, rich])
    msg._remember()
    return msg


_TEXT_TYPE = PreparedHeader("Content-Type", 'text/plain; charset="utf-8"',
                            ('Content-Type: text/plain; charset="utf-8"',))
_HTML_TYPE = PreparedHeader("Content-Type", 'text/html; charset="utf-8"',
                            ('Content-Type: text/html; charset="utf-8"',))
_QP = PreparedHeader("Content-Transfer-Encoding", "quoted-printable",
                     ("Content-Transfer-Encoding: quoted-printable",))
_7BIT = PreparedHeader("Content-Transfer-Encoding", "7bit", ("Content-Transfer-Encoding: 7bit",))
_MIME_VERSION = PreparedHeader("MIME-Version", "1.0", ("MIME-Version: 1.0",))
