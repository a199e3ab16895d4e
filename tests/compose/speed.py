"""What composing costs: `python -m tests.compose.speed` prints microseconds per email.

Not a test (timings depend on the machine); run it before and after changing compose.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from mailbot import compose
from mailbot.compose import Templates
from tests.compose import make


def per_call(fn: Callable[[int], object], n: int = 2000, rounds: int = 5) -> float:
    """Best-of-rounds mean microseconds per call, each call for a different member."""
    fn(0)  # warm: templates compiled, pieces cached
    means = []
    for r in range(rounds):
        start = time.perf_counter()
        for i in range(n):
            fn(r * n + i)
        means.append((time.perf_counter() - start) / n * 1e6)
    return min(means)


def main() -> None:
    t = Templates()
    s = make.survey()
    p = make.panel()

    def survey(i: int) -> compose.EmailMessage:
        return compose.survey_email(s, "invitation", make.member(f"Kåre Nummer {i}", f"m{i}@example.no"),
                                    make.links(s, f"tok{i}"), make.sender(f"abc{i}"), p, t, make.NOW)

    lnk = make.links(s)
    r = make.results(s)
    member = make.member()
    one = survey(1)
    rows = {
        "survey_email (links built per member too)": per_call(survey),
        "survey_email (same links object)": per_call(lambda i: compose.survey_email(
            s, "invitation", member, lnk, make.sender(f"abc{i}"), p, t, make.NOW)),
        "  .as_bytes() of the result": per_call(lambda i: one.as_bytes()),
        "results_email": per_call(lambda i: compose.results_email(
            s, r, member, lnk, make.sender(f"r{i}"), p, t, make.NOW)),
        "receipt_email (rendered per reply)": per_call(lambda i: compose.receipt_email(
            s, member, {"need": "Ja"}, ["today"], {}, lnk, make.sender(f"q{i}"), p, t, make.NOW), n=200),
        "make.links + make.sender + make.member alone": per_call(lambda i: (
            make.links(s, f"tok{i}"), make.sender(f"abc{i}"), make.member(f"K {i}", f"m{i}@example.no"))),
    }
    width = max(map(len, rows))
    for name, us in rows.items():
        print(f"{name:<{width}}  {us:8.1f} µs")
    print(f"{'bytes per survey email':<{width}}  {len(one.as_bytes()):8d}")
    print(f"{'median of the above':<{width}}  {statistics.median(rows.values()):8.1f} µs")


if __name__ == "__main__":
    main()
