"""Every labelled message is read exactly as labelled; where the label leaves a question
out, nothing is recorded for it (and a reply without answers goes to a human).

Two tables: the shared corpus (replies-dev, other people's formats) and our own
hand-written cases in tests/data/replies/.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mailbot.campaigns import Survey
from mailbot.reading import read_message
from tests.reading.conftest import CORPUS, DATA


def _cases(folder: Path, label_suffix: str) -> list[Path]:
    return sorted(folder.glob("*.eml")) if folder.is_dir() else []


DEV = (CORPUS / "replies-dev").resolve()
OWN = DATA / "replies"


def _expected_answers(label: dict, survey: Survey) -> dict:
    out = {}
    for qid, value in (label.get("answers") or {}).items():
        question = survey.question(qid)
        assert question is not None, qid
        if question.type == "choice":
            out[qid] = question.option_for_key(value)
        elif question.type == "multi":
            out[qid] = tuple(o for o in question.options if o in {question.option_for_key(k) for k in value})
        else:
            out[qid] = value
    return out


def _check(path: Path, survey: Survey) -> None:
    label = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    reading = read_message(path.read_bytes(), survey, own_addresses=("innbyggerpanel@baerum.example.no",))
    assert reading.kind == label["kind"], (reading.kind, reading.text[:200])
    if label["kind"] in ("reply", "command"):
        expected = _expected_answers(label, survey)
        assert reading.answers == expected, reading.unsure
        if label["kind"] == "reply" and len(expected) < len(survey.questions) and not expected:
            assert reading.needs_human
    if label.get("command"):
        assert reading.command == label["command"]
        if "command_value" in label:
            assert reading.command_value == label["command_value"]
    else:
        assert reading.command is None
    if label["kind"] == "bounce":
        assert reading.bounce is not None
        assert set(reading.bounce.addresses) == {a.lower() for a in label["bounce"]["addresses"]}
        assert reading.bounce.permanent == label["bounce"]["permanent"]
        if "token" in label["bounce"]:
            assert reading.bounce.token == label["bounce"]["token"]


@pytest.mark.parametrize("path", _cases(DEV, ".json"), ids=lambda p: p.stem)
def test_corpus_message_is_read_as_labelled(path: Path, ombruk: Survey) -> None:
    _check(path, ombruk)


def test_corpus_is_present_in_ci() -> None:
    if not DEV.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the shared corpus is missing: {DEV}")
        pytest.skip("the shared corpus is not beside the repository")
    assert len(_cases(DEV, ".json")) >= 40


@pytest.mark.parametrize("path", _cases(OWN, ".json"), ids=lambda p: p.stem)
def test_own_case_is_read_as_labelled(path: Path, ombruk: Survey) -> None:
    _check(path, ombruk)
