"""Time `read_message` per reply: 3 KB replies in every layout of bench/inbound.py's ANSWERS, each
message different (so no cache answers for another), after one warm-up message.

  python bench/reading_speed.py [--messages 2000]

Prints ms per message (median and p99 over the run) and the machine's load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from inbound import ANSWERS, REPLY_SIZE, _reply  # noqa: E402

from mailbot.config import load_campaign_file  # noqa: E402
from mailbot.reading import read_message  # noqa: E402

SURVEY = Path(__file__).resolve().parents[1] / "tests" / "data" / "ombruk-survey.toml"


def message(n: int) -> bytes:
    typed = ANSWERS[n % len(ANSWERS)].replace("Sandvika sentrum", f"Sandvika sentrum nr {n}")
    text = f"{typed}\n\nDen 1. des. 2022 kl. 09:00 skrev Innbyggerpanelet:\n"
    quoted = "> 1. Er det behov for en ombruksbutikk i Bærum?   A) Ja  B) Nei  C) Vet ikke\n"
    lines = max(0, REPLY_SIZE - len(text)) // len(quoted)
    return _reply(n, text + quoted * lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    n = parser.parse_args().messages
    survey = load_campaign_file(SURVEY)
    messages = [message(i) for i in range(n + 1)]
    read_message(messages[-1], survey)  # loads the lemma tables once, as a daemon does at its first reply
    times = []
    for raw in messages[:-1]:
        start = time.perf_counter()
        read_message(raw, survey, ["innbyggerpanel@baerum.example.no"])
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    size = sum(map(len, messages)) / len(messages)
    print(f"read_message on {n} replies of {size / 1024:.1f} KB: median {statistics.median(times):.2f} ms, "
          f"p99 {times[int(0.99 * len(times))]:.2f} ms, mean {statistics.fmean(times):.2f} ms "
          f"(load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
