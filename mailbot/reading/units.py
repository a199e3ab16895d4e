"""A resident's typed text cut into answer units, each tied to a question where the layout says which.

Units tied to a question (`Unit.question`) come from a number ("1 A 2 B,C 3 4 4 Sandvika", "2bce",
"Spørsmål 3: fire"), from typing under a quoted question ("> 2. Hvilke varer …?"), from a copy of
the question's text, or from typing inside an unprefixed original. Everything else is a free line,
kept in order with its paragraph, for `align` to place by what it says and where it stands.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from mailbot.campaigns import Question, QuestionType, Survey
from mailbot.reading import lexicon as lx
from mailbot.reading.evidence import words_of
from mailbot.reading.values import Value
from mailbot.reading.vocabulary import CORRECTION, fold
from mailbot.reading.words import same_word

MAX_LINES = 400
MAX_LINE_CHARS = 1500  # a paragraph of prose is one line: cutting it shorter loses answers
MAX_TEXT_CHARS = 20_000  # what a resident types; past this, time on mutated mail would grow without bound
MAX_MARKS = 40  # question numbers considered on one line
MAX_PIECE_CHARS = 400  # of one answer between two question numbers on a line

Reader = Callable[[str, Question], Value]


@dataclass(frozen=True)
class Unit:
    text: str
    question: Question | None  # the question the layout ties it to, if any
    how: str  # number | under-quote | copied | original | line
    index: int  # position in the reply
    block: int = 0  # paragraph (free lines)
    corrects: bool = False  # typed after "nei forresten": replaces earlier answers
    value: Value | None = None  # read already while splitting (numbered lines)


def split(text: str, survey: Survey, read: Reader, signer: str = "") -> list[Unit]:
    """Units of `text` (lines starting with ">" are quoted context) for `survey`.

    `signer` is the sender's display name: a line that is only that name (or its initials) is
    the signature, not an answer.
    """
    names = frozenset(fold(signer).split())
    to_last = f"{survey.questions[-1].number}: " if survey.questions else ""
    lines = [_spaced(_LAST_ONLY.sub(to_last, _LEAD_IN.sub("", piece[:MAX_LINE_CHARS], count=1), count=1))
             for line in text[:MAX_TEXT_CHARS].splitlines()[:MAX_LINES] for piece in _at_labels(line)]
    units: list[Unit] = []
    anchor: Question | None = None
    anchored: list[str] = []
    block = 0
    numbered = [(_numbered(line.strip(), survey, read) if not line.strip().startswith(">") else None)
                for line in lines]
    numbered_lines = sum(1 for n in numbered if n)

    def close() -> None:
        nonlocal anchored
        if anchor is not None and any(a.strip() for a in anchored):
            units.append(Unit(_join(anchored), anchor, "under-quote", len(units)))
        anchored = []

    consumed: set[int] = set()
    for index, line in enumerate(lines):
        if index in consumed:
            continue
        stripped = line.strip()
        if stripped.startswith(">"):
            quoted = re.sub(r"^(>\s?)+", "", stripped)
            question = echoed_question(quoted, survey)
            if question is not None:
                close()
                anchor = question
            elif quoted and not is_boilerplate(quoted) and (anchor is None or any(a.strip() for a in anchored)):
                # A quoted line right under a question is the rest of it (a wrapped line, the scale hint).
                close()
                anchor = None
            continue
        copied = copied_question(stripped, survey) if stripped else None
        if anchor is not None and copied is None:
            if not signed(stripped, names):
                anchored.append(line)
            continue
        if anchor is not None:
            close()
            anchor = None  # the next copied question, read below
        if not stripped:
            block += 1
            continue
        if copied is not None:
            question, rest = copied
            if rest:
                units.append(Unit(rest, question, "copied", len(units)))
            else:
                close()
                anchor = question
            continue
        pieces = numbered[index]
        corrects = bool(CORRECTION.search(stripped))
        if pieces and (numbered_lines >= 2 or _firm(stripped, pieces) and not _grade_for_another(pieces, survey)):
            units.extend(Unit(t, q, "number", len(units), block, corrects, v) for q, v, t in pieces)
            last = pieces[-1][0]
            if last.type is QuestionType.TEXT:
                more = _more_lines(lines, index + 1, numbered, names, lambda t: bool(_corrections(t, survey, read)))
                if more:
                    whole = "\n".join([units[-1].text, *(lines[i].strip() for i in more)]).strip()
                    units[-1] = Unit(whole, last, "number", units[-1].index, block, corrects, read(whole, last))
                    consumed.update(more)
            continue
        if corrects:
            found = _corrections(stripped, survey, read)
            if found:
                units.extend(Unit(t, q, "number", len(units), block, True, v) for q, v, t in found)
                continue
        if not signed(stripped, names):
            units.append(Unit(stripped, None, "line", len(units), block, corrects))
    close()
    return units


_SIGN_OFF = frozenset(("mvh", "hilsen", "helsing", "vennlig", "venleg", "beste", "med", "regards", "best", "kind",
                       "cheers", "thanks", "takk", "hils", "wishes", "from", "fra", "fraa", "frå", "hilsener"))


def signed(line: str, names: frozenset[str]) -> bool:
    """ "Ole Martin", "S. Moldestad", "Mvh Kari": the sender's own name, so a signature."""
    if not names or len(line) > 60:
        return False
    words = [w for w in fold(line.split(",")[0]).split() if w not in _SIGN_OFF]  # "Kari Nordmann, Bærums Verk"
    if not words or len(words) > 4:
        return False
    initials = {n[0] for n in names}
    # "Dan" signs for Daniel Whitfield: a short form of one of the names
    return all(w in names or (len(w) == 1 and w in initials) or (len(w) >= 3 and any(n.startswith(w) for n in names))
               for w in words) and any(len(w) > 1 for w in words)


def _more_lines(lines: list[str], start: int, numbered: list, names: frozenset[str],
                corrects: Callable[[str], bool]) -> list[int]:
    """The lines a numbered free-text answer goes on over, up to the next number, quote or sign-off."""
    taken: list[int] = []
    blank = 0
    for i in range(start, min(len(lines), start + 40)):
        stripped = lines[i].strip()
        if not stripped:
            blank += 1
            ends_open = (lines[taken[-1]] if taken else lines[start - 1]).rstrip().endswith(":")
            if blank > 1 or not ends_open:
                break  # a blank line ends the answer, unless it announced more ("Noen tanker:")
            continue
        if stripped.lower().startswith(("sendt fra", "sent from", "få outlook", "get outlook")):
            break
        if (stripped.startswith(">") or numbered[i] or is_chatter(stripped) or signed(stripped, names)
                or (CORRECTION.search(stripped) and corrects(stripped))):
            break
        taken.extend(range(taken[-1] + 1 if taken else start, i + 1))
        blank = 0
    return taken


_LABELLED = re.compile(r"(?<![\w])(?:spørsmål|spm\.?|question|sp\.?|oppgåve|oppgave)\s*\d{1,2}\s*[:.)=-]", re.I)


def _at_labels(line: str) -> list[str]:
    """ "… ser dårlig. Spørsmål 1: 5. Spørsmål 2: benker …": one line per labelled answer."""
    if line.lstrip().startswith(">"):
        return [line]
    starts = [m.start() for m in _LABELLED.finditer(line[:MAX_LINE_CHARS * 4])]
    if len(starts) < 2:
        return [line]
    cuts = ([0] if starts[0] > 0 else []) + starts + [len(line)]
    return [line[a:b].strip() for a, b in zip(cuts, cuts[1:], strict=False) if line[a:b].strip()]


def _join(lines: list[str]) -> str:
    kept = [line.strip() for line in lines if line.strip()]
    return " ".join(kept)


# --- numbered answers ----------------------------------------------------------------------------

_BULLET = re.compile(
    r"^[\s\-*•·#]*(?:(?:svar(?:ene|a)?|mine\s+svar|answers?|my\s+answers)\s*:\s*)?"
    r"(?:(?:spørsmål|spm\.?|sp\.?|question|q|svar|nr\.?|oppgåve|oppgave)\s*)?(?=\d)",
    re.I,
)
_NUMBER_MARK = re.compile(
    r"(?:(?<=^)|(?<=[\s,;/])|(?<=[A-Za-z]))(?P<num>\d{1,2})"
    r"(?P<sep>\s*[.):=]\s*|\s*[-–]\s+|[-–](?=[A-Za-z\d])|\s+|(?=[A-Za-zÆØÅæøå]))"
)


def _measure(line: str, end: int) -> bool:
    """A number followed by a unit is a measure ("det er 4 km", "20 min", "3 ganger"), not a question number."""
    after = re.match(r"\s*([^\W\d_]+|%)", line[end:end + 20])
    return after is not None and fold(after.group(1)) in lx.COUNTED


def _numbered(line: str, survey: Survey, read: Reader) -> list[tuple[Question, Value, str]] | None:
    """Split a line like "1 A 2 A,B 3 4 4 Sandvika" (or "1a2c3 4") into (question, value, text) pieces."""
    line = _BULLET.sub("", line, count=1)
    marks = []
    dotted = None  # "4. 4, kanskje 5 om sommeren": a line numbered "4." is cut only at numbers written so too
    for match in _NUMBER_MARK.finditer(line):
        question = survey.question_by_number(int(match.group("num")))
        punctuated = bool(re.search(r"[.):=]", match.group("sep")))
        if dotted is None and match.start() == 0:
            dotted = punctuated
        if dotted and match.start() and not punctuated and match.group("sep").isspace():
            continue  # (run together, "2aceg", is still a mark)
        if question is not None and not (match.start() and _measure(line, match.end())):
            marks.append((match.start(), match.end(), question.number))
        if len(marks) >= MAX_MARKS:
            break
    if marks and marks[0][0] != 0:
        # "hei jeg har vært på bibliotek ja. 1 ja 2 9 3 5 …": numbered answers after a lead-in sentence.
        first = next((k for k, m in enumerate(marks) if m[2] == 1 and re.search(r"[.:!]\s*$", line[: m[0]])), None)
        if first is None or len(marks) - first < 3:
            return None
        line = line[marks[first][0]:]
        marks = [(a - marks[first][0], b - marks[first][0], n) for a, b, n in marks[first:]]
    if not marks:
        return None
    return _best_split(line, tuple(marks), survey, read)


def _best_split(line: str, marks: tuple[tuple[int, int, int], ...], survey: Survey, read: Reader):
    """The split at question numbers that reads the most values cleanly ("3 4 4 Sandvika": q3=4, q4=Sandvika)."""
    memo: dict[int, tuple[float, tuple[tuple[int, int], ...]]] = {}

    def value(i: int, end: int) -> Value:
        question = survey.question_by_number(marks[i][2])
        assert question is not None
        return read(line[marks[i][1] : end].strip(" ,;"), question)

    def score(v: Value) -> float:
        # An answer read but unclear ("terningkast fire" on 0–10) still holds its place: to be asked about.
        return v.confidence if v.ok else (0.1 if v.skipped else -0.3 if v.unclear else -2.0)

    def best(i: int) -> tuple[float, tuple[tuple[int, int], ...]]:
        if i in memo:
            return memo[i]
        options: list[tuple[float, tuple[tuple[int, int], ...]]] = [(score(value(i, len(line))), ((i, len(marks)),))]
        for j in range(i + 1, len(marks)):
            if marks[j][0] - marks[i][1] > MAX_PIECE_CHARS:
                break  # no answer between two numbers runs this long: past it, only mutated mail costs time
            if marks[j][2] <= marks[i][2] or not line[marks[i][1] : marks[j][0]].strip(" ,;"):
                continue
            rest_score, rest = best(j)
            options.append((score(value(i, marks[j][0])) + rest_score, ((i, j), *rest)))
        memo[i] = max(options, key=lambda o: (round(o[0], 6), -len(o[1])))
        return memo[i]

    out = []
    for i, j in best(0)[1]:
        end = marks[j][0] if j < len(marks) else len(line)
        question = survey.question_by_number(marks[i][2])
        assert question is not None
        text = line[marks[i][1] : end].strip(" ,;")
        out.append((question, read(text, question), text))
    if len(out) > 1 and any(v.unclear for _, v, _ in out):
        # One piece of a compact line unclear ("1 A, 3-4 2"): the cut itself may be wrong; read the rest back.
        out = [(q, v.at_most(0.6), t) for q, v, t in out]
    return out


def _firm(line: str, pieces: list[tuple[Question, Value, str]]) -> bool:
    """A lone numbered line counts if it looks like an answer, not prose starting with a number."""
    if len(pieces) >= 2:
        return True
    question, value, _ = pieces[0]
    punctuated = bool(re.match(r"^\s*(?:[#*\-]\s*)?(?:spørsmål|spm\.?|question|q)?\s*\d{1,2}\s*[.):=]", line, re.I))
    if question.type is QuestionType.TEXT:
        return punctuated
    short = len(pieces[0][2].split()) <= 4  # "3 2 eller 3", "1 A og B": an answer to ask about, not prose
    return punctuated or value.ok or bool(value.problem and short)


def _spaced(line: str) -> str:
    """ "14 23 3a 4abe 5c": each answer run into its number, the numbers 1, 2, 3 … in a row; "1 4 2 3 3 a …"."""
    tokens = line.split()
    if not 3 <= len(tokens) <= 30 or not all(t[:1].isdigit() for t in tokens) or line.isdigit() \
            or not any(c.isalpha() for c in line):
        return line  # (a row of bare numbers may be a phone number or a date; letters say it is answers)
    out = []
    for number, token in enumerate(tokens, start=1):
        head = str(number)
        if not token.startswith(head) or len(token) == len(head) or not re.fullmatch(r"[0-9a-zA-Z,]+", token):
            return line
        out.append(f"{head} {token[len(head):]}")
    return " ".join(out)


def _grade_for_another(pieces: list[tuple[Question, Value, str]], survey: Survey) -> bool:
    """ "4 kanskje, på trykket": a grade said to be for another question (a scale the text names), not the
    answer to question 4."""
    if len(pieces) != 1 or pieces[0][1].ok:
        return False
    question, _, rest = pieces[0]
    words = [w for w in words_of(rest).words if len(w) >= 5]
    return any(other is not question and other.type is QuestionType.SCALE
               and any(t.endswith(w) or w.endswith(t) or same_word(w, t) >= 0.85
                       for w in words for t in question_words(other.text) if len(t) >= 5)
               for other in survey.questions)


# "Berre svar på 3: 9", "Answering only question 2: B": the words before a numbered answer
_LEAD_IN = re.compile(
    r"^\s*(?:(?:berre|bare|kun|only|just)\s+)?(?:svar(?:er|ar|t)?|answer(?:ing)?|answers)\s+(?:(?:berre|bare|kun|only|"
    r"just)\s+)?(?:på|paa|to|til|for)\s+(?:spørsmål|spm\.?|nummer|nr\.?|question|q|punkt)?\s*(?=\d{1,2}\s*[.:)]\s*\S)",
    re.I)


# "Just the last question from me: …", "Bare det siste spørsmålet: …": what follows answers the last question
_LAST_ONLY = re.compile(
    r"^\s*(?:(?:just|only|bare|berre|kun)\s+)?(?:(?:svar(?:er|ar)?|answer(?:ing)?)\s+(?:på|paa|to)\s+)?"
    r"(?:the\s+last\s+(?:question|one)|(?:det\s+)?siste\s+spørsmål(?:et)?|det\s+siste)"
    r"(?:\s+(?:from|fra|frå)\s+(?:me|meg))?\s*:\s*(?=\S)", re.I)


def looks_numbered(line: str) -> int | None:
    """The question number a line starts with when it is shaped like a numbered answer."""
    match = re.match(r"^\s*(\d{1,2})(?:\s*[.):]\s*\S|[A-Za-zÆØÅæøå]{1,6}\b)", _BULLET.sub("", line, count=1))
    return int(match.group(1)) if match else None


_ON = r"(?:spørsmål|spm\.?|nummer|nr\.?|question|q|punkt|oppgave)"
_TO_BE = (r"(?:(?:skal|skulle|burde|should)\s+(?:være|vere|vore|vera|bli|be|have\s+been)"
          r"|(?:skal|skulle)\s+det\s+(?:stå|stått|ha\s+stått|vært|vore|være|vere))")
_MEANT = r"(?:mente|meinte|meant|mener|meiner|mean)"
_VALUE_END = (r"(?=\s*(?:,|\(|\bog\s+ikke\b|\bikke\b|\bikkje\b|\bnot\b|\bi\s+stedet\b|\bistedenfor\b|\binstead\b)"
              r"|[.!?;]|$)")
_CORRECTED = (
    # "2 skal være 7", "spørsmål 5 skulle være A ikke C"
    re.compile(rf"(?:{_ON}\s*)?(?<![\w.])(?P<n>\d{{1,2}})\s*[.:)]?\s+(?:(?:it|that|det|den|svaret)\s+)?{_TO_BE}\s+"
               rf"(?P<v>.+?){_VALUE_END}", re.I),  # "for 4 it should be yes"
    # "på nummer 3 mente jeg 4, ikke 2", "on question 2 I meant B"
    re.compile(rf"\b(?:på|paa|for|to|on|in|til|i)\s+{_ON}?\s*(?P<n>\d{{1,2}})\s*,?\s*(?:jeg|eg|i)?\s*{_MEANT}\s+"
               rf"(?:jeg|eg|i)?\s*(?P<v>.+?){_VALUE_END}", re.I),
    # "I meant 4 for question 2, not 3", "mente 5 på nr 3"
    re.compile(rf"\b{_MEANT}\s+(?:jeg\s+|eg\s+)?(?P<v>[^,.;!?]{{1,40}}?)\s+(?:for|on|to|in|på|paa|til|i)\s+"
               rf"(?:{_ON}\s*)?(?P<n>\d{{1,2}})\b", re.I),
    # "I meant 2 A and B", "mente 3: fire"
    re.compile(rf"\b{_MEANT}\s+(?:jeg\s+|eg\s+)?(?:på\s+|on\s+)?{_ON}?\s*(?P<n>\d{{1,2}})\s*[.:)=]?\s*(?P<v>.+?){_VALUE_END}",
               re.I),
    # "make that 3 for question 3", "change it to B on 2", "sett 4 på spørsmål 5", "gjer det om til 6 på nr 2"
    re.compile(rf"\b(?:make\s+(?:that|it)|change\s+(?:that|it|my\s+answer)\s+to|endre?\s+(?:det\s+)?til|gjør\s+det\s+om\s+til"
               rf"|gjer\s+det\s+om\s+til|sett|set|heller)\s+(?P<v>[^,.;!?]{{1,40}}?)\s+(?:for|on|to|in|på|paa|til|i)\s+"
               rf"(?:{_ON}\s*)?(?P<n>\d{{1,2}})\b", re.I),
)


def _corrections(line: str, survey: Survey, read: Reader) -> list[tuple[Question, Value, str]]:
    """ "nei forresten, 1 C", "på nummer 3 mente jeg 4, ikke 2", "I meant 2 A and B": corrected answers."""
    for pattern in _CORRECTED:
        found = []
        for match in pattern.finditer(line):
            question = survey.question_by_number(int(match.group("n")))
            if question is None or question.type is QuestionType.TEXT:
                continue
            value = read(match.group("v").strip(" :"), question)
            if not value.ok and re.match(r"\s*(?:ikke|ikkje)\b", line[match.end():]):
                value = read(match.group("v").strip(" :") + " ikke", question)  # "mener jeg Vet ikke"
            if value.ok:
                found.append((question, value, match.group(0)))
        if found:
            return found
    pieces = []
    for match in re.finditer(r"(?<![\w.])(\d{1,2})\s*[.):]?\s*([A-Za-z]|\d{1,2})(?!\w)", line):
        question = survey.question_by_number(int(match.group(1)))
        if question is None or question.type is QuestionType.TEXT:
            continue
        pieces.append((question, read(match.group(2), question), match.group(0)))
    return pieces


# --- answers under a question --------------------------------------------------------------------


def echoed_question(quoted: str, survey: Survey) -> Question | None:
    """The question a quoted line repeats ("1. Er det behov …?"), if any."""
    match = re.match(r"^\s*(\d{1,2})\s*[.)]\s*(.+)$", quoted)
    if match:
        question = survey.question_by_number(int(match.group(1)))
        if question is not None and _similar_start(match.group(2), question.text):
            return question
    copied = copied_question(quoted, survey)
    return copied[0] if copied and not copied[1] else None


def copied_question(line: str, survey: Survey) -> tuple[Question, str] | None:
    """A line starting with a question's text (perhaps after its number), and what follows it on the line."""
    line = re.sub(r"^\s*\d{1,2}\s*[.)]\s*", "", line)
    words = list(re.finditer(r"\w+", line))
    if len(words) < 3:
        return None
    for question in survey.questions:
        target = question_words(question.text)
        if len(target) < 3 or len(words) < len(target):
            continue
        typed = [fold(w.group(0)) for w in words[: len(target)]]
        if sum(a != b for a, b in zip(typed, target, strict=False)) <= max(0, len(target) // 8):
            rest = line[words[len(target) - 1].end() :]
            rest = re.sub(r"^[^\w(]*", "", rest)
            rest = re.sub(r"^\([^()]*\)\s*[:?.]*\s*", "", rest)  # "(velg én eller flere)"
            return question, rest.strip()
    return None


@lru_cache(maxsize=256)
def question_words(question_text: str) -> tuple[str, ...]:
    """The folded words of a question up to its "?"."""
    return tuple(fold(re.sub(r"\([^()]*\)", " ", question_text).split("?")[0]).split())


def _similar_start(typed: str, question_text: str) -> bool:
    target = question_words(question_text)
    words = fold(typed).split()[: len(target)]
    if not target:
        return False
    return sum(a == b for a, b in zip(words, target, strict=False)) >= max(1, int(0.7 * len(target)))


def is_boilerplate(quoted: str) -> bool:
    """Option lists and scale hints printed under a question in the survey email."""
    if re.match(r"^\s*(\(?[A-Z]\)\s*\S[^()]{0,60}?\s*){2,}$", quoted):
        return True
    return quoted.lstrip().startswith("(") and "=" in quoted


def typed_into_original(original: str, survey: Survey) -> list[Unit]:
    """Answers typed under the questions inside an unprefixed original (Outlook "red text")."""
    units: list[Unit] = []
    anchor: Question | None = None
    collected: list[str] = []

    def close() -> None:
        if anchor is not None and collected:
            units.append(Unit(_join(collected), anchor, "original", len(units)))

    for line in original.splitlines()[:MAX_LINES]:
        line = line[:MAX_LINE_CHARS].strip()
        question = echoed_question(line, survey) if line else None
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
        if re.match(r"^(svar ved|answer by|svar på denne|reply to this|svar med|reply with)", line, re.I):
            close()
            anchor, collected = None, []  # the invitation's instructions and example follow: no answers there
            continue
        if is_boilerplate(line):
            continue
        collected.append(_ANSWER_MARK.sub("", line, count=1))
    close()
    return units


# "   >> 4", "-> Ja": a mark some residents put before what they type into the original, not their words.
_ANSWER_MARK = re.compile(r"^(?:>{1,3}|-+>|=>|→)\s*(?=\S)")


_LATER = re.compile(
    r"\b(?:jeg|eg|vi|i|we)(?:'ll|\s+will|\s+skal|\s+ska)?\s+(?:svarer|svarar|svare|answer|reply|respond|get back)"
    r"(?:\s+\w+){0,2}\s+(?:senere|seinare|later|i\s+helgen|i\s+helga|i\s+morgen|tomorrow|snart|soon|"
    r"this weekend|neste\s+uke|neste\s+veke|next week|når\s+jeg\s+har\s+tid)\b", re.I)


def is_chatter(text: str) -> bool:
    """Greetings, thanks, "Her er svarene mine:" and other lines that answer nothing."""
    stripped = text.strip()
    if stripped.endswith(":"):
        return True
    if stripped.endswith("?") and len(stripped.split()) >= 4:
        return True  # the resident asks something ("Hvem er dere, og hvordan …?"): a question answers nothing
    words = list(words_of(stripped).words)
    if not words:
        return True
    pointer = lx.find_phrases(words, lx.POINTERS) or (
        lx.ANSWER_WORDS.intersection(words) and lx.WHERE_WORDS.intersection(words))
    if pointer and len(words) <= 14:
        return True  # "Svarene står under hvert spørsmål (i rødt)."
    if lx.find_phrases(words, lx.SURVEY_WORDS) and lx.find_phrases(words, lx.SKIPPING) and len(words) <= 25:
        return True  # "Dei andre spørsmåla hoppar eg over, eg flytta hit i fjor": about the survey, no answer
    if _LATER.search(stripped) and len(words) <= 10:
        return True  # "Takk, jeg svarer i helgen!": a promise to answer, no answer yet
    spans = lx.find_phrases(words, lx.CHATTER)
    if spans and spans[0][0] == 0:
        covered = sum(e - s for s, e in spans)
        return covered >= len(words) - 2 or len(words) <= 4
    return False
