"""A resident's typed text read as answers to a survey's questions, each with a confidence.

The text is cut into answer units (`units`): pieces tied to a question by a number, a quoted or
copied question, or typing inside the original; and free lines, which `align` places on the
questions by what they say and where they stand. Each value is read with its evidence
(`values`). What comes out per question is an answer with a confidence, or a reason it could
not be read. Answers below `SURE` are to be confirmed by the resident (a read-back); nothing
below `LIKELY` is offered at all: a wrong answer recorded is worse than a question asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailbot.campaigns import AnswerValue, Question, QuestionType, Survey
from mailbot.reading import lexicon as lx
from mailbot.reading.align import Placed, align
from mailbot.reading.units import Unit, looks_numbered, split, typed_into_original
from mailbot.reading.values import Value, read_value
from mailbot.reading.vocabulary import fold

SURE = 0.9  # recorded as read (dev sets: 8 of 10 wrong answers above 0.8 were below 0.9)
LIKELY = 0.35  # read back to the resident first


@dataclass(frozen=True)
class ParsedAnswers:
    """Answers read, how sure each is, and questions a person should look at (id -> why)."""

    answers: dict[str, AnswerValue] = field(default_factory=dict)
    unsure: dict[str, str] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()
    confirm: tuple[str, ...] = ()  # answers below SURE: to be confirmed by the resident
    confidence: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)


class _Reader:
    """Each (text, question) read once: splitting a numbered line tries many cuts of the same words."""

    def __init__(self) -> None:
        self._values: dict[tuple[int, str], Value] = {}

    def __call__(self, text: str, question: Question) -> Value:
        key = (id(question), text)
        value = self._values.get(key)
        if value is None:
            value = self._values[key] = read_value(text, question, anchored=True)
        return value


def parse_answers(text: str, survey: Survey, original: str = "", signer: str = "") -> ParsedAnswers:
    """Read `text` (lines starting with ">" are quoted context) as answers to `survey`.

    `original` is the unprefixed original the client appended; it is read only when the
    typed text holds no answers, for residents who type under each question in it.
    """
    read = _Reader()
    typed = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith(">")]
    if len(survey.questions) > 1 and len(typed) == 1 and tuple(fold(typed[0]).split()) in lx.DECLINE:
        return ParsedAnswers()  # "Nei takk" to a whole survey declines it; it does not answer question 1
    units = split(text, survey, read, signer)
    placed = _placed(units, survey, read)
    if original and not any(p.value.ok and (p.question.type is not QuestionType.TEXT or p.value.confidence >= SURE)
                            for p in placed):
        # Nothing firm typed on top ("Svarene står i teksten"): the answers may be typed into the original.
        inside = [_anchored(u, read) for u in typed_into_original(original, survey)]
        if any(p.value.ok and p.question.type is not QuestionType.TEXT for p in inside):
            placed = inside
    return _decide(placed, survey)


def _anchored(unit: Unit, read: _Reader) -> Placed:
    assert unit.question is not None
    value = unit.value if unit.value is not None else read(unit.text, unit.question)
    return Placed(unit.question, value, unit.text, unit.index, unit.corrects)


def _placed(units: list[Unit], survey: Survey, read: _Reader) -> list[Placed]:
    anchored = [_anchored(u, read) for u in units if u.question is not None]
    free = [u for u in units if u.question is None]
    # A correction ("på nr 6 mener jeg Vet ikke") replaces an answer the free lines still hold in their place
    taken = {p.question.id for p in anchored if (p.value.ok or p.value.skipped or p.value.problem) and not p.corrects}
    open_questions = tuple(q for q in survey.questions if q.id not in taken)
    if any(not p.corrects for p in anchored) and free:
        if any(u.corrects for u in free):
            # "Actually, the third one should be …" understood nowhere: any answer may be the one changed.
            anchored = [_unsure(p) for p in anchored]
        lead = _before_the_numbers(free, anchored, open_questions)
        # Beside numbered answers, a free line is chatter unless it is shaped like an answer line.
        free = [u for u in free if looks_numbered(u.text) is not None or u.corrects]
        for unit in free:
            number = looks_numbered(unit.text)
            question = survey.question_by_number(number) if number else None
            if question is not None:
                anchored.append(Placed(question, Value(problem=f"forstod ikke linjen «{unit.text[:60]}»"),
                                       unit.text, unit.index))
        return anchored + lead
    return anchored + align(free, open_questions)


BEFORE_THE_NUMBERS = 0.75  # a line read for the first question because "2: …" follows it: confirm it


def _before_the_numbers(free: list[Unit], anchored: list[Placed], open_questions: tuple) -> list[Placed]:
    """ "Alt sammen unntatt foreldrekjøringen. ¶ 2: 1 ¶ 3: …": the lines before numbered answers that start
    after the first question answer the questions before, in order; read back."""
    numbered = [p for p in anchored if not p.corrects]
    first = min(numbered, key=lambda p: p.index)
    if first.question.number <= 1 or any(p.question.number < first.question.number for p in numbered):
        return []
    before = [u for u in free if u.index < first.index and looks_numbered(u.text) is None]
    earlier = tuple(q for q in open_questions if q.number < first.question.number)
    if not before or not earlier:
        return []
    return [Placed(p.question, p.value.at_most(BEFORE_THE_NUMBERS), p.text, p.index, p.corrects)
            for p in align(before, earlier) if p.value.ok]


UNSURE_AFTER_CHANGE = 0.6  # answers beside a change of mind the reader did not place: read them back


def _unsure(placed: Placed) -> Placed:
    value = placed.value.at_most(UNSURE_AFTER_CHANGE)
    return Placed(placed.question, value, placed.text, placed.index, placed.corrects)


def _decide(placed: list[Placed], survey: Survey) -> ParsedAnswers:
    answers: dict[str, AnswerValue] = {}
    unsure: dict[str, str] = {}
    skipped: list[str] = []
    confirm: list[str] = []
    confidence: dict[str, float] = {}
    evidence: dict[str, str] = {}
    for question in survey.questions:
        mine = sorted((p for p in placed if p.question.id == question.id), key=lambda p: p.index)
        if not mine:
            continue
        good = [p for p in mine if p.value.ok and p.value.confidence >= LIKELY]
        if not good:
            problems = [p.value.problem for p in mine if p.value.problem]
            if problems:
                unsure[question.id] = f"spørsmål {question.number}: {problems[-1]}"
            elif any(p.value.skipped for p in mine):
                skipped.append(question.id)
            continue
        distinct = {_comparable(p.value.answer) for p in good}
        chosen = good[-1]
        if len(distinct) > 1 and not chosen.corrects:
            shown = " / ".join(f"«{p.text[:40]}»" for p in good[:3])
            unsure[question.id] = f"spørsmål {question.number}: ulike svar i samme e-post: {shown}"
            continue
        answers[question.id] = chosen.value.answer  # type: ignore[assignment]
        sure = max(p.value.confidence for p in good if _comparable(p.value.answer) == _comparable(chosen.value.answer))
        confidence[question.id] = round(sure, 3)
        evidence[question.id] = chosen.value.evidence
        if sure < SURE:
            confirm.append(question.id)
    return ParsedAnswers(answers, unsure, tuple(skipped), tuple(confirm), confidence, evidence)


def _comparable(value: AnswerValue | None) -> object:
    return value if not isinstance(value, str) else fold(value)
