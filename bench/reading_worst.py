"""How long `read_message` can take: every bounce and reply fixture, mutated the ways real mail goes wrong.

    .venv/bin/python bench/reading_worst.py [--per-fixture 12 | --messages 20000] [--seed 1] [--before REV]
                                            [--show 8] [--stages]

Fixtures: the shared corpus (../shared/corpus: the external bounces, auto-replies, humans and
replies, and replies-dev) and the project's own tests/data/**/*.eml except the held-out sets
(tests/data/replies-corpus/holdout-*, never read). Each is mutated
`--per-fixture` times, cycling through MUTATIONS (one per copy, its size drawn from `--seed`):

  repeat-chunk     a chunk of the body repeated until the message is 30-100 KB
                   (the 66 KB bounce that once took 8.9 s is one of these)
  long-line        a body line of 20-100 KB with no line break
  quote-levels     1 000-5 000 "> " lines, up to 60 ">" deep
  blank-lines      2 000-20 000 blank lines
  nested-multipart the body inside 20-400 levels of multipart
  many-parts       1 000-5 000 MIME parts
  huge-header      a 20-100 KB To/Subject/Received header, or 2 000-10 000 header lines
  truncated        the message cut anywhere (MIME boundaries left open)
  wrong-charset    the declared charset swapped for another (utf-16, iso-2022-jp, nonsense)
  base64-garbage   the body declared base64 and 20-100 KB of near-base64 noise
  html-nested      an HTML body with 500-5 000 nested elements, or a 100 KB table
  qp-garbage       the body declared quoted-printable, 20-100 KB of "=" soft breaks
  backtrack-lines  20-100 distinct 1 000-character lines of "a,", "<", "a@"... that make a pattern
                   backtrack (flufl.bounce's detectors once went quadratic on such lines)

Prints the distribution of times (median, p99, max, how many over 100 ms and 1 s), per
mutation and overall, and the slowest messages. `--before REV` first runs the same messages
against the `mailbot` package of git revision REV (extracted to a temporary folder, in a
child process), so the two distributions are side by side. Times are wall-clock, one message
at a time, in one process: run it on a quiet machine and say the load (`uptime`) beside it.
`--messages N` picks `--per-fixture` so that about N messages are read (issue 14 used 20 000).
`--stages` profiles the slowest messages and says where their time went (parse, bounce
detectors, HTML, quotes, answers...), so a slow case is pinned on the code that owns it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailbot.campaigns import Survey

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus"
OWN_ADDRESSES = ["innbyggerpanel@baerum.example.no"]


def fixtures() -> list[Path]:
    """Every bounce and reply fixture there is, shared and own."""
    found: list[Path] = []
    for folder in ("external/bounces", "external/autoreplies", "external/humans", "external/replies", "replies-dev"):
        found += sorted((SHARED / folder).glob("*.eml"))
    # The held-out labelled sets are never read, not even to time them (docs/inbound.md).
    found += sorted(p for p in (ROOT / "tests" / "data").rglob("*.eml") if not _held_out(p))
    return found


def _held_out(path: Path) -> bool:
    return any(part.startswith("holdout") for part in path.relative_to(ROOT).parts)


# --- mutations: bytes in, bytes out -------------------------------------------------------------


def split(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """(headers, separator, body); a message with no blank line is all headers."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = raw.find(sep)
        if at >= 0:
            return raw[:at], sep, raw[at + len(sep) :]
    return raw, b"\n\n", b""


def _line_start(body: bytes, at: int) -> int:
    start = body.rfind(b"\n", 0, at)
    return start + 1 if start >= 0 else 0


def _insert(raw: bytes, rng: random.Random, block: bytes) -> bytes:
    head, sep, body = split(raw)
    at = _line_start(body, rng.randint(0, len(body))) if body else 0
    return head + sep + body[:at] + block + body[at:]


def _set_header(head: bytes, name: bytes, value: bytes) -> bytes:
    lines = head.split(b"\n")
    out, skipping = [], False
    for line in lines:
        if skipping and line[:1] in (b" ", b"\t"):
            continue
        skipping = line.lower().startswith(name.lower() + b":")
        if not skipping:
            out.append(line)
    return b"\n".join([*out, name + b": " + value])


def repeat_chunk(raw: bytes, rng: random.Random) -> bytes:
    head, sep, body = split(raw)
    body = body or raw
    start = rng.randint(0, max(0, len(body) - 1))
    chunk = body[start : start + rng.randint(40, 2000)] or b"x\n"
    target = rng.randint(30_000, 100_000)
    times = max(1, (target - len(raw)) // len(chunk))
    return head + sep + body[:start] + chunk * times + body[start:]


def long_line(raw: bytes, rng: random.Random) -> bytes:
    _, _, body = split(raw)
    words = (body or raw).replace(b"\r", b"").replace(b"\n", b" ")[:2000] or b"word "
    size = rng.randint(20_000, 100_000)
    return _insert(raw, rng, (words * (size // len(words) + 1))[:size] + b"\n")


def quote_levels(raw: bytes, rng: random.Random) -> bytes:
    _, _, body = split(raw)
    lines = [ln for ln in (body or raw).splitlines() if ln.strip()][:50] or [b"text"]
    count, deepest = rng.randint(1000, 5000), rng.randint(1, 60)
    block = b"".join(
        b">" * rng.randint(1, deepest) + b" " + lines[i % len(lines)] + b"\n" for i in range(count)
    )
    return _insert(raw, rng, block)


def blank_lines(raw: bytes, rng: random.Random) -> bytes:
    return _insert(raw, rng, rng.choice([b"\n", b"\r\n", b" \n", b">\n"]) * rng.randint(2000, 20_000))


def nested_multipart(raw: bytes, rng: random.Random) -> bytes:
    head, sep, body = split(raw)
    depth = rng.randint(20, 400)
    ctype = next((ln for ln in head.split(b"\n") if ln.lower().startswith(b"content-type:")), b"")
    inner = (ctype or b"Content-Type: text/plain") + b"\n\n" + body
    for level in range(depth):
        boundary = b"b%d" % level
        inner = (
            b"Content-Type: multipart/mixed; boundary=" + boundary + b"\n\n--" + boundary + b"\n" + inner
            + b"\n--" + boundary + b"--\n"
        )
    head = _set_header(head, b"MIME-Version", b"1.0")
    head = _set_header(head, b"Content-Type", b"multipart/mixed; boundary=top")
    return head + sep + b"--top\n" + inner + b"\n--top--\n"


def many_parts(raw: bytes, rng: random.Random) -> bytes:
    head, sep, body = split(raw)
    count = rng.randint(1000, 5000)
    kinds = [b"text/plain", b"text/html", b"message/delivery-status", b"application/octet-stream", b"image/png"]
    parts = [b"--many\nContent-Type: text/plain\n\n" + body]
    for i in range(count):
        parts.append(b"--many\nContent-Type: " + kinds[i % len(kinds)] + b"\n\npart %d\n" % i)
    head = _set_header(head, b"Content-Type", b"multipart/mixed; boundary=many")
    return head + sep + b"\n".join(parts) + b"\n--many--\n"


def huge_header(raw: bytes, rng: random.Random) -> bytes:
    head, sep, body = split(raw)
    size = rng.randint(20_000, 100_000)
    shape = rng.randrange(5)
    if shape == 0:  # 10 000 recipients
        value = b", ".join(b"Person %d <p%d@example.no>" % (i, i) for i in range(size // 28))
        head = _set_header(head, b"To", value)
    elif shape == 1:  # thousands of encoded words
        value = b" ".join([b"=?utf-8?q?Sp=C3=B8rsm=C3=A5l?="] * (size // 30))
        head = _set_header(head, b"Subject", value)
    elif shape == 2:  # one header folded over thousands of lines
        value = b"\n\t".join([b"from relay.example.no by mx.example.no; Mon, 2 Dec 2024"] * (size // 50))
        head = _set_header(head, b"Received", value)
    elif shape == 3:  # thousands of header lines
        head = head + b"\n" + b"\n".join(b"X-Spam-Line-%d: %s" % (i, b"x" * 10) for i in range(size // 10))
    else:  # a Content-Type with a long parameter list
        value = b"text/plain; " + b"; ".join(b'p%d="%s"' % (i, b"v" * 8) for i in range(size // 16))
        head = _set_header(head, b"Content-Type", value)
    return head + sep + body


def truncated(raw: bytes, rng: random.Random) -> bytes:
    return raw[: rng.randint(0, len(raw))]


CHARSETS = [b"utf-16", b"utf-32", b"iso-2022-jp", b"shift_jis", b"koi8-r", b"us-ascii", b"utf-8", b"x-unknown",
            b"iso-8859-1", b"windows-1252", b"utf-7", b"big5", b"\"\"", b"utf-8; charset=latin1"]


def wrong_charset(raw: bytes, rng: random.Random) -> bytes:
    head, sep, body = split(raw)
    charset = rng.choice(CHARSETS)
    ctype = b"text/plain; charset=" + charset
    if b"charset=" in raw:
        at = raw.find(b"charset=")
        end = min((i for i in (raw.find(b"\n", at), raw.find(b";", at)) if i >= 0), default=len(raw))
        return raw[:at] + b"charset=" + charset + raw[end:]
    head = _set_header(head, b"Content-Type", ctype)
    if rng.random() < 0.5:  # and bytes that fit no charset
        body = body + bytes(rng.randrange(256) for _ in range(rng.randint(100, 5000)))
    return head + sep + body


def base64_garbage(raw: bytes, rng: random.Random) -> bytes:
    head, sep, _ = split(raw)
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=!*\n"
    size = rng.randint(20_000, 100_000)
    noise = bytes(rng.choice(alphabet) for _ in range(size))
    head = _set_header(head, b"Content-Transfer-Encoding", b"base64")
    head = _set_header(head, b"Content-Type", rng.choice([b"text/plain; charset=utf-8", b"text/html"]))
    return head + sep + noise


def html_nested(raw: bytes, rng: random.Random) -> bytes:
    head, sep, body = split(raw)
    text = body[:500].replace(b"<", b"").replace(b">", b"") or b"Svar"
    shape = rng.randrange(3)
    if shape == 0:
        depth = rng.randint(500, 5000)
        tag = rng.choice([b"div", b"blockquote", b"span", b"table><tr><td", b"ul><li"])
        close = b"</" + tag.split(b"><")[0] + b">"
        markup = (b"<" + tag + b">") * depth + text + close * (depth if rng.random() < 0.5 else 0)
    elif shape == 1:
        rows = rng.randint(500, 3000)
        markup = b"<table>" + b"<tr><td>" + text[:40] + b"</td><td>x</td></tr>" * rows + b"</table>"
    else:
        markup = b"<blockquote>" * rng.randint(50, 500) + (b"<p>" + text[:80] + b"</p>") * rng.randint(200, 2000)
    head = _set_header(head, b"Content-Type", b"text/html; charset=utf-8")
    head = _set_header(head, b"Content-Transfer-Encoding", b"8bit")
    return head + sep + b"<html><body>" + markup + b"</body></html>"


def qp_garbage(raw: bytes, rng: random.Random) -> bytes:
    head, sep, body = split(raw)
    size = rng.randint(20_000, 100_000)
    noise = (b"=\n" * 3 + b"=C3=A5=3D=\n" + b"=ZZ ") * (size // 21)
    head = _set_header(head, b"Content-Transfer-Encoding", b"quoted-printable")
    return head + sep + body[:2000] + noise


def backtrack_lines(raw: bytes, rng: random.Random) -> bytes:
    filler = rng.choice([b"a,", b"x", b"<", b"a@", b"=4", b"[a", b"a ,", b"\t "]) * 500
    return _insert(raw, rng, b"".join(filler[:1000] + b"%d\n" % i for i in range(rng.randint(20, 100))))


MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "repeat-chunk": repeat_chunk,
    "long-line": long_line,
    "quote-levels": quote_levels,
    "blank-lines": blank_lines,
    "nested-multipart": nested_multipart,
    "many-parts": many_parts,
    "huge-header": huge_header,
    "truncated": truncated,
    "wrong-charset": wrong_charset,
    "base64-garbage": base64_garbage,
    "html-nested": html_nested,
    "qp-garbage": qp_garbage,
    "backtrack-lines": backtrack_lines,
}


def mutated(paths: list[Path], per_fixture: int, seed: int) -> list[tuple[str, str, bytes]]:
    """(fixture name, mutation, bytes) for every fixture, `per_fixture` times, reproducibly."""
    rng = random.Random(seed)
    names = list(MUTATIONS)
    out: list[tuple[str, str, bytes]] = []
    for path in paths:
        raw = path.read_bytes()
        for _ in range(per_fixture):
            name = names[len(out) % len(names)]
            out.append((path.name, name, MUTATIONS[name](raw, rng)))
    return out


# --- measuring ------------------------------------------------------------------------------------


def ombruk() -> Survey:
    """The survey the messages are read against, as the bot reads a reply to it."""
    from mailbot.campaigns import Survey
    from mailbot.config import load_campaign_file

    survey = load_campaign_file(ROOT / "tests" / "data" / "ombruk-survey.toml")
    assert isinstance(survey, Survey)
    return survey


def measure(messages: list[tuple[str, str, bytes]]) -> list[float]:
    """Seconds for each message, read against the ombruk survey as the bot reads a reply."""
    from mailbot.reading import read_message

    survey = ombruk()
    for path in fixtures():  # imports, lazily built tables and caches warm: the first reply costs ~0.7 s
        read_message(path.read_bytes(), survey, OWN_ADDRESSES)
    times = []
    for _, _, raw in messages:
        started = time.perf_counter()
        read_message(raw, survey, OWN_ADDRESSES)
        times.append(time.perf_counter() - started)
    return times


def measure_at(rev: str, per_fixture: int, seed: int) -> list[float]:
    """The same messages read by the `mailbot` package of git revision `rev`, in a child process."""
    with tempfile.TemporaryDirectory(prefix="reading-worst-") as folder:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "mailbot"], check=True,
                                 capture_output=True).stdout
        with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        env = dict(os.environ, PYTHONPATH=folder, READING_WORST_CHILD="1")
        child = subprocess.run(
            [sys.executable, __file__, "--per-fixture", str(per_fixture), "--seed", str(seed), "--child"],
            check=True, capture_output=True, env=env, cwd=folder,
        )
        return json.loads(child.stdout)


# Where a slow message's time went: functions of each stage, by module path and name.
STAGES = [
    ("parse", "mailbot/reading/decode.py", "decode"),
    ("headers", "mailbot/reading/decode.py", "header_text"),
    ("body", "mailbot/reading/decode.py", "body_text"),
    ("html", "mailbot/reading/html.py", "html_to_text"),
    ("quotes", "mailbot/reading/quotes.py", "extract_new_text"),
    ("auto-reply", "mailbot/reading/autoreplies.py", "judge_auto_reply"),
    ("bounce", "mailbot/reading/bounces.py", "read_bounce"),
    ("detectors", "mailbot/reading/bounces.py", "_flufl_failures"),
    ("command", "mailbot/reading/commands.py", "find_command"),
    ("answers", "mailbot/reading/answers.py", "parse_answers"),
]


def stages(raw: bytes) -> str:
    """ms per stage of one read_message, from a profile (stages nest: detectors are inside bounce)."""
    import cProfile
    import pstats

    from mailbot.reading import read_message

    survey = ombruk()
    profile = cProfile.Profile()
    profile.runcall(read_message, raw, survey, OWN_ADDRESSES)
    spent: dict[str, float] = {}
    for (path, _, name), row in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        for stage, suffix, function in STAGES:
            if name == function and path.endswith(suffix):
                spent[stage] = spent.get(stage, 0.0) + row[3]  # cumulative seconds
    return "  ".join(f"{k} {v * 1e3:.0f}" for k, v in sorted(spent.items(), key=lambda kv: -kv[1]) if v >= 0.001)


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    over_100ms = sum(t > 0.1 for t in ordered)
    over_1s = sum(t > 1.0 for t in ordered)
    return (f"n={len(ordered):6d}  median {statistics.median(ordered) * 1e3:7.2f} ms  p99 {p99 * 1e3:8.1f} ms  "
            f"max {ordered[-1] * 1e3:8.1f} ms  >100ms {over_100ms:4d}  >1s {over_1s:3d}")


def report(label: str, messages: list[tuple[str, str, bytes]], times: list[float], show: int,
           with_stages: bool = False) -> None:
    print(f"== {label}")
    print(f"  {'all':17s} {summary(times)}")
    for name in MUTATIONS:
        picked = [t for (_, m, _), t in zip(messages, times, strict=True) if m == name]
        if picked:
            print(f"  {name:17s} {summary(picked)}")
    slowest = sorted(zip(times, messages, strict=True), key=lambda x: -x[0])[:show]
    for t, (fixture, mutation, raw) in slowest:
        print(f"    {t * 1e3:8.1f} ms  {mutation:17s} {len(raw) / 1024:6.1f} KB  {fixture}")
        if with_stages:
            print(f"                 ms by stage (profiled, so slower): {stages(raw)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-fixture", type=int, default=12)
    parser.add_argument("--messages", type=int, help="about this many messages in all (sets --per-fixture)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--before", metavar="REV", help="also measure the mailbot package of this git revision")
    parser.add_argument("--show", type=int, default=8, help="slowest messages listed")
    parser.add_argument("--stages", action="store_true", help="say where the slowest messages spent their time")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    paths = fixtures()
    if not paths:
        sys.exit(f"no fixtures found (the shared corpus is looked for in {SHARED})")
    if args.messages:
        args.per_fixture = max(1, -(-args.messages // len(paths)))
    messages = mutated(paths, args.per_fixture, args.seed)
    if args.child:
        sys.path.insert(0, os.environ["PYTHONPATH"])
        json.dump(measure(messages), sys.stdout)
        return
    sys.path.insert(0, str(ROOT))
    load = os.getloadavg()
    print(f"{len(paths)} fixtures x {args.per_fixture} = {len(messages)} messages, "
          f"{sum(map(len, (m for _, _, m in messages))) / len(messages) / 1024:.1f} KB on average; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores", flush=True)
    if args.before:
        report(f"before ({args.before})", messages, measure_at(args.before, args.per_fixture, args.seed), args.show)
    report("now (working tree)", messages, measure(messages), args.show, args.stages)


if __name__ == "__main__":
    main()
