"""Free lines and sentences placed on the questions they answer, by what they say and where they stand.

Residents who do not number their answers still answer in order, mostly: one per line, one line
split by "/" or ";" or commas, or sentences of a paragraph. Each way of cutting the free text into
pieces is aligned to the questions in order (a piece may also be chatter, a question may be
skipped) so that the pieces read best; the best cut wins. A piece's confidence is its value's
confidence times how sure the placement is: a full one-per-line layout is nearly as sure as
numbers, a sentence in prose is a reading to confirm with the resident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailbot.campaigns import Question, QuestionType
from mailbot.reading.evidence import FUNCTION_WORDS, words_of
from mailbot.reading.units import Unit, is_chatter
from mailbot.reading.values import Value, read_text, read_value
from mailbot.reading.words import same_word

MAX_PIECES = 30
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÆØÅ0-9\"«])")

# How sure a placement is, by the kind of piece.
PLACED = {"line": 0.9, "piece": 0.9, "comma": 0.85, "sentence": 0.75, "prose": 0.75}  # prose: a paragraph line
LOOSE = 0.85  # a line in a layout that is not a clean one-answer-per-line list
TEXT_BY_PLACE = 0.5  # a free text answer known only by where it stands
TEXT_BY_WORDS = 0.75  # … that also repeats the question's words
ECHO = 0.15  # placing a piece that repeats its question's words ("Åpningstidene får 5") is likelier


@dataclass(frozen=True)
class Placed:
    question: Question
    value: Value
    text: str
    index: int
    corrects: bool = False


def align(free: list[Unit], questions: tuple[Question, ...]) -> list[Placed]:
    """The best placement of free lines on `questions` (those not answered by numbers or quotes)."""
    if not free or not questions:
        return []
    free = _bounded(free)
    common = _common_words(questions)
    best: tuple[float, list[Placed], list[tuple[str, str, Unit]]] = (0.0, [], [])
    for cut in _cuts(free):
        placed, score = _place(cut, questions, common)
        if score > best[0] + 0.05:
            best = (score, placed, cut)
    if all(p.question.type is QuestionType.TEXT and p.value.confidence < TEXT_BY_WORDS for p in best[1]):
        # A lone sentence known only by where it stands ("Takk for at dere spør!") answers nothing.
        return [p for p in best[1] if not p.value.ok]
    found = _out_of_order(best[2], best[1], questions)
    rescued = {p.question.id for p in found}
    taken = {p.text for p in found}  # "Min glede er 8." is the scale answered late, not the free text
    return [p for p in best[1] if p.question.id not in rescued
            and not (p.question.type is QuestionType.TEXT and p.text in taken)] + found


MAX_FREE_CHARS = 3_000  # typed answers are a few hundred characters; past this, mutated mail only costs time


def _bounded(free: list[Unit]) -> list[Unit]:
    """The free lines up to MAX_FREE_CHARS: every cut is aligned against every question, so the cost
    grows with the text, and a resident's answers never run this long."""
    out, total = [], 0
    for unit in free:
        total += len(unit.text)
        if total > MAX_FREE_CHARS:
            break
        out.append(unit)
    return out or free[:1]


OUT_OF_ORDER = 0.6  # an option named out of the questions' order: a reading to confirm


def _out_of_order(pieces: list[tuple[str, str, Unit]], placed: list[Placed],
                  questions: tuple[Question, ...]) -> list[Placed]:
    """Options named in prose before or after their question's place ("Jeg kjører ikke bil lenger, så det
    blir bussen" in the first sentence, for the fourth question): found by their words, read back."""
    answered = {p.question.id for p in placed if p.value.ok or p.value.unclear}  # (an answer in doubt is asked)
    as_text = {p.text for p in placed if p.question.type is QuestionType.TEXT and p.value.ok}
    as_value = {p.text for p in placed if p.question.type is not QuestionType.TEXT and p.value.ok}
    as_options = {p.text for p in placed if _named_options(p.question) and p.value.ok}
    out = []
    for question in questions:
        scale = question.type is QuestionType.SCALE
        if question.id in answered or not (_named_options(question) or scale):
            continue
        found = []
        for text, kind, unit in pieces:
            if kind not in ("sentence", "line", "prose") or text in (as_value if scale else as_text | as_options):
                continue  # (a sentence that named another question's option is not read for two lists)
            value = read_value(text, question, anchored=False)
            # (a word all questions share still says which scale: "Min glede er 8" in a survey on hverdagsglede)
            if scale and not _echoes([w for w in words_of(text).words if w not in FUNCTION_WORDS], question):
                continue  # a number alone out of place could be anything; "Min glede er 8" says what it rates
            if value.ok and value.answer is not None and _names_something(text):
                found.append((text, unit, value))
        if len({repr(v.answer) for _, _, v in found}) == 1:
            text, unit, value = found[0]
            value = value.at_most(OUT_OF_ORDER)
            out.append(Placed(question, value, text, unit.index, unit.corrects))
    return out


def _named_options(question: Question) -> bool:
    """A question whose options are things to name (not "Ja"/"Nei", not a scale)."""
    if question.type is QuestionType.MULTI:
        return True
    return question.type is QuestionType.CHOICE and len(question.options) > 2


def _cuts(free: list[Unit]) -> list[list[tuple[str, str, Unit]]]:
    """Ways of cutting the free lines into pieces: (piece text, kind, the line it came from)."""
    # A line of several sentences is prose, placed as surely as a sentence is.
    lines = [(u.text, "prose" if len(_SENTENCE.split(u.text)) > 1 else "line", u)
             for u in free if not is_chatter(u.text)]
    by_piece: list[tuple[str, str, Unit]] = []
    by_comma: list[tuple[str, str, Unit]] = []
    for text, _, unit in lines:
        pieces = [p for p in re.split(r"\s+/\s+|\s*;\s*|\s+\|\s+", text) if p.strip()]
        sentences = [s for s in _SENTENCE.split(text) if s.strip()]
        parts = pieces if len(pieces) > 1 else sentences
        kind = "piece" if len(pieces) > 1 else "sentence" if len(sentences) > 1 else "line"
        by_piece += [(p, kind, unit) for p in parts if not is_chatter(p)]
        for p in parts:
            if is_chatter(p):
                continue
            # not before "men"/"but": "Innspillkart har jeg prøvd, men det er ikke noe for meg" is one piece
            commas = [c for c in re.split(r"\s*,(?!\s*(?:men|but)\b)\s*", p) if c.strip()]
            if len(commas) > 1 and all(len(c.split()) <= 6 for c in commas[:-1]):  # the last may be free text
                by_comma += [(c, "comma", unit) for c in commas]
            elif not is_chatter(p):
                by_comma.append((p, kind, unit))
    cuts = [lines[:MAX_PIECES], by_piece[:MAX_PIECES]]
    if by_comma != by_piece:
        cuts.append(by_comma[:MAX_PIECES])
    return cuts


ONE_EACH = 1.0  # what a cut with one piece per question, in order, gains over the others
TOGETHER = 0.05  # what a second piece of the same answer adds to a cut's score
JOINED = 0.5  # what a further sentence naming more options of the same question adds, of its own score
REUSE = 0.95  # one sentence answering two questions ("Ja, jeg går dit for å lese aviser") counts a little less


def _place(pieces: list[tuple[str, str, Unit]], questions: tuple[Question, ...],
           common: frozenset[str] = frozenset()) -> tuple[list[Placed], float]:
    """Place pieces on questions in order. A piece may answer several questions in a row (not a text
    question), and a question may take several pieces in a row ("benker … Møteplasser har vi nok av")."""
    n, m = len(pieces), len(questions)
    fits = [[_fit(text, kind, q, common) for q in questions] for text, kind, _ in pieces]
    if _one_each(pieces, fits, m):
        # As many pieces as questions, each a possible answer to its own ("Ja; 6; 2; bøker og aviser;
        # formiddag; lengre opningstider på laurdagar"): the order says it, whatever a piece also names.
        pairs = [(k, k) for k in range(n)]
        total = sum(fits[k][k][1] for k in range(n)) + ONE_EACH  # and beats the other cuts
    else:
        pairs, total = _best_pairs(pieces, fits, questions)
    used = [i for i, _ in pairs]
    placed_on = sorted({j for _, j in pairs})
    # A full layout: every piece answers one question, in a row with none skipped ("Ja / Bøker / 4 / Rud").
    # Not sentences of a paragraph: "Kurs nei takk, jeg jobber mye." ends prose, it is no list.
    full = (n >= 2 and len(pairs) == n and len(set(used)) == n and len(placed_on) == n
            and placed_on == list(range(placed_on[0], placed_on[0] + n))
            and not any(kind in ("sentence", "prose") for _, kind, _ in pieces))
    out = []
    for j in sorted({j for _, j in pairs}):
        question = questions[j]
        mine = [i for i, jj in pairs if jj == j]
        if question.type is QuestionType.TEXT:
            mine = [i for i in mine if used.count(i) == 1] or mine[-1:]  # a sentence read as a value is not also text
            if used.count(mine[0]) > 1:
                continue
        kinds = [pieces[i][1] for i in mine]
        worst = min(PLACED[k] for k in kinds)
        sure = worst if full or "sentence" in kinds or "prose" in kinds else min(worst, LOOSE)
        if question.type is QuestionType.TEXT and kinds == ["comma"]:
            by_place = fits[mine[0]][j][0].confidence < TEXT_BY_WORDS
            if not full and by_place and _beside_answer(mine[0], pieces, pairs, j):
                continue  # "Kurs nei takk, jeg jobber mye.": the reason for an answer, not a text answer
            mine = _whole_clause(mine[0], pieces, set(used))
            text = ", ".join(pieces[i][0] for i in mine)
            value = _fit(text, "comma", question, common)[0] if len(mine) > 1 else fits[mine[0]][j][0]
        elif len(mine) == 1:
            text, value = pieces[mine[0]][0], fits[mine[0]][j][0]
        else:
            text = " ".join(pieces[i][0] for i in mine)
            value = _fit(text, "sentence" if "sentence" in kinds else kinds[0], question, common)[0]
            sure = min(sure, PLACED["sentence"])
        if used.count(mine[0]) > 1:
            sure = min(sure, PLACED["sentence"])  # a piece read for two questions: confirm it
        if question.type is QuestionType.TEXT:
            # In a full one-per-line layout the place says which question a line answers; else the words must.
            sure = sure if full else value.confidence
            if not full and sure < TEXT_BY_PLACE and _closes(mine, j, pairs, questions):
                sure = TEXT_BY_PLACE  # the last sentences, after the other answers in order: read them back
            value = Value(value.answer, 0.95 if full else 1.0, evidence=value.evidence)
        if value.ok:
            value = Value(value.answer, round(value.confidence * sure, 3), evidence=value.evidence)
        unit = pieces[mine[0]][2]
        out.append(Placed(question, value, text, unit.index, unit.corrects))
    return out, total


def _best_pairs(pieces: list[tuple[str, str, Unit]], fits: list[list[tuple[Value, float]]],
                questions: tuple[Question, ...]) -> tuple[list[tuple[int, int]], float]:
    """The (piece, question) pairs of the placement in order that reads best, and its score."""
    n, m = len(pieces), len(questions)
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    step: list[list[int]] = [[0] * (m + 1) for _ in range(n + 1)]  # 0 skip the piece, 1 skip the question, 2 place it
    # after placing piece i on question j, the best going on (not counting piece i's own score), and how:
    # 2 next piece, next question; 3 read the same piece again for the next question; 4 the next piece
    # answers the same question too ("Mobil, PC" cut at the comma; a free text in two sentences)
    cont = [[0.0] * (m + 1) for _ in range(n + 1)]
    how: list[list[int]] = [[2] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            score = fits[i][j][1]
            ways = [(best[i + 1][j + 1], 2)]
            if questions[j].type is not QuestionType.TEXT and pieces[i][1] == "sentence" and j + 1 < m \
                    and fits[i][j + 1][1] > 0 and not (
                        _named_options(questions[j]) and _named_options(questions[j + 1])
                        or questions[j].type is questions[j + 1].type is QuestionType.SCALE):
                # "Ja, jeg går dit for å lese aviser" answers a yes/no and the very next question; one sentence
                # is not read for two lists of options ("flere møteplasser" is not a joy and a wish at once), nor
                # one number for two scales ("Eg gjev stasjonsparkeringa ein firar" is not also the next grade)
                ways.append((fits[i][j + 1][1] + cont[i][j + 1] - score * (1 - REUSE), 3))
            if i + 1 < n and fits[i + 1][j][1] > 0 and _together(pieces[i], pieces[i + 1], questions[j]):
                # One answer cut in two ("Mobil, PC" at its comma; a free text in two sentences) counts once:
                # a cut into more pieces must not read better for that alone. Two sentences naming options
                # of one question ("Jeg er glad i naturen. Jeg liker også biblioteket.") each say something.
                # (at half its worth: a sentence that fits the next question as well goes there)
                once = pieces[i + 1][1] == "comma" or questions[j].type is QuestionType.TEXT
                ways.append(((TOGETHER if once else fits[i + 1][j][1] * JOINED) + cont[i + 1][j], 4))
            cont[i][j], how[i][j] = max(ways, key=lambda o: (round(o[0], 6), -o[1]))
            options = [(best[i + 1][j], 0), (best[i][j + 1], 1)]
            if score > 0:
                options.append((score + cont[i][j], 2))
            best[i][j], step[i][j] = max(options, key=lambda o: (round(o[0], 6), -o[1]))
    pairs: list[tuple[int, int]] = []
    i = j = 0
    joined = False  # the piece before was joined to this one: it must be placed on the same question
    while i < n and j < m:
        if not joined and step[i][j] < 2:
            i, j = (i + 1, j) if step[i][j] == 0 else (i, j + 1)
            continue
        pairs.append((i, j))
        move = how[i][j]
        joined = move in (3, 4)  # the same piece on the next question, or the next piece on this one
        i, j = (i + 1, j + 1) if move == 2 else (i, j + 1) if move == 3 else (i + 1, j)
    return _with_neighbours(pairs, pieces, fits, questions), best[0][0]


def _with_neighbours(pairs: list[tuple[int, int]], pieces: list[tuple[str, str, Unit]],
                     fits: list[list[tuple[Value, float]]], questions: tuple[Question, ...]) -> list[tuple[int, int]]:
    """Comma pieces of one line beside a piece placed on an options question, left unplaced, that name its
    options too: "Bedre kollektiv, sykkelparkering" is two options of one answer, not one and a word to drop
    (a cut in more pieces may read best by skipping the piece whose option it reads less sure of)."""
    placed = {i for i, _ in pairs}
    added = []
    for i, j in pairs:
        if questions[j].type is not QuestionType.MULTI or pieces[i][1] != "comma":
            continue
        for step in (-1, 1):
            k = i + step
            while (0 <= k < len(pieces) and k not in placed and pieces[k][1] == "comma"
                   and pieces[k][2] is pieces[i][2] and fits[k][j][0].ok and fits[k][j][1] > 0):
                added.append((k, j))
                placed.add(k)
                k += step
    return sorted(pairs + added) if added else pairs


def _one_each(pieces: list[tuple[str, str, Unit]], fits: list[list[tuple[Value, float]]], m: int) -> bool:
    """One line or separated piece per question, in order, each fitting its question (not prose)."""
    n = len(pieces)
    return (n == m >= 3 and all(kind in ("line", "piece") for _, kind, _ in pieces)
            and all(fits[k][k][1] > 0.0 for k in range(n)))


def _closes(mine: list[int], j: int, pairs: list[tuple[int, int]], questions: tuple[Question, ...]) -> bool:
    """A free text placed last, on the last question, after two or more other answers placed in order:
    a paragraph that answered the questions one by one and ends with what the resident wants to say."""
    others = [(i, jj) for i, jj in pairs if jj != j]
    return (j == len(questions) - 1 and len({jj for _, jj in others}) >= 2
            and all(i < min(mine) for i, _ in others))


def _beside_answer(i: int, pieces: list[tuple[str, str, Unit]], pairs: list[tuple[int, int]], j: int) -> bool:
    """The comma piece before `i`, in the same line, answers another question."""
    return i > 0 and pieces[i - 1][2] is pieces[i][2] and any(k == i - 1 and q != j for k, q in pairs)


def _whole_clause(i: int, pieces: list[tuple[str, str, Unit]], used: set[int]) -> list[int]:
    """A free-text answer cut at its commas gets its neighbours back ("Fornebu would be perfect, so many …"),
    as long as they answer nothing else."""
    unit = pieces[i][2]
    first = last = i
    while first - 1 >= 0 and pieces[first - 1][1] == "comma" and pieces[first - 1][2] is unit and first - 1 not in used:
        first -= 1
    while last + 1 < len(pieces) and pieces[last + 1][1] == "comma" and pieces[last + 1][2] is unit \
            and last + 1 not in used:
        last += 1
    return list(range(first, last + 1))


def _together(a: tuple[str, str, Unit], b: tuple[str, str, Unit], question: Question) -> bool:
    """Two pieces in a row may answer one question: sentences of one paragraph, or (not for free text)
    comma pieces of one line."""
    if question.type not in (QuestionType.MULTI, QuestionType.TEXT):
        return False  # one value: a second piece for it is a second answer, not more of the same
    if a[1] == "sentence" and b[1] == "sentence":
        return a[2].block == b[2].block
    return question.type is QuestionType.MULTI and a[2] is b[2]


def _fit(text: str, kind: str, question: Question, common: frozenset[str] = frozenset()) -> tuple[Value, float]:
    """A piece read as an answer to a question, and how much that reading explains the piece."""
    if question.type is QuestionType.TEXT:
        return _text_fit(text, kind, question, common)
    labelled = _LABEL.match(text)
    if labelled and len(labelled.group(1).split()) <= 5:
        # "Transport: bil", "Om jeg må velge: lys og gangveier": the words before the colon say what the
        # answer is to (or hedge it); the answer is after it ("Transport" is no vote for "Tilrettelagt transport")
        value = read_value(labelled.group(2), question, anchored=kind not in ("sentence", "prose"))
        if value.ok:
            head = [w for w in words_of(labelled.group(1)).words if w not in FUNCTION_WORDS]
            return value, value.confidence + (ECHO if _echoes(head, question, common) else 0.0)
    value = read_value(text, question, anchored=kind not in ("sentence", "prose"))
    if value.ok:
        words = [w for w in words_of(text).words if w not in FUNCTION_WORDS]
        return value, value.confidence + (ECHO if _echoes(words, question, common) else 0.0)
    if value.problem and kind not in ("sentence", "prose") and len(text.split()) <= 4 and _names_something(text):
        return value, 0.2  # answer-shaped but unreadable ("3 eller 4"): ask about it
    if value.unclear and kind == "line":
        return value, 0.5  # an answer in doubt on its own line ("…, men eg veit ikkje om det var regnet"): ask
    return value, 0.0


_LABEL = re.compile(r"^\s*([^:\d\n]{2,40}?)\s*:\s+(\S.*)$", re.S)


def _names_something(text: str) -> bool:
    return any(w not in FUNCTION_WORDS for w in words_of(text).words)


def _text_fit(text: str, kind: str, question: Question, common: frozenset[str]) -> tuple[Value, float]:
    if re.fullmatch(r"\s*(?:[A-ZÆØÅ]\.?){1,2}\s*", text):
        return Value(), 0.0  # "K", "K.H.": the initials a reply is signed with, not a free text
    if re.fullmatch(r"\s*\d{1,2}(?:\s*(?:,|/|-|–|eller|or|og|and|til)\s*\d{1,2})*\s*[.!]?\s*", text):
        return Value(), 0.0  # "6 eller 7": a grade in doubt, asked about on its scale, never a free text
    if re.fullmatch(r"\s*(?:tlf\.?|tel\.?|mob\.?|telefon|phone)?\s*:?\s*\+?[\d\s()-]{8,}\s*", text, re.I):
        return Value(), 0.0  # "67 54 32 10", "Tlf 913 44 201": a phone number under the name
    value = read_text(text)
    if not value.ok:
        return value, 0.05 if value.skipped else 0.0
    words = [w for w in words_of(text).words if w not in FUNCTION_WORDS]
    if not words:
        return Value(), 0.0
    echoed = _echoes(words, question, common)
    sure = TEXT_BY_WORDS if echoed else TEXT_BY_PLACE
    if kind == "sentence" and not echoed:  # a whole paragraph line ("prose") may be the free text
        sure = 0.3
    return Value(value.answer, sure, evidence="own words"), sure * 0.6


# Words of any question that say nothing of its subject: the place, question words, and the
# instruction after it ("Velg gjerne flere", "Choose one or more"): "mange" must not echo "flere".
_NOT_ECHOES = frozenset((
    "baerum", "hvor", "hva", "korleis", "hvordan", "kva", "velg", "vel", "gjerne", "flere", "fleire",
    "eller", "kryss", "svar", "svaret", "alternativ", "alternativer", "alternativene", "choose", "select",
    "more", "several", "many", "please", "tick"))


def _common_words(questions: tuple[Question, ...]) -> frozenset[str]:
    """Words that half the questions share ("kommunen" in a survey about the municipality) tell none of
    them apart; a word only one question has ("kommunen" in "Hva bør kommunen satse på?") does."""
    if len(questions) < 3:
        return frozenset()
    seen: dict[str, int] = {}
    for question in questions:
        for word in set(words_of(question.text).words):
            seen[word] = seen.get(word, 0) + 1
    return frozenset(w for w, n in seen.items() if n * 2 >= len(questions))


def _echoes(words: list[str], question: Question, common: frozenset[str] = frozenset()) -> bool:
    """The piece repeats a meaningful word of the question ("Butikken bør ligge …" for "Hvor … bør butikken ligge?")."""
    target = [w for w in words_of(question.text).words if w not in FUNCTION_WORDS and len(w) >= 4
              and w not in _NOT_ECHOES and w not in common]
    # "glede" echoes "hverdagsglede": the last part of the question's compound
    return any(same_word(w, t) >= 0.85 or (len(w) >= 5 and len(t) > len(w) + 2 and t.endswith(w))
               for w in words for t in target)
