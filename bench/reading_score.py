"""Score the reply reader on labelled sets (tests/data/replies-corpus/SET, the format in its README).

  python bench/reading_score.py tests/data/replies-corpus/dev-a [more sets…] [--show]

Per set: kinds right; replies read exactly (every labelled answer, nothing else), split into
recorded at once and after a read-back the resident would confirm; answers recorded wrong (at
once, the figure that must be 0) and readings read back wrong (the resident would correct them);
replies with answers left to staff (the human queue; a reply with nothing to read, such as a question
to staff, belongs there and counts as exact); commands right (name and value). --show prints each miss.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailbot.campaigns import Survey  # noqa: E402
from mailbot.config import load_campaign_file  # noqa: E402
from mailbot.reading import Route, read_message  # noqa: E402
from mailbot.replies import read_pause_date  # noqa: E402

OWN = ("innbyggerpanel@baerum.example.no",)
OSLO = ZoneInfo("Europe/Oslo")


def norm(value: object) -> object:
    if isinstance(value, str):
        return re.sub(r"\s+", " ", unicodedata.normalize("NFC", value)).strip().casefold()
    if isinstance(value, (list, tuple)):
        return tuple(sorted(norm(v) for v in value))  # type: ignore[type-var]
    return value


def expected(label: dict, survey: Survey) -> dict[str, object]:
    out: dict[str, object] = {}
    for qid, value in (label.get("answers") or {}).items():
        question = survey.question(qid)
        assert question is not None, (label, qid)
        if question.type == "choice":
            out[qid] = norm(question.option_for_key(value))
        elif question.type == "multi":
            out[qid] = norm([question.option_for_key(k) for k in value])
        else:
            out[qid] = norm(value)
    return out


def score(folder: Path, show: bool) -> dict[str, float]:
    surveys = {s.id: s for s in (load_campaign_file(p) for p in sorted((folder / "surveys").glob("*.toml")))}
    t = dict.fromkeys(("messages", "kinds", "replies", "exact", "direct", "readback", "wrong", "wrong_readback",
                       "human", "commands", "commands_right", "asked_right", "asked", "nothing"), 0)
    seconds = 0.0
    for eml in sorted(folder.glob("*.eml")):
        label = json.loads(eml.with_suffix(".json").read_text(encoding="utf-8"))
        survey = surveys[label["survey"]]
        raw = eml.read_bytes()
        start = time.perf_counter()
        reading = read_message(raw, survey, OWN)
        seconds += time.perf_counter() - start
        t["messages"] += 1
        name = eml.name
        if reading.kind == label["kind"] or (label["kind"] == "command" and reading.command and not reading.answers):
            t["kinds"] += 1
        elif show:
            print(f"  kind     {name}: {reading.kind}, label {label['kind']}")
        if label.get("command"):
            t["commands"] += 1
            want_value = label.get("command_value")
            got_value = reading.command_value
            if label["command"] == "pause" and got_value:
                sent = parsedate_to_datetime(re.search(rb"^Date: (.+)$", raw, re.M).group(1).decode()) \
                    if re.search(rb"^Date: (.+)$", raw, re.M) else datetime.now(OSLO)
                until = read_pause_date(got_value, sent, OSLO)
                got_value = until.date().isoformat() if until else f"?{got_value}"
            if reading.command == label["command"] and (label["command"] not in ("pause", "language")
                                                         or got_value == want_value):
                t["commands_right"] += 1
            elif show:
                print(f"  command  {name}: {reading.command} {got_value!r}, label {label['command']} {want_value!r}")
        elif reading.command and show:
            print(f"  command  {name}: {reading.command} {reading.command_value!r}, label none")
        if label["kind"] != "reply":
            continue
        t["replies"] += 1
        want = expected(label, survey)
        got = {q: norm(v) for q, v in reading.answers.items()}
        for qid in label.get("ask") or {}:
            t["asked"] += 1
            t["asked_right"] += qid not in got
        route = reading.route
        wrong = {q for q in got if got[q] != want.get(q, object())}
        if not want and not got and not label.get("ask"):
            t["exact"] += 1  # nothing to read (a question, thanks, a complaint): staff read it, rightly
            t["nothing"] += 1
            continue
        if route is Route.HUMAN:
            t["human"] += 1
        if got == want and route is not Route.HUMAN:
            t["exact"] += 1
            t["direct" if route is Route.RECORD else "readback"] += 1
            continue
        direct_wrong = {q for q in wrong if q not in reading.confirm}
        if direct_wrong and route is Route.RECORD:
            t["wrong"] += 1
        elif wrong:
            t["wrong_readback"] += 1
        if show:
            detail = {q: (got.get(q), want.get(q)) for q in sorted(set(got) | set(want)) if got.get(q) != want.get(q)}
            print(f"  {('WRONG' if direct_wrong and route is Route.RECORD else 'miss'):<8} {name} [{route}] "
                  f"got/label {detail} unsure={list(reading.unsure)} confirm={list(reading.confirm)}")
    t["ms_per_message"] = round(1000 * seconds / max(1, t["messages"]), 2)
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--show", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    for folder in args.sets:
        t = score(folder, args.show)
        if args.json:
            print(json.dumps({"set": folder.name, **t}))
            continue
        r = max(1, t["replies"])
        print(f"{folder.name}: {t['messages']} messages, kinds {t['kinds']}/{t['messages']}; replies {t['replies']}: "
              f"exact {t['exact']} ({100 * t['exact'] / r:.0f} %: {t['direct']} recorded, {t['readback']} after "
              f"read-back, {t['nothing']} with nothing to read left to staff), "
              f"recorded wrong {t['wrong']}, read back wrong {t['wrong_readback']}, to staff "
              f"{t['human']} ({100 * t['human'] / r:.0f} %); commands {t['commands_right']}/{t['commands']}; "
              f"unclear answers asked, not guessed {t['asked_right']}/{t['asked']}; "
              f"{t['ms_per_message']} ms/message")


if __name__ == "__main__":
    main()
