"""Reading any message is bounded work: mutated real mail never raises, and what the slow parts see is capped.

Issue 14: a bounce with a chunk of its body repeated (66 KB) took 8.9 s inside flufl.bounce's
SimpleMatch, and one 90 KB line took Exchange's detector 3.3 s. These tests build real-looking
messages, mutate them the ways that cost time (repeated chunks, long lines, thousands of ">"
and blank lines, many and nested parts, huge headers) and check that nothing raises and that the
work handed on is capped: the copy flufl.bounce's detectors read, the parts the parser builds,
the header text decoded. The time it takes is measured in bench/reading_worst.py, not here.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from email.iterators import body_line_iterator
from email.message import Message
from pathlib import Path

import pytest
from flufl.bounce import all_failures
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailbot.campaigns import Survey
from mailbot.reading import read_message
from tests.reading.conftest import DATA

# mailbot.reading re-exports functions named like these modules, so the modules are imported by name.
bounces = importlib.import_module("mailbot.reading.bounces")
decoding = importlib.import_module("mailbot.reading.decode")

OWN = ["innbyggerpanel@baerum.example.no"]

# A Gmail-style notice (no delivery-status part): flufl.bounce's SimpleMatch is what reads it.
GMAIL_STYLE = """From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: bounces+t0k3n9@svar.baerum.example.no
Subject: Delivery Status Notification (Failure)
Content-Type: text/plain; charset=utf-8

This is an automatically generated Delivery Status Notification

Delivery to the following recipient failed permanently:

     per.olsen@fjord-nett.example.no

Technical details of permanent failure:
The email account that you tried to reach does not exist. Please try double-checking
the recipient's email address for typos or unnecessary spaces.

   ----- Original message -----

From: Innbyggerpanelet <innbyggerpanel@baerum.example.no>
To: per.olsen@fjord-nett.example.no
Subject: Ombruk i Sandvika: tre korte spørsmål

Hei Per,

1. Bruker du ombruksstasjonen? Svar Ja eller Nei.
2. Hva trenger du mest? A) Møbler B) Bøker C) Klær
3. Hvor fornøyd er du, fra 1 til 5?

Vennlig hilsen
Innbyggerpanelet i Bærum
""".encode()

# The same, a delay: SimpleWarning reads it.
GMAIL_DELAY = (
    GMAIL_STYLE.replace(b"(Failure)", b"(Delay)")
    .replace(b"failed permanently:", b"has been delayed:")
    .replace(b"Technical details of permanent failure:", b"Message will be retried for 2 more day(s)")
)


def _own_bounces() -> list[Path]:
    """The project's own bounce fixtures (not the held-out sets, which are kept for scoring)."""
    folders = [DATA / "replies", DATA / "replies-corpus" / "dev-a", DATA / "replies-corpus" / "dev-b"]
    found = []
    for folder in folders:
        for path in sorted(folder.glob("*.eml")):
            msg = decoding.decode(path.read_bytes()).message
            if msg is not None and bounces.read_bounce(msg, OWN) is not None:
                found.append(path)
    return found


BOUNCES = _own_bounces()
REPLIES = sorted((DATA / "replies").glob("*.eml")) + sorted((DATA / "replies-corpus" / "dev-a").glob("*.eml"))[:30]
REAL: list[bytes] = [GMAIL_STYLE, GMAIL_DELAY] + [p.read_bytes() for p in BOUNCES + REPLIES]


# --- mutations, as bench/reading_worst.py makes them, with sizes drawn by hypothesis -------------


def _split(raw: bytes) -> tuple[bytes, bytes]:
    at = raw.find(b"\n\n")
    return (raw, b"") if at < 0 else (raw[: at + 2], raw[at + 2 :])


def _at_line(body: bytes, where: float) -> int:
    at = body.rfind(b"\n", 0, int(len(body) * where))
    return at + 1 if at >= 0 else 0


def repeat_chunk(raw: bytes, where: float, size: int, extent: int) -> bytes:
    head, body = _split(raw)
    start = int(len(body) * where)
    chunk = body[start : start + max(1, size % 2000)] or b"x\n"
    return head + body[:start] + chunk * max(1, extent // len(chunk)) + body[start:]


def long_line(raw: bytes, where: float, size: int, extent: int) -> bytes:
    head, body = _split(raw)
    words = (body or raw).replace(b"\n", b" ")[: max(1, size % 2000)] or b"w "
    at = _at_line(body, where)
    return head + body[:at] + (words * (extent // len(words) + 1))[:extent] + b"\n" + body[at:]


def quote_lines(raw: bytes, where: float, size: int, extent: int) -> bytes:
    head, body = _split(raw)
    lines = [ln for ln in body.splitlines() if ln.strip()][:50] or [b"tekst"]
    block = b"".join(
        b">" * (1 + i % max(1, size % 60)) + b" " + lines[i % len(lines)] + b"\n" for i in range(extent // 40)
    )
    at = _at_line(body, where)
    return head + body[:at] + block + body[at:]


def blank_lines(raw: bytes, where: float, size: int, extent: int) -> bytes:
    head, body = _split(raw)
    at = _at_line(body, where)
    return head + body[:at] + [b"\n", b"\r\n", b" \n", b">\n"][size % 4] * (extent // 2) + body[at:]


def comma_lines(raw: bytes, where: float, size: int, extent: int) -> bytes:
    """Distinct long lines that make a detector's pattern backtrack (no repeat to collapse)."""
    head, body = _split(raw)
    filler = [b"a,", b"x", b"<", b"a@", b"=4", b"[a"][size % 6] * 500
    at = _at_line(body, where)
    return head + body[:at] + b"".join(filler + b"%d\n" % i for i in range(extent // 1000)) + body[at:]


def many_parts(raw: bytes, where: float, size: int, extent: int) -> bytes:
    head, body = _split(raw)
    kinds = [b"text/plain", b"message/delivery-status", b"text/html", b"application/octet-stream"]
    parts = [b"--m\nContent-Type: text/plain\n\n" + body]
    parts += [b"--m\nContent-Type: " + kinds[i % 4] + b"\n\npart %d\n" % i for i in range(extent // 40)]
    head = re.sub(rb"(?im)^content-type:.*\n(?:[ \t].*\n)*", b"", head)
    return head.rstrip(b"\n") + b"\nContent-Type: multipart/mixed; boundary=m\n\n" + b"\n".join(parts) + b"\n--m--\n"


def nested_parts(raw: bytes, where: float, size: int, extent: int) -> bytes:
    head, body = _split(raw)
    inner = b"Content-Type: text/plain\n\n" + body
    for level in range(20 + extent // 500):
        inner = b"Content-Type: multipart/mixed; boundary=n%d\n\n--n%d\n%s\n--n%d--\n" % (level, level, inner, level)
    head = re.sub(rb"(?im)^content-type:.*\n(?:[ \t].*\n)*", b"", head)
    return head.rstrip(b"\n") + b"\n" + inner


def huge_header(raw: bytes, where: float, size: int, extent: int) -> bytes:
    head, body = _split(raw)
    shape = size % 4
    if shape == 0:
        extra = b"X-Failed-Recipients: " + b", ".join(b"p%d@x.example.no" % i for i in range(extent // 18))
    elif shape == 1:
        extra = b"Subject: " + b" ".join([b"=?utf-8?q?Sp=C3=B8rsm=C3=A5l?="] * (extent // 30))
    elif shape == 2:
        extra = b"Content-Type: text/plain; " + b"; ".join(b'p%d="v"' % i for i in range(extent // 9))
    else:
        extra = b"\n".join(b"X-Line-%d: x" % i for i in range(extent // 12))
    return head.rstrip(b"\n") + b"\n" + extra + b"\n\n" + body


Mutation = Callable[[bytes, float, int, int], bytes]
MUTATIONS: list[Mutation] = [
    repeat_chunk,
    long_line,
    quote_lines,
    blank_lines,
    comma_lines,
    many_parts,
    nested_parts,
    huge_header,
]

mutated_messages = st.builds(
    lambda raw, mutate, where, size, extent: mutate(raw, where, size, extent),
    st.sampled_from(REAL),
    st.sampled_from(MUTATIONS),
    st.floats(min_value=0, max_value=1),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=2_000, max_value=100_000),
)
MUTATED = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


# --- what the detectors are shown ------------------------------------------------------------------


def _parts(msg: Message, depth: int = 0) -> list[tuple[Message, int]]:
    out = [(msg, depth)]
    payload = msg.get_payload()
    if isinstance(payload, list):
        for sub in payload:
            if isinstance(sub, Message):
                out += _parts(sub, depth + 1)
    return out


def assert_bounded(view: Message) -> None:
    parts = _parts(view)
    assert len(parts) <= bounces.VIEW_PARTS
    assert max(depth for _, depth in parts) <= decoding.MAX_DEPTH
    for part, _ in parts:
        items = list(part.raw_items())
        assert len(items) <= bounces.VIEW_HEADERS
        assert all(len(value) <= bounces.VIEW_HEADER_CHARS for _, value in items)
    lines = list(body_line_iterator(view))
    assert len(lines) <= bounces.VIEW_LINES
    assert sum(map(len, lines)) <= bounces.VIEW_CHARS + bounces.VIEW_LINE_CHARS + 1
    assert all(len(line) <= bounces.VIEW_LINE_CHARS + 1 for line in lines)


@MUTATED
@given(raw=mutated_messages)
def test_the_detectors_copy_of_any_mutated_message_is_bounded(raw: bytes) -> None:
    msg = decoding.decode(raw).message
    assert msg is not None
    assert_bounded(bounces.bounded_view(msg))


def test_flufl_bounce_reads_only_the_bounded_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Message] = []

    class Recorder:
        def process(self, msg: Message) -> tuple[frozenset[bytes], frozenset[bytes]]:
            seen.append(msg)
            return frozenset(), frozenset()

    monkeypatch.setattr(bounces, "_DETECTORS", [Recorder, *bounces._DETECTORS])
    raw = repeat_chunk(GMAIL_STYLE, 0.9, 700, 66_000)  # the shape of issue 14's 8.9 s bounce
    msg = decoding.decode(raw).message
    assert msg is not None
    _, permanent = bounces._flufl_failures(msg)
    assert permanent == {"per.olsen@fjord-nett.example.no"}
    assert len(seen) == 1 and seen[0] is not msg
    assert_bounded(seen[0])


@pytest.mark.parametrize(
    "raw",
    [GMAIL_STYLE, GMAIL_DELAY] + [p.read_bytes() for p in BOUNCES],
    ids=["gmail-style", "gmail-delay"] + [p.stem for p in BOUNCES],
)
def test_the_bounded_copy_gives_the_detectors_results_on_real_bounces(raw: bytes) -> None:
    msg = decoding.decode(raw).message
    assert msg is not None
    whole = _every_detector(msg)
    assert _every_detector(bounces.bounded_view(msg)) == whole
    assert whole != (frozenset(), frozenset()), "a fixture no detector reads proves nothing here"


def _every_detector(msg: Message) -> tuple[frozenset[bytes], frozenset[bytes]]:
    for detector in bounces._DETECTORS:
        temporary, permanent = detector().process(msg)
        if temporary or permanent:
            return frozenset(temporary), frozenset(permanent)
    return frozenset(), frozenset()


def test_flufl_bounce_itself_agrees_on_a_notice_at_a_domain_without_a_hyphen() -> None:
    raw = GMAIL_STYLE.replace(b"fjord-nett", b"fjordnett")
    msg = decoding.decode(raw).message
    assert msg is not None
    assert all_failures(msg) == (frozenset(), frozenset({b"per.olsen@fjordnett.example.no"}))
    assert bounces._flufl_failures(msg) == (set(), {"per.olsen@fjordnett.example.no"})


# SimpleMatch reads each pattern's lines from its start; ours finds the start with one search over
# the joined lines first. Lines that end a part without a newline, and starts anchored with ^, are
# where the two could part.
_PHRASES = [start.pattern.strip("^$").replace("\\", "") for start, _, _ in bounces._SimpleMatch.PATTERNS[:14]]
_LINES = st.one_of(
    st.sampled_from(_PHRASES),
    st.sampled_from(
        [
            "",
            "  ",
            "   ole@x.example.no",
            "<kari@fjord-nett.example.no>",
            "rcpt to: <a@b.example.no>",
            "----- Original message -----",
            "--- ",
            "Error-for:  e@f.example.no",
            "Intended recipient: g@h.no",
            "here is your returned mail",
            "> quoted",
            "D",
        ]
    ),
    st.text(alphabet=" <>@:-abcDE.\t", max_size=30),
)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.lists(_LINES, max_size=12), min_size=1, max_size=3), newline_at_end=st.booleans())
def test_simple_match_finds_what_reading_it_line_by_line_finds(parts: list[list[str]], newline_at_end: bool) -> None:
    msg = Message()
    msg["Content-Type"] = "multipart/mixed; boundary=x"
    for lines in parts:
        sub = Message()
        sub.set_payload("\n".join(lines) + ("\n" if newline_at_end else ""))
        msg.attach(sub)
    for ours in (bounces._SimpleMatch, bounces._SimpleWarning):
        temporary, permanent = ours().process(msg)
        want = _line_by_line(ours.PATTERNS, msg)
        assert (temporary if ours.TEMPORARY else permanent) == want
        assert not (permanent if ours.TEMPORARY else temporary)


def _line_by_line(patterns: list[tuple[re.Pattern[str], ...]], msg: Message) -> frozenset[bytes]:
    """flufl.bounce 6.0's SimpleMatch loop, with the address filter bounces.py uses."""
    found: set[bytes] = set()
    for start, end, address_re in patterns:
        started = False
        for line in body_line_iterator(msg):
            if not started and start.search(line):
                started = True
            if started:
                match = address_re.search(line)
                if match and match.group("addr"):
                    found.add(bounces.simplematch._quopri_decode(match.group("addr")))
                elif end.search(line):
                    break
        if found:
            break
    return frozenset(a for a in found if bounces._VALID_ADDRESS.match(a.decode("ascii", "replace").strip("<>")))


# --- the parser and the headers ----------------------------------------------------------------------


@MUTATED
@given(raw=mutated_messages)
def test_the_parser_builds_a_bounded_number_of_parts(raw: bytes) -> None:
    msg = decoding.decode(raw).message
    assert msg is not None
    parts = [part for part, _ in _parts(msg)]
    # It stops feeding after the chunk in which a limit is passed; a part takes at least a line.
    assert len(parts) <= decoding.MAX_PARSED_PARTS + decoding._FEED_CHARS
    multiparts = [p for p in parts if p.get_content_maintype() == "multipart"]
    assert len(multiparts) <= decoding.MAX_PARSED_MULTIPARTS + decoding._FEED_CHARS // 20
    for part in parts:
        for name in ("Content-Type", "Content-Disposition"):
            assert len(part.get(name, "")) <= decoding.MAX_PARAMS_CHARS


def test_five_thousand_parts_are_parsed_only_to_the_limit() -> None:
    raw = many_parts(GMAIL_STYLE, 0, 0, 200_000)  # 5 000 parts
    msg = decoding.decode(raw).message
    assert msg is not None
    assert decoding.MAX_PARSED_PARTS < len(_parts(msg)) <= decoding.MAX_PARSED_PARTS + 40
    # The notice comes first, so it is still read.
    reading = read_message(raw, None, OWN)
    assert reading.kind == "bounce" and reading.bounce is not None
    assert reading.bounce.addresses == ("per.olsen@fjord-nett.example.no",)


def test_a_subject_of_twelve_thousand_encoded_words_is_decoded_only_to_the_limit() -> None:
    raw = huge_header(GMAIL_STYLE, 0, 1, 360_000).replace(b"Subject: Delivery Status Notification (Failure)\n", b"")
    msg = decoding.decode(raw).message
    assert msg is not None
    subject = decoding.header_text(msg, "Subject")
    # Adjacent encoded words join without the space between them (RFC 2047); each took 30 characters.
    assert subject.startswith("SpørsmålSpørsmål")
    assert 100 < subject.count("Spørsmål") <= decoding.MAX_HEADER_CHARS // 30 + 1


# --- what a person notices: any message is read, and a bounce still names its address -------------------


@MUTATED
@given(raw=mutated_messages)
def test_mutated_messages_are_read_without_raising(raw: bytes, ombruk: Survey) -> None:
    for survey in (ombruk, None):
        reading = read_message(raw, survey, OWN)
        assert reading.kind in ("reply", "auto-reply", "bounce", "command")


def _returned_original_mutated(raw: bytes, mutate: Mutation) -> bytes:
    """The mutation placed near the end, in the returned original, where the notice is not."""
    return mutate(raw, 0.97, 700, 66_000)


@pytest.mark.parametrize(
    "mutate", [repeat_chunk, long_line, quote_lines, blank_lines, comma_lines], ids=lambda m: m.__name__
)
@pytest.mark.parametrize(
    "raw",
    [GMAIL_STYLE, GMAIL_DELAY] + [p.read_bytes() for p in BOUNCES],
    ids=["gmail-style", "gmail-delay"] + [p.stem for p in BOUNCES],
)
def test_a_bounce_padded_to_66_kb_still_names_the_same_address(raw: bytes, mutate: Mutation) -> None:
    before = read_message(raw, None, OWN)
    after = read_message(_returned_original_mutated(raw, mutate), None, OWN)
    assert before.kind == "bounce" and before.bounce is not None and before.bounce.addresses
    assert after.kind == "bounce" and after.bounce is not None
    assert (after.bounce.addresses, after.bounce.permanent) == (before.bounce.addresses, before.bounce.permanent)
