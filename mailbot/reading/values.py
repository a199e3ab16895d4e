"""One typed value read against one question: "b og e", "4 av 5", "Veit ikkje", "Møblar".

Each reader returns a `Value`: the answer, an explicit skip ("-"), or a reason a
member of staff can read for why it was not recorded. Readers are strict: chatter
after a clear answer is allowed ("Ja, absolutt!"), a second candidate is not
("Ja, eller kanskje nei"), because a wrong answer recorded is worse than none.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from mailbot.campaigns import AnswerValue, Question, QuestionType
from mailbot.reading.vocabulary import (
    ALL,
    DONT_KNOW,
    EQUIVALENTS,
    GRADE_WORDS,
    NO,
    NUMBER_WORDS,
    SKIP,
    SKIP_MARKS,
    YES,
    fold,
)

MAX_VALUE_CHARS = 500


@dataclass(frozen=True)
class Value:
    """A reading of one value: exactly one of answer / skipped / problem is set."""

    answer: AnswerValue | None = None
    skipped: bool = False
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.answer is not None


SKIPPED = Value(skipped=True)


def read_value(text: str, question: Question) -> Value:
    """Read a typed value as an answer to `question`."""
    text = clean(text)
    if text in SKIP_MARKS or fold(text) in SKIP:
        return SKIPPED
    if question.type is QuestionType.CHOICE:
        return read_choice(text, question)
    if question.type is QuestionType.MULTI:
        return read_multi(text, question)
    if question.type is QuestionType.SCALE:
        return read_scale(text, question)
    return read_text(text)


def clean(text: str) -> str:
    """Drop emoji and symbols, collapse spaces, trim surrounding punctuation and quotes."""
    text = unicodedata.normalize("NFC", text[:MAX_VALUE_CHARS])
    text = "".join(c for c in text if not _is_decoration(c))
    text = " ".join(text.split())
    return text.strip(" \t,;:*_\"'“”«»").strip()


def _is_decoration(c: str) -> bool:
    if c in "\ufe0f\ufe0e\u200d\u20e3":
        return True
    return unicodedata.category(c) in ("So", "Sk", "Cs", "Co", "Cn") and c not in "°"


# --- choice ------------------------------------------------------------------------------


def read_choice(text: str, question: Question) -> Value:
    option = match_option(text, question)
    if option:
        return Value(answer=option)
    stripped = _without_parentheses(text)
    option = match_option(stripped, question)
    if option:
        return Value(answer=option)
    found = _options_named(stripped, question)
    if len(found) > 1:
        return Value(problem=f"flere valg ({', '.join(found)}) på et spørsmål med ett svar: «{_short(text)}»")
    head, rest = _first_clause(stripped)
    option = match_option(head, question)
    if option is None:
        # "Ja absolutt", "A 👍": the first word alone, if it is a clear answer.
        first, _, rest = stripped.partition(" ")
        option = match_option(first, question) if _is_short_answer(first, question) else None
    if option is None:
        return Value(problem=f"forstod ikke «{_short(text)}» som et av valgene")
    others = [o for o in _options_named(rest, question) if o != option] + _keys_named(rest, question, option)
    if others or _hedged(rest):
        return Value(problem=f"uklart svar: «{_short(text)}»")
    return Value(answer=option)


def _keys_named(text: str, question: Question, chosen: str) -> list[str]:
    """Option letters standing alone in `text` ("A og B"): a second choice."""
    found = []
    for letter in re.findall(r"(?<![\w'’])([A-Za-z])(?![\w'’])", text[:200]):
        option = question.option_for_key(letter)
        if option and option != chosen:
            found.append(option)
    return found


def _is_short_answer(word: str, question: Question) -> bool:
    folded = fold(word)
    return len(folded) == 1 or folded in YES or folded in NO


def _first_clause(text: str) -> tuple[str, str]:
    match = re.match(r"^(.+?)\s*(?:[,.!?;:–—(]|\s-\s)\s*(.*)$", text)
    if not match:
        return text, ""
    return match.group(1), match.group(2)


_HEDGE = re.compile(
    r"\b(eller|or|kanskje|maybe|perhaps|muligens|kan\s+hende|usikker|unsure|not\s+sure|men\s+nei"
    r"|but\s+no|tja)\b",
    re.I,
)


def _hedged(rest: str) -> bool:
    return bool(_HEDGE.search(rest[:200]))


# --- multi -------------------------------------------------------------------------------

_ITEM_SEPARATOR = re.compile(r"\s*(?:,|;|/|&|\+|\bog\b|\band\b|\boch\b|\bsamt\b|\bpluss\b|\bplus\b)\s*", re.I)


def read_multi(text: str, question: Question) -> Value:
    text = _without_parentheses(text)
    folded = fold(text)
    if folded in ALL:
        return Value(answer=tuple(question.options))
    whole = match_option(text, question)
    if whole:
        return Value(answer=(whole,))
    items = [i for i in _ITEM_SEPARATOR.split(text) if i.strip()]
    if len(items) == 1 and re.fullmatch(r"([A-Za-z][\s.)]*\s+)+[A-Za-z][.)]?", items[0].strip()):
        items = re.findall(r"[A-Za-z]", items[0])  # "B C E"
    chosen: list[str] = []
    for index, item in enumerate(items):
        option = match_option(item, question)
        if option:
            chosen.append(option)
            continue
        tail = " ".join(items[index:])
        if chosen and _is_chatter(tail, question):
            break  # "Sportsutstyr, hvis det først blir en butikk."
        return Value(problem=f"«{_short(item)}» er ikke et av valgene")
    if not chosen:
        return Value(problem=f"forstod ikke «{_short(text)}» som valg")
    return Value(answer=tuple(o for o in question.options if o in chosen))


def _is_chatter(text: str, question: Question) -> bool:
    """Prose after the answer that names no option and does not hedge."""
    return len(text.split()) >= 3 and not _options_named(text, question) and not _hedged(text)


# --- scale -------------------------------------------------------------------------------

_NUMBER = r"(\d{1,3}|[a-zæøå]+)"
_SCALE_VALUE = re.compile(
    rf"^{_NUMBER}(?:\s*(?:av|of|ut\s+av|out\s+of|/)\s*{_NUMBER})?"
    r"(?:\s*(?:poeng|stjerner|stjerne|points|stars|på\s+skalaen))?(?P<rest>.*)$",
    re.I,
)
_RANGE_OR_CHOICE = re.compile(r"\b(eller|or|til|to|og|and)\b|\d\s*[-–]\s*\d", re.I)


def read_scale(text: str, question: Question) -> Value:
    low, high = (
        question.min if question.min is not None else 1,
        question.max if question.max is not None else 5,
    )
    match = _SCALE_VALUE.match(text)
    value: int | None = None
    rest = text
    if match:
        value = _number(match.group(1))
        out_of = _number(match.group(2)) if match.group(2) else None
        rest = match.group("rest").strip()
        if value is not None and match.group(2) and out_of != high:
            return Value(problem=f"«{_short(text)}» passer ikke skalaen {low}–{high}")
        if (
            value is not None
            and match.group(2) is None
            and match.group(1).isalpha()
            and len(rest.split()) > 1
        ):
            value = None  # "en" as an article starting a sentence, not the number one
    if value is None:
        grades = [GRADE_WORDS[w] for w in fold(text).split() if w in GRADE_WORDS]
        digits = re.findall(r"\b\d{1,3}\b", text)
        if len(set(grades)) == 1 and not digits and not _RANGE_OR_CHOICE.search(text):
            value, rest = grades[0], ""
    if value is None:
        return Value(problem=f"forstod ikke «{_short(text)}» som et tall fra {low} til {high}")
    if rest and (
        not re.match(r"^[-–—,.;:!(]", rest) or _RANGE_OR_CHOICE.search(rest[:40]) or _mentions_number(rest)
    ):
        return Value(problem=f"uklart tall: «{_short(text)}»")
    if not low <= value <= high:
        return Value(problem=f"{value} er utenfor skalaen {low}–{high}")
    return Value(answer=value)


def _number(token: str | None) -> int | None:
    if token is None:
        return None
    if token.isdigit():
        return int(token)
    return NUMBER_WORDS.get(fold(token))


def _mentions_number(text: str) -> bool:
    words = fold(text[:60]).split()[:4]
    return any(w.isdigit() for w in words)


# --- text --------------------------------------------------------------------------------


def read_text(text: str) -> Value:
    if fold(text) in DONT_KNOW:
        return SKIPPED
    return Value(answer=text)


# --- options -------------------------------------------------------------------------------


def match_option(text: str, question: Question) -> str | None:
    """The one option `text` names: its key, its text (case, accents, a typo), a synonym."""
    text = text.strip().strip(".!?,;:()[]*\"'“”«»").strip()
    if not text:
        return None
    if len(text) == 1 and text.isalpha():
        return question.option_for_key(text)
    folded = fold(text)
    if not folded:
        return None
    options = _folded_options(question.options)
    candidates = [o for o, f in options if f == folded]
    if not candidates:
        candidates = [o for o, f in options if _same_meaning(folded, f)]
    if not candidates:
        candidates = [o for o, f in options if _close(folded, f)]
    return candidates[0] if len(candidates) == 1 else None


@lru_cache(maxsize=256)
def _folded_options(options: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(option, folded option) pairs: a survey's vocabulary, folded once, not once per word read."""
    return tuple((o, fold(o)) for o in options)


def _meaning_groups() -> dict[str, frozenset[int]]:
    groups: dict[str, set[int]] = {}
    for index, words in enumerate((YES, NO, DONT_KNOW, *EQUIVALENTS)):
        for word in words:
            groups.setdefault(word, set()).add(index)
    return {word: frozenset(found) for word, found in groups.items()}


# Folded word -> the synonym groups it belongs to; two words mean the same when they share one.
_MEANINGS = _meaning_groups()
_NO_GROUP: frozenset[int] = frozenset()


def _same_meaning(typed: str, option: str) -> bool:
    return not _MEANINGS.get(typed, _NO_GROUP).isdisjoint(_MEANINGS.get(option, _NO_GROUP))


@lru_cache(maxsize=4096)
def _close(typed: str, option: str) -> bool:
    """A typo or an inflection: "Elektronik", "Møblar" for "Møbler"."""
    # Cached: every option is tried against every word read, and the same words recur.
    if len(option) < 4 or len(typed) < 4:
        return False
    if _edit_distance(typed, option, 2) <= (1 if len(option) < 8 else 2):
        return True
    prefix = 0
    for a, b in zip(typed, option, strict=False):
        if a != b:
            break
        prefix += 1
    # Same stem, different ending (Nynorsk -ar for Bokmål -er): "moblar"/"mobler".
    return prefix >= 4 and prefix >= min(len(typed), len(option)) - 2 and abs(len(typed) - len(option)) <= 2


def _edit_distance(a: str, b: str, limit: int) -> int:
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _options_named(text: str, question: Question) -> list[str]:
    """Options whose text (or a synonym) appears as words in `text`."""
    words = fold(text[:300]).split()
    found = []
    for option, folded in _folded_options(question.options):
        target = folded.split()
        if not target:
            continue
        if len(target) == 1:
            for chunk in words:
                if chunk == folded or (len(chunk) > 1 and match_option(chunk, question) == option):
                    found.append(option)
                    break
            continue
        for start in range(len(words) - len(target) + 1):
            if words[start : start + len(target)] == target:
                found.append(option)
                break
    return found


def _without_parentheses(text: str) -> str:
    return " ".join(re.sub(r"\([^()]{0,200}\)", " ", text).split())


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "…"
