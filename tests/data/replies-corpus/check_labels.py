"""Check a labelled set's files without reading any reply: every .eml parses, every label is
well-formed against its survey (question ids, option keys, scale ranges, command values).

  python tests/data/replies-corpus/check_labels.py tests/data/replies-corpus/SET

Exit 0 when the set is well-formed, 1 with one line per problem otherwise. It never runs the
reply reader, so writers can use it without seeing what the reader makes of their replies.
"""

from __future__ import annotations

import json
import re
import sys
from email import message_from_bytes, policy
from pathlib import Path

KINDS = {"reply", "auto-reply", "bounce", "command"}
COMMANDS = {None, "unsubscribe", "pause", "resume", "language", "erase"}
LANGUAGES = {"nb", "nn", "en", "nb-simple"}


def load_surveys(folder: Path) -> dict[str, object]:
    from mailbot.config import ConfigError, load_campaign_file

    surveys = {}
    for path in sorted((folder / "surveys").glob("*.toml")):
        try:
            survey = load_campaign_file(path)
        except ConfigError as exc:
            for problem in exc.problems:
                print(problem)
            continue
        surveys[survey.id] = survey
    return surveys


def check_label(path: Path, label: dict, surveys: dict) -> list[str]:
    problems = []
    survey = surveys.get(label.get("survey"))
    if survey is None:
        return [f"{path.name}: survey {label.get('survey')!r} is not in surveys/"]
    if label.get("kind") not in KINDS:
        problems.append(f"{path.name}: kind {label.get('kind')!r}")
    if label.get("command") not in COMMANDS:
        problems.append(f"{path.name}: command {label.get('command')!r}")
    value = label.get("command_value")
    if label.get("command") == "language" and value not in ("nb", "nn", "en"):
        problems.append(f"{path.name}: language command needs command_value nb, nn or en")
    if label.get("command") == "pause" and value is not None and not re.fullmatch(r"\d{4}-\d\d-\d\d", str(value)):
        problems.append(f"{path.name}: pause command_value must be YYYY-MM-DD or null")
    if label.get("language") not in LANGUAGES:
        problems.append(f"{path.name}: language {label.get('language')!r}")
    answers = label.get("answers") or {}
    for qid, answer in answers.items():
        question = survey.question(qid)
        if question is None:
            problems.append(f"{path.name}: no question {qid!r} in {survey.id}")
            continue
        keys = [chr(ord("A") + i) for i in range(len(question.options))]
        kind = str(question.type)
        if kind == "choice" and answer not in keys:
            problems.append(f"{path.name}: {qid} wants one of {keys}, not {answer!r}")
        elif kind == "multi" and (not isinstance(answer, list) or not answer or answer != sorted(set(answer))
                                  or any(k not in keys for k in answer)):
            problems.append(f"{path.name}: {qid} wants a sorted list of keys from {keys}, not {answer!r}")
        elif kind == "scale" and (not isinstance(answer, int) or not question.min <= answer <= question.max):
            problems.append(f"{path.name}: {qid} wants an integer {question.min}..{question.max}, not {answer!r}")
        elif kind == "text" and (not isinstance(answer, str) or not answer.strip()):
            problems.append(f"{path.name}: {qid} wants the resident's words, not {answer!r}")
    for qid in label.get("ask") or {}:
        if qid in answers:
            problems.append(f"{path.name}: {qid} is both answered and in 'ask'")
        if survey.question(qid) is None:
            problems.append(f"{path.name}: ask names no question {qid!r}")
    if label.get("kind") == "bounce" and not isinstance(label.get("bounce"), dict):
        problems.append(f"{path.name}: a bounce needs bounce.addresses and bounce.permanent")
    return problems


def main(folder: Path) -> int:
    surveys = load_surveys(folder)
    problems = []
    emls = sorted(folder.glob("*.eml"))
    for eml in emls:
        label_path = eml.with_suffix(".json")
        if not label_path.exists():
            problems.append(f"{eml.name}: no label")
            continue
        try:
            label = json.loads(label_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            problems.append(f"{label_path.name}: not JSON ({exc})")
            continue
        raw = eml.read_bytes()
        msg = message_from_bytes(raw, policy=policy.default)
        for header in ("From", "To", "Subject", "Date", "Message-ID"):
            if msg[header] is None and label.get("kind") != "bounce":
                problems.append(f"{eml.name}: no {header} header")
        if msg.defects:
            problems.append(f"{eml.name}: MIME defects {[type(d).__name__ for d in msg.defects]}")
        problems += check_label(eml, label, surveys)
    for problem in problems:
        print(problem)
    print(f"{len(emls)} messages, {len(surveys)} surveys, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
