"""read_message never raises and stays fast, whatever arrives; oversized mail is refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailbot.campaigns import Survey
from mailbot.reading import MAX_MESSAGE_BYTES, read_message
from tests.reading.conftest import DATA

REAL = sorted((DATA / "replies").glob("*.eml"))
SECONDS_PER_MESSAGE = 2.0


def _read_in_time(raw: bytes, survey: Survey | None) -> None:
    started = time.perf_counter()
    reading = read_message(raw, survey)
    assert reading.kind in ("reply", "auto-reply", "bounce", "command")
    assert time.perf_counter() - started < SECONDS_PER_MESSAGE


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=4000))
def test_arbitrary_bytes_are_read_without_raising(raw: bytes, ombruk: Survey) -> None:
    _read_in_time(raw, ombruk)


_header_lines = st.sampled_from(
    [
        b"Content-Type: multipart/mixed; boundary=x\n",
        b"Content-Type: text/html; charset=utf-16\n",
        b"Content-Transfer-Encoding: base64\n",
        b"Content-Transfer-Encoding: quoted-printable\n",
        b"Content-Type: message/rfc822\n",
        b"Content-Type: multipart/report; report-type=delivery-status\n",
        b'Content-Type: text/plain; charset="no-such-charset"\n',
        b"Subject: =?utf-8?b?!!!?=\n",
        b"Auto-Submitted: auto-replied\n",
        b"From: <>\n",
        b"--x\n",
        b"--x--\n",
        b"> > > \n",
        b"\x00\xff\xfe\n",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    index=st.integers(min_value=0, max_value=max(0, len(REAL) - 1)),
    cut=st.integers(min_value=0, max_value=5000),
    insert=st.lists(_header_lines, max_size=4),
    noise=st.binary(max_size=200),
)
def test_mutated_real_messages_are_read_without_raising(
    index: int, cut: int, insert: list[bytes], noise: bytes, ombruk: Survey
) -> None:
    raw = REAL[index].read_bytes()
    cut = min(cut, len(raw))
    mutated = raw[:cut] + b"".join(insert) + noise + raw[cut:]
    _read_in_time(mutated, ombruk)
    _read_in_time(mutated, None)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=2000))
def test_arbitrary_typed_text_is_read_without_raising(text: str, ombruk: Survey) -> None:
    raw = b"From: a@b.example\nSubject: Re: x\nContent-Type: text/plain; charset=utf-8\n\n" + text.encode()
    _read_in_time(raw, ombruk)


def test_message_over_25_mb_is_refused_with_a_reason() -> None:
    raw = b"From: a@b.example\nSubject: big\n\n" + b"x" * (MAX_MESSAGE_BYTES + 1)
    reading = read_message(raw, None)
    assert reading.refused
    assert reading.needs_human and "25 MB" in reading.needs_human


@pytest.mark.parametrize(
    "body",
    [
        b"(" * 50_000 + b"1 A",
        b"1 " * 20_000,
        b"> " * 30_000 + b"\n" + b"On " + b"a " * 5000 + b"wrote:\n",
        b"Fra: x\n" * 10_000,
        b"a" * 1_000_000,
        b"1 A 2 B 3 4 " * 5000,
    ],
    ids=["parentheses", "numbers", "quote-markers", "header-lines", "one-long-line", "repeated-answers"],
)
def test_pathological_bodies_are_read_quickly(body: bytes, ombruk: Survey) -> None:
    raw = b"From: a@b.example\nSubject: Re: x\nContent-Type: text/plain; charset=utf-8\n\n" + body
    _read_in_time(raw, ombruk)


def test_deeply_nested_multiparts_are_read_quickly(ombruk: Survey) -> None:
    depth = 500
    parts = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(depth))
    raw = b"From: a@b.example\nSubject: Re: x\n" + parts + b"Content-Type: text/plain\n\n1 A\n"
    _read_in_time(raw, ombruk)


def test_every_own_case_file_exists() -> None:
    assert REAL, f"no hand-written cases in {Path(DATA / 'replies')}"
