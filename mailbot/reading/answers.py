"""A resident's typed text read as answers to a survey's questions.

The text is cut into (question, value) pieces by whichever layout the resident used:
numbers ("1 A 2 B,C 3 4 4 Sandvika", "1) Ja", "3: 4 av 5"), answers typed under a
quoted or copied question, or one answer per line in question order. Each value is
then read strictly (`values`). Anything not read with confidence goes to `unsure`
with a reason for staff: precision before recall.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from mailbot.campaigns import AnswerValue, Question, QuestionType, Survey
from mailbot.reading.values import Value, read_value
from mailbot.reading.vocabulary import CORRECTION, fold

MAX_LINES = 400
MAX_LINE_CHARS = 300
MAX_SEGMENTS = 40  # numbers considered on one line


@dataclass(frozen=True)
class ParsedAnswers:
    """Answers read with confidence, and questions a person should look at (id -> why)."""

    answers: dict[str, AnswerValue] = field(default_factory=dict)
    unsure: dict[str, str] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()
    confirm: tuple[str, ...] = ()  # answers read from a loose layout: to be confirmed by the resident


@dataclass(frozen=True)
class _Piece:
    question: Question
    value: Value
    text: str
    corrects: bool = False  # typed after "nei forresten": replaces earlier answers
    tentative: bool = False  # from a loose layout: dropped if a firmer piece disagrees


class _Reading:
    """One text read against one survey: questions by number, and each (question, text) read once.

    Splitting a line like "1 A 2 B,C 3 4 4 Sandvika" tries many cuts, and most of them
    ask for the same values again; reading them once keeps a long line cheap.
    """

    def __init__(self, survey: Survey):
        self.questions = survey.questions
        self._by_number: dict[int, Question] = {}
        for question in survey.questions:
            self._by_number.setdefault(question.number, question)
        self._values: dict[tuple[int, str], Value] = {}

    def question_by_number(self, number: int) -> Question | None:
        return self._by_number.get(number)

    def read(self, text: str, question: Question) -> Value:
        key = (id(question), text)
        value = self._values.get(key)
        if value is None:
            value = self._values[key] = read_value(text, question)
        return value


def parse_answers(text: str, survey: Survey, original: str = "") -> ParsedAnswers:
    """Read `text` (lines starting with ">" are quoted context) as answers to `survey`.

    `original` is the unprefixed original the client appended; it is read only when the
    typed text holds no answers, for residents who type under each question in it.
    """
    reading = _Reading(survey)
    lines = [line[:MAX_LINE_CHARS] for line in text.splitlines()[:MAX_LINES]]
    pieces = _pieces(lines, reading)
    if not any(p.value.ok for p in pieces) and original:
        typed_inside = _typed_into_original(original, reading)
        if any(p.value.ok and p.question.type is not QuestionType.TEXT for p in typed_inside):
            pieces = typed_inside
    return _decide(pieces, reading)


def _pieces(lines: list[str], survey: _Reading) -> list[_Piece]:
    pieces: list[_Piece] = []
    free: list[tuple[int, str]] = []  # unquoted lines tied to no question, with their index
    anchor: Question | None = None
    anchored: list[str] = []

    def close_anchor() -> None:
        nonlocal anchored
        if anchor is not None and any(a.strip() for a in anchored):
            value_text = _join_value(anchored, anchor)
            pieces.append(_Piece(anchor, survey.read(value_text, anchor), value_text))
        anchored = []

    # Each unquoted line is split at question numbers once, for the count (which decides
    # how loose a lone numbered line may be) and for the loop below.
    splits: list[list[tuple[Question, Value, str]] | None] = []
    numbered_lines = 0
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(">"):
            splits.append(None)
            continue
        split = _numbered(stripped, survey)
        splits.append(split)
        # The count reads the line as typed: a trailing space can make a number mark ("1 ").
        if split if line == stripped else _numbered(line, survey):
            numbered_lines += 1
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">"):
            quoted = re.sub(r"^(>\s?)+", "", stripped)
            question = _echoed_question(quoted, survey)
            if question is not None:
                close_anchor()
                anchor = question
            elif quoted and not _is_survey_boilerplate(quoted, anchor):
                close_anchor()
                anchor = None
            continue
        if anchor is not None:
            anchored.append(line)
            continue
        if not stripped:
            free.append((index, ""))
            continue
        copied = _copied_question(stripped, survey)
        if copied is not None:
            question, rest = copied
            if rest:
                pieces.append(_Piece(question, survey.read(rest, question), rest))
                continue
            close_anchor()
            anchor = question
            continue
        numbered = splits[index]
        if numbered is not None and (numbered_lines >= 2 or _firmly_numbered(stripped, numbered)):
            pieces.extend(_Piece(q, v, t) for q, v, t in numbered)
            continue
        if CORRECTION.search(stripped):
            pieces.extend(_corrections(stripped, survey))
        elif numbered is not None or _LOOKS_NUMBERED.match(stripped):
            # Shaped like an answer line but not read: ask rather than skip it silently.
            pieces.extend(_unread(stripped, survey))
        free.append((index, stripped))
    close_anchor()
    if not pieces:
        pieces = _in_order(free, survey)
    return pieces


def _join_value(lines: list[str], question: Question) -> str:
    kept = [line.strip() for line in lines if line.strip()]
    if question.type is QuestionType.TEXT:
        return " ".join(kept)
    return kept[0] if len(kept) == 1 else " ".join(kept)


# --- numbered answers ----------------------------------------------------------------------

_BULLET = re.compile(
    r"^[\s\-*•·]*(?:(?:svar(?:ene|a)?|mine\s+svar|answers?|my\s+answers)\s*:\s*)?"
    r"(?:(?:spørsmål|sporsmal|spm\.?|question|q|svar|nr\.?)\s*)?(?=\d)",
    re.I,
)
_NUMBER_MARK = re.compile(
    r"(?:(?<=^)|(?<=[\s,;]))(?P<num>\d{1,2})(?P<sep>\s*[.):=]\s*|\s*-\s+|\s+|(?=[A-Za-zÆØÅæøå](?:\W|$)))"
)


def _numbered(line: str, survey: _Reading) -> list[tuple[Question, Value, str]] | None:
    """Split a line like "1 A 2 A,B 3 4 4 Sandvika" into (question, value) pieces."""
    line = _BULLET.sub("", line, count=1)
    count = len(survey.questions)
    marks = []
    for match in _NUMBER_MARK.finditer(line):
        number = int(match.group("num"))
        if 1 <= number <= count and survey.question_by_number(number) is not None:
            marks.append((match.start(), match.end(), number, match.group("sep")))
        if len(marks) >= MAX_SEGMENTS:
            break
    if not marks or marks[0][0] != 0:
        return None
    return _best_split(line, tuple(marks), survey)


def _best_split(line: str, marks: tuple[tuple[int, int, int, str], ...], survey: _Reading):
    """The split of a line at question numbers that reads the most values cleanly.

    "3 4 4 Sandvika" splits as q3=4, q4=Sandvika rather than q4="4 Sandvika": each
    number must be higher than the one before, and splits are scored by how many
    values read well.
    """
    memo: dict[int, tuple[int, int, tuple[tuple[int, int], ...]]] = {}

    def best(i: int) -> tuple[int, int, tuple[tuple[int, int], ...]]:
        if i in memo:
            return memo[i]
        start, value_start, number, _ = marks[i]
        options = []
        for j in range(i + 1, len(marks)):
            if marks[j][2] <= number:
                continue
            text = line[value_start : marks[j][0]]
            if not text.strip(" ,;"):
                continue  # "3 4": the 4 is the value of 3, not the start of question 4
            good, bad, rest = best(j)
            value = _value_for(number, text, survey)
            options.append((good + value.ok, bad + (not value.ok and not value.skipped), ((i, j),) + rest))
        value = _value_for(number, line[value_start:], survey)
        options.append((int(value.ok), int(not value.ok and not value.skipped), ((i, len(marks)),)))
        memo[i] = max(options, key=lambda o: (o[0] - 2 * o[1], -len(o[2])))
        return memo[i]

    _, _, spans = best(0)
    out = []
    for i, j in spans:
        end = marks[j][0] if j < len(marks) else len(line)
        question = survey.question_by_number(marks[i][2])
        assert question is not None
        text = line[marks[i][1] : end].strip(" ,;")
        out.append((question, survey.read(text, question), text))
    return out


def _value_for(number: int, text: str, survey: _Reading) -> Value:
    question = survey.question_by_number(number)
    assert question is not None
    return survey.read(text.strip(" ,;"), question)


def _firmly_numbered(line: str, pieces: list[tuple[Question, Value, str]]) -> bool:
    """A lone numbered line counts if it looks like an answer, not prose starting with a number."""
    if len(pieces) >= 2:
        return True
    question, value, _ = pieces[0]
    punctuated = bool(re.match(r"^\s*\d{1,2}\s*[.):]", line))
    if question.type is QuestionType.TEXT:
        return punctuated
    return punctuated or value.ok


# --- answers under a question ---------------------------------------------------------------


def _echoed_question(quoted: str, survey: _Reading) -> Question | None:
    """The question a quoted line repeats ("1. Er det behov …?"), if any."""
    match = re.match(r"^\s*(\d{1,2})\s*[.)]\s*(.+)$", quoted)
    if match:
        question = survey.question_by_number(int(match.group(1)))
        if question is not None and _similar_start(match.group(2), question.text):
            return question
    copied = _copied_question(quoted, survey)
    return copied[0] if copied and not copied[1] else None


def _copied_question(line: str, survey: _Reading) -> tuple[Question, str] | None:
    """A line starting with a question's text, and what follows it on the line."""
    words = list(re.finditer(r"\w+", line))
    if len(words) < 3:
        return None
    for question in survey.questions:
        target = _question_words(question.text)
        if len(target) < 3 or len(words) < len(target):
            continue
        typed = [fold(w.group(0)) for w in words[: len(target)]]
        if sum(a != b for a, b in zip(typed, target, strict=False)) <= max(0, len(target) // 8):
            rest = line[words[len(target) - 1].end() :]
            rest = re.sub(r"^[^\w(]*", "", rest)
            rest = re.sub(r"^\([^()]*\)\s*[:?.]*\s*", "", rest)  # "(velg én eller flere)"
            return question, rest.strip()
    return None


def _question_core(text: str) -> str:
    return re.sub(r"\([^()]*\)", " ", text).split("?")[0]


@lru_cache(maxsize=256)
def _question_words(question_text: str) -> tuple[str, ...]:
    """The folded words of a question up to its "?": compared with every line, so made once."""
    return tuple(fold(_question_core(question_text)).split())


def _similar_start(typed: str, question_text: str) -> bool:
    target = _question_words(question_text)
    words = fold(typed).split()[: len(target)]
    if not target:
        return False
    same = sum(a == b for a, b in zip(words, target, strict=False))
    return same >= max(1, int(0.7 * len(target)))


def _is_survey_boilerplate(quoted: str, anchor: Question | None) -> bool:
    """Option lists and scale hints printed under a question in the survey email."""
    if re.match(r"^\s*(\(?[A-Z]\)\s*\S[^()]{0,60}?\s*){2,}$", quoted):
        return True
    return quoted.lstrip().startswith("(") and "=" in quoted


def _typed_into_original(original: str, survey: _Reading) -> list[_Piece]:
    """Answers typed under the questions inside an unprefixed original (Outlook "red text")."""
    pieces: list[_Piece] = []
    anchor: Question | None = None
    collected: list[str] = []

    def close() -> None:
        if anchor is not None and collected:
            value_text = _join_value(collected, anchor)
            pieces.append(_Piece(anchor, survey.read(value_text, anchor), value_text))

    for line in original.splitlines()[:MAX_LINES]:
        line = line[:MAX_LINE_CHARS].strip()
        question = _echoed_question(line, survey) if line else None
        if question is not None:
            close()
            anchor, collected = question, []
            continue
        if anchor is None:
            continue
        if not line:
            if collected:
                close()
                anchor, collected = None, []
            continue
        if _is_survey_boilerplate(line, anchor):
            continue
        collected.append(line)
    close()
    return pieces


# --- one answer per line, no numbers ---------------------------------------------------------


def _in_order(free: list[tuple[int, str]], survey: _Reading) -> list[_Piece]:
    """Blocks of lines (or sentences) that answer the questions in order, all of them reading well."""
    blocks: list[list[str]] = [[]]
    for _, line in free:
        if line:
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    questions = survey.questions
    for block in blocks:
        while block and block[0].rstrip().endswith(":"):
            block = block[1:]  # "Her er svarene mine:"
        if len(block) == 1:
            block = [s for s in re.split(r"(?<=[.!])\s+(?=[A-ZÆØÅ])", block[0]) if s.strip()]
        if not (1 if len(questions) == 1 else 2) <= len(block) <= len(questions):
            continue  # one line answers a one-question survey ("ja", "2"); longer ones need two or more
        pieces = [
            _Piece(q, survey.read(line, q), line, tentative=True)
            for q, line in zip(questions, block, strict=False)
        ]
        if all(p.value.ok or p.value.skipped for p in pieces) and any(
            p.value.ok and p.question.type is not QuestionType.TEXT for p in pieces
        ):
            return pieces
    return []


_LOOKS_NUMBERED = re.compile(r"^\s*(\d{1,2})(?:\s*[.):]\s*\S|[A-Za-zÆØÅæøå]{1,4}\b)")


def _unread(line: str, survey: _Reading) -> list[_Piece]:
    match = re.match(r"\s*(\d{1,2})", _BULLET.sub("", line, count=1))
    question = survey.question_by_number(int(match.group(1))) if match else None
    if question is None:
        return []
    problem = Value(problem=f"forstod ikke linjen «{line[:60]}»")
    return [_Piece(question, problem, line, tentative=True)]


# --- changed minds --------------------------------------------------------------------------


def _corrections(line: str, survey: _Reading) -> list[_Piece]:
    """ "nei forresten, 1 C": the number-letter pairs in a line that corrects earlier answers."""
    pieces = []
    for match in re.finditer(r"(?<![\w.])(\d{1,2})\s*[.):]?\s*([A-Za-z])(?!\w)", line[:MAX_LINE_CHARS]):
        question = survey.question_by_number(int(match.group(1)))
        if question is None or question.type not in (QuestionType.CHOICE, QuestionType.MULTI):
            continue
        pieces.append(_Piece(question, survey.read(match.group(2), question), match.group(0), corrects=True))
    return pieces


# --- deciding --------------------------------------------------------------------------------


def _decide(pieces: list[_Piece], survey: _Reading) -> ParsedAnswers:
    answers: dict[str, AnswerValue] = {}
    unsure: dict[str, str] = {}
    skipped: list[str] = []
    confirm: list[str] = []
    for question in survey.questions:
        mine = [p for p in pieces if p.question.id == question.id]
        if not mine:
            continue
        good = [p for p in mine if p.value.ok]
        if not good:
            problems = [p.value.problem for p in mine if p.value.problem]
            if problems:
                unsure[question.id] = f"spørsmål {question.number}: {problems[-1]}"
            else:
                skipped.append(question.id)
            continue
        distinct = {_comparable(p.value.answer) for p in good}
        if len(distinct) == 1 or good[-1].corrects:
            answers[question.id] = good[-1].value.answer  # type: ignore[assignment]
            if good[-1].tentative:
                confirm.append(question.id)
        else:
            shown = " / ".join(f"«{p.text[:40]}»" for p in good[:3])
            unsure[question.id] = f"spørsmål {question.number}: ulike svar i samme e-post: {shown}"
    return ParsedAnswers(answers=answers, unsure=unsure, skipped=tuple(skipped), confirm=tuple(confirm))


def _comparable(value: AnswerValue | None) -> object:
    return value if not isinstance(value, str) else fold(value)
