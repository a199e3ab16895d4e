"""What one piece of a reply says about one question: the options it names, the numbers it gives.

`mentions` finds every option a piece of text names (by letter, by its words in any inflection,
a synonym, a typo, yes/no/don't-know words for the options that mean them) and whether the
text rejects it ("bøker har biblioteket allerede", "ikke elektronikk", "alt unntatt bøker").
`numbers` finds the values a text gives on a scale (digits, words, "en treer", "terningkast
fem", "4 av 5", the scale's own labels, "middels"), leaving out counts, dates and times.
Both are pure and bounded; `values` turns them into an answer and a confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from mailbot.campaigns import Question
from mailbot.reading import lexicon as lx
from mailbot.reading.vocabulary import EQUIVALENTS, GRADE_WORDS, NUMBER_WORDS, fold
from mailbot.reading.words import forms, same_word

MAX_WORDS = 120  # of one piece of text: an answer is never longer, and it bounds every scan

FUNCTION_WORDS = frozenset(fold(w) for w in (
    "og", "eller", "i", "på", "ved", "til", "av", "for", "med", "en", "et", "ei", "ein", "eit", "the", "a", "an",
    "of", "and", "or", "in", "at", "to", "du", "jeg", "eg", "det", "er", "som", "fra", "frå", "om", "mer", "meir",
    "mest", "more", "most", "der", "her", "seg", "sin", "sine", "din", "ditt", "dine", "man",
))
_LETTER = re.compile(r"(?<![\w'’-])([A-Za-z])(?![\w'’-])")
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*|[&+/]")
_BREAK = re.compile(r"[.;:!?()\[\]–—]|,|\s-\s|\n")


@dataclass(frozen=True)
class Words:
    """A piece of text as folded words, each with the clause it stands in."""

    text: str
    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]  # character span of each word in `text`
    clause: tuple[int, ...]  # clause number of each word: punctuation and "men"/"but" start a new one


_NOT = ("not", "ikke", "ikkje")


@lru_cache(maxsize=4096)
def words_of(text: str) -> Words:
    text = text[:2000]
    words: list[str] = []
    spans: list[tuple[int, int]] = []
    clause: list[int] = []
    current = 0
    last_end = 0
    for match in _WORD.finditer(text):
        if len(words) >= MAX_WORDS:
            break
        if _BREAK.search(text, last_end, match.start()):
            current += 1
        for word in (fold(match.group(0)) or match.group(0)).split():  # "jobb-pc" is two words, as in options
            # "not so much meeting places" is one clause
            if word in lx.CLAUSE_BREAKS and words and not (word in ("so", "sa") and words[-1] in _NOT):
                current += 1
            words.append(word)
            spans.append((match.start(), match.end()))
            clause.append(current)
        last_end = match.end()
    return Words(text, tuple(words), tuple(spans), tuple(clause))


# --- options -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    text: str
    key: str  # A, B, C …
    phrases: tuple[tuple[str, ...], ...]  # its folded words, and those of its synonyms
    content: tuple[str, ...]  # its words that carry meaning
    distinct: tuple[str, ...]  # those no other option of the question has
    polarity: str | None  # yes | no | dk, for options that mean agreement, refusal, or not knowing
    parts: tuple[tuple[str, ...], ...] = ()  # other words for a piece of it ("lighting" for "God belysning")


@lru_cache(maxsize=512)
def options_of(question: Question) -> tuple[Option, ...]:
    folded = [tuple(fold(o).split()) for o in question.options]
    contents = [tuple(w for w in f if w not in FUNCTION_WORDS) or f for f in folded]
    out = []
    for (key, text), words, content in zip(question.keyed_options, folded, contents, strict=True):
        # A word of a hyphenated compound in another option does not count against this one: "PC" is
        # "PC eller Mac", not also "Jobb-PC".
        others = {w for other, c in zip(question.options, contents, strict=True) if c is not content
                  for w in fold(other.replace("-", "")).split()}
        distinct = tuple(w for w in content if not any(same_word(w, o) >= 0.85 for o in others))
        phrases = [words] + [tuple(p.split()) for group in EQUIVALENTS if " ".join(words) in group
                             for p in group if p != " ".join(words)]
        polarity = _polarity(words)
        # ("aldri" is a frequency too: it names "Sjeldnere eller aldri", where "ikke" names nothing)
        parts = () if polarity == "dk" else _parts(words, tuple(w for w in distinct if ((w,) not in lx.NEGATORS
                                                                 or w in ("aldri", "never"))
                                                                 and w not in _POLAR and w not in _LIGHT_VERBS
                                                                 and w not in _VAGUE))
        parts += _clauses(words)
        if not distinct and any(set(content) < set(c) for c in contents):
            # "Vatn frå springen" beside "Filtrert vatn frå springen": named by its own words ("fra springen")
            # when the longer option's word is not there (mentions() leaves it to the longer one then).
            parts += tuple((w,) for w in content if len(w) >= 4 and w not in _VAGUE and w not in _LIGHT_VERBS)
        out.append(Option(text, key, tuple(p for p in phrases if p), content, distinct, polarity, parts))
    return tuple(out)


_POLAR = frozenset({"ja", "nei", "yes", "no", "jo"})
# Verbs in nearly every sentence: part of an option's wording ("Har ikke tid"), never what names it.
_LIGHT_VERBS = frozenset(fold(w) for w in (
    "har", "hadde", "ha", "får", "fikk", "få", "blir", "ble", "bli", "vart", "kan", "kunne", "vil", "ville", "skal",
    "skulle", "må", "måtte", "gjør", "gjer", "gjøre", "gjere", "tror", "trur", "synes", "syns", "var", "være",
    "vere", "have", "has", "had", "get", "gets", "got", "is", "are", "was", "be", "will", "can", "do", "does",
    "think", "bruker", "brukar", "use",
))


# Words of amount and frequency that name no option alone: "noe kulturelt" is not "Noen ganger i året".
_VAGUE = frozenset(fold(w) for w in (
    "noen", "noe", "nokre", "noko", "nokon", "some", "few", "several", "gang", "ganger", "gong", "gonger",
    "time", "times", "hver", "kvar", "every", "each", "men", "but", "gjerne", "også", "og", "òg", "likevel",
    "nesten", "nærmast", "nearly", "almost",  # "Nesten aldri" is never, not "Dagleg eller nesten dagleg"
))


def _clauses(words: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """An option that is a sentence ("Nei, men eg vil gjerne") is named by its clause without the yes or
    no ("… men jeg vil gjerne"): the last len-1 words of an option of five or more, the last three of four."""
    if len(words) < 4 or words[0] not in _POLAR:
        return ()
    tail = words[1:] if len(words) >= 5 else words[-3:]
    return (tail,) if sum(1 for x in tail if x not in FUNCTION_WORDS) >= 2 else ()


def _parts(words: tuple[str, ...], distinct: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Other words for a distinctive piece of an option: "sometimes" for the "av og til" of "Ja, av og til",
    "lighting" for the "belysning" of "God belysning", and the piece itself where the option has more."""
    out: list[tuple[str, ...]] = []
    whole = " ".join(words)
    for group in EQUIVALENTS:
        if whole in group:
            continue
        for member in group:
            piece = tuple(member.split())
            if len(piece) == 1 and piece[0] not in distinct:
                continue
            n = len(piece)
            if any(words[i:i + n] == piece for i in range(len(words) - n + 1)):
                # the piece itself too when it is several words: "av og til" names "Ja, av og til"
                out += [tuple(p.split()) for p in group if p != member or n > 1]
                break
    if len(words) > 1:
        out += [(w,) for w in distinct if len(w) >= 2]
    return tuple(dict.fromkeys(p for p in out if p))


def _polarity(words: tuple[str, ...]) -> str | None:
    if not words:
        return None
    if lx.has_phrase(list(words), lx.DONT_KNOW) and len(words) <= 3:
        return "dk"
    if words[0] in ("ja", "yes", "jo"):
        return "yes"
    if words[0] in ("nei", "no") or words in (("aldri",), ("never",)):
        return "no"
    return None


@dataclass(frozen=True)
class Mention:
    option: Option
    start: int  # word index
    end: int
    strength: float  # how surely the words name this option
    via: str  # key | phrase | word | yes | no | dk | all
    negated: bool = False


def mentions(text: str, question: Question) -> list[Mention]:
    """Every option `text` names, in order, each marked negated when the text rejects it."""
    w = words_of(text)
    options = options_of(question)
    found: list[Mention] = []
    taken: set[int] = set()

    def add(m: Mention) -> None:
        found.append(m)
        taken.update(range(m.start, m.end))

    dk_spans = lx.find_phrases(list(w.words), lx.DONT_KNOW)
    # Whole option texts first ("Vet ikke", "Ja, av og til", "Buss eller bane"), then other words for a
    # piece of one ("sometimes", "street lights").
    for strength, phrases_of in ((1.0, lambda o: o.phrases), (0.8, lambda o: o.parts)):
        for option in options:
            for phrase in phrases_of(option):
                if len(phrase) < 2:
                    continue
                for start in _phrase_at(w.words, phrase):
                    if not taken.intersection(range(start, start + len(phrase))):
                        add(Mention(option, start, start + len(phrase), strength, "phrase"))
    for start, end in dk_spans:
        dk = [o for o in options if o.polarity == "dk"]
        if len(dk) == 1 and not taken.intersection(range(start, end)):
            add(Mention(dk[0], start, end, 0.95, "dk"))
        taken.update(range(start, end))
    for i, word in enumerate(w.words):
        if i in taken or word in FUNCTION_WORDS or (len(word) < 2 and not word.isdigit()):
            continue
        best = _best_option(word, question)
        if best is not None:
            add(Mention(best[1], i, i + 1, best[0], "word"))
    found = _paired(found, w.words)
    found = _without_inner(found)
    found += _polarity_mentions(w, options, taken)
    found += _letter_mentions(text, w, options)
    found.sort(key=lambda m: m.start)
    return [_with_negation(m, w, dk_spans, found) for m in found]


def _paired(found: list[Mention], words: tuple[str, ...]) -> list[Mention]:
    """Two words of one option side by side ("lese aviser", "låne bøker") name it surely."""
    out = []
    for m in found:
        if m.via == "word" and m.strength < 0.9:
            near = [o for o in found if o is not m and o.option is m.option and abs(o.start - m.start) <= 2]
            shared = [i for i in range(max(0, m.start - 2), min(len(words), m.end + 2))
                      if words[i] in m.option.content and words[i] not in m.option.distinct]
            if near or shared:
                m = Mention(m.option, m.start, m.end, 0.9, m.via, m.negated)
        out.append(m)
    return out


def _without_inner(found: list[Mention]) -> list[Mention]:
    """A word of a nested option ("springen" of "Vatn frå springen") beside a mention of the option that
    holds it and more ("filtrert" of "Filtrert vatn frå springen") is part of naming the longer one."""
    longer = [m.option for m in found]
    return [m for m in found if not (m.via == "word" and any(set(m.option.content) < set(o.content) for o in longer))]


def _phrase_at(words: tuple[str, ...], phrase: tuple[str, ...]) -> list[int]:
    n = len(phrase)
    return [i for i in range(len(words) - n + 1)
            if all(same_word(words[i + k], phrase[k]) >= 0.85 for k in range(n))]


@lru_cache(maxsize=64)  # the surveys being read at once; with MAX_WORDS_KEPT, a bound on the memory kept
def _best_by_word(question: Question) -> dict[str, tuple[float, Option] | None]:
    """Each word's best option of `question`, kept: a reply repeats its words, every piece is
    scanned against every question, and the score of one word is the costliest step of reading."""
    return {}


MAX_WORDS_KEPT = 5_000


def _best_option(word: str, question: Question) -> tuple[float, Option] | None:
    """The one option `word` names best (none when two tie)."""
    kept = _best_by_word(question)
    if word in kept:
        return kept[word]
    scores = [(_word_score(word, option), option) for option in options_of(question)]
    top = max((score for score, _ in scores), default=0.0)
    tied = [option for score, option in scores if top and score == top]
    if len(tied) > 1:
        # "fra springen" is in "Vatn frå springen" and "Filtrert vatn frå springen": the option whose words
        # the others all hold is the one named; the longer one would need its own word ("filtrert").
        inner = [o for o in tied if all(set(o.content) <= set(other.content) for other in tied)]
        tied = inner if len(inner) == 1 else tied
    if len(kept) >= MAX_WORDS_KEPT:
        kept.clear()
    kept[word] = (top, tied[0]) if len(tied) == 1 else None
    return kept[word]


def _word_score(word: str, option: Option) -> float:
    best = 0.0
    for phrase in option.phrases:
        if len(phrase) == 1:
            best = max(best, same_word(word, phrase[0]))
    if best >= 0.8:
        return best
    # One distinctive word of a longer option ("benker" for "Benker og hvileplasser", "alltid" for
    # "Ja, alltid"), or another word for it ("lighting" for "God belysning").
    for part in option.parts:
        if len(part) == 1 and len(part[0]) >= 2:
            score = same_word(word, part[0])
            if score >= (0.85 if part[0] in option.distinct else 0.95):  # a typo of its own words, not of a synonym
                best = max(best, 0.75 * score)
            elif part[0] in option.distinct and len(part[0]) >= 6 and len(word) >= len(part[0]) + 4 \
                    and word.startswith(part[0]):
                best = max(best, 0.5)  # "foreldrekjøringen" for "Foreldre som kjører …": a compound of its word
    return best


def _polarity_mentions(w: Words, options: tuple[Option, ...], taken: set[int]) -> list[Mention]:
    out = []
    words = list(w.words)
    for group, polarity in ((lx.YES, "yes"), (lx.NO, "no")):
        targets = [o for o in options if o.polarity == polarity]
        if not targets:
            continue
        for start, end in lx.find_phrases(words, group):
            if taken.intersection(range(start, end)):
                continue
            if polarity == "no" and words[start] in ("ikke", "ikkje", "not", "never", "aldri") and end - start == 1:
                continue  # a bare "ikke" negates what follows; it is not the answer "Nei"
            if words[start] in ("jo", "no") and end - start == 1 and start > 0 \
                    and w.clause[start - 1] == w.clause[start]:
                # "så vi parkerer jo ikke hjemme": the particle, not the answer "Jo"; "eg bur i Asker no" is
                # Nynorsk "now"; "I have no car" says no of the car, not the answer "No"
                continue
            if len(targets) == 1:
                out.append(Mention(targets[0], start, end, 0.95, polarity))
            else:  # "Ja" to "Ja, alltid" / "Ja, av og til": only a clear second word decides
                out.extend(Mention(t, start, end, 0.5, polarity) for t in targets)
    return out


def _letter_mentions(text: str, w: Words, options: tuple[Option, ...]) -> list[Mention]:
    """Option letters: "B og E", "a)", "alternativ C", "bce" run together, "A, tror jeg"."""
    keys = {o.key: o for o in options}
    out: list[Mention] = []
    listy = _only_letters(w, keys)
    for i, ((start, end), word) in enumerate(zip(w.spans, w.words, strict=True)):
        raw = text[start:end]
        if len(raw) == 1 and raw.upper() in keys:
            after = text[end : end + 2]
            before = w.words[i - 1] if i else ""
            formatted = (after[:1] in (")", ".", ",", ":", "!", "") or after.startswith((" )", " –", " -", " —"))
                         or end == len(text))
            strong = listy or before in ("alternativ", "alt", "svar", "option", "valg", "bokstav", "velger",
                                         "choose", "pick", "vel", "velg", "answer", "letter", "punkt") or (
                raw.isupper() and before in ("sa", "so") and raw != "I")  # "…, så D vil eg tru", "so D for the first
            if raw == "I" and not (listy or after[:1] == ")"):
                continue  # the English pronoun
            after_letter = i > 0 and len(text[w.spans[i - 1][0]:w.spans[i - 1][1]]) == 1 and before.upper() in keys
            joined = before in lx.JOINERS and (after_letter or i > 1 and w.words[i - 2].upper() in keys)
            if raw.isupper() and not formatted and not strong and joined:
                strong = True  # "B og C (barneklær)": a letter joined to a letter
            if raw.isupper() and (formatted or strong) or raw.islower() and (listy or strong and formatted):
                out.append(Mention(keys[raw.upper()], i, i + 1, 1.0 if listy or strong else 0.85, "key"))
            elif raw.isupper() and raw != "I" and _letter_named(text, w, keys, i):
                out.append(Mention(keys[raw], i, i + 1, 0.85, "key"))  # "A og C, kanskje litt B også"
        elif listy and 2 <= len(raw) <= len(keys) and raw.isalpha() and len(set(raw.lower())) == len(raw):
            letters = [keys.get(c.upper()) for c in raw]
            if all(letters) and not _is_word(word):
                out.extend(Mention(o, i, i + 1, 0.85, "key") for o in letters if o)  # "bce"
    return out


def _letter_named(text: str, w: Words, keys: dict[str, Option], i: int) -> bool:
    """A capital option letter in a text that names another option by its letter, and not the English "A"."""
    others = [j for j, (s, e) in enumerate(w.spans) if j != i and e - s == 1 and text[s].isupper() and text[s] in keys
              and text[s] != "I"]
    if not others:
        return False
    if text[w.spans[i][0]] == "A" and i + 1 < len(w.words) and w.words[i + 1] not in lx.JOINERS:
        nxt = text[w.spans[i + 1][0]:w.spans[i + 1][1]]
        return not nxt[:1].islower() or len(nxt) == 1
    return True


def _only_letters(w: Words, keys: dict[str, Option]) -> bool:
    """The text is letters and list words only: "B og E", "a, c", "bce", "A, tror jeg"."""
    hedged = {i for start, end in lx.find_phrases(list(w.words), lx.HEDGES) for i in range(start, end)}
    rest = [x for i, x in enumerate(w.words) if x not in lx.JOINERS and i not in hedged
            and x not in ("jeg", "eg", "i", "svar", "alternativ", "alternativene", "velger", "vel", "tror", "trur",
                          "da", "sier", "seier")]
    return bool(rest) and len(rest) <= 8 and all(
        len(x) == 1 and x.upper() in keys
        or (2 <= len(x) <= 6 and all(c.upper() in keys for c in x) and not _is_word(x))
        for x in rest
    )


@lru_cache(maxsize=2048)
def _is_word(folded: str) -> bool:
    return len(forms(folded)) > 2 or folded in FUNCTION_WORDS or folded in ("bad", "dead", "bed", "cab", "ace")


def _with_negation(m: Mention, w: Words, dk_spans: list[tuple[int, int]], found: list[Mention]) -> Mention:
    if m.via in ("dk", "no", "key") or m.option.polarity == "no":
        return m
    words = list(w.words)
    clause = w.clause[m.start]
    said = _said_after(m, w, m.option.phrases[0])
    if said == "lack":
        # "Det mangler fortau": "det finnes ikke fortau", "ingen fortau" name the lack, they do not reject it
        # ("alt unntatt hentedagene" still leaves out "For få hentedager"; "Ikke lyset, det har vi nok av"
        # opens with "not" and the thing: that rejects it, where "det er ikke lys" says it is missing)
        first = _clause_start(w, m.start)
        if m.start == first + 1 and words[first] in ("ikke", "ikkje", "not"):
            return Mention(m.option, m.start, m.end, m.strength, m.via, negated=True)
        if _negated(m, w, dk_spans, _ABSENT):
            return Mention(m.option, m.start, m.end, max(m.strength, 0.8), m.via)
        return Mention(m.option, m.start, m.end, m.strength, m.via, negated=_negated(m, w, dk_spans))
    if said == "not":
        # The option says "not" itself ("Har ikke tid"): "jeg har ikke tid" names it, "jeg har tid" does not.
        near = [i for i in range(max(0, m.start - 4), min(len(words), m.end + 3))
                if (words[i],) in lx.NEGATORS and w.clause[i] == clause]
        if near:
            return m if m.via == "phrase" else Mention(m.option, m.start, m.end, max(m.strength, 0.8), m.via)
        return Mention(m.option, m.start, m.end, min(m.strength, 0.45), m.via)
    if _negated(m, w, dk_spans) or _fronted_and_negated(m, w):
        return Mention(m.option, m.start, m.end, m.strength, m.via, negated=True)
    # The clause after it, if it starts "men"/"but": "Innspillkart har jeg prøvd, men det er ikke noe for meg."
    turn = next((i for i in range(m.end, len(words)) if w.clause[i] != clause), None)
    but = w.clause[turn] if turn is not None and words[turn] in ("men", "but") else None
    if but is not None and any(o.option is not m.option and w.clause[o.start] == but for o in found):
        but = None  # "kino, men teaterscene trenger vi ikke": the turn rejects what it names, not kino
    tail = [(i, x) for i, x in enumerate(words) if i >= m.end and w.clause[i] in (clause, but)]
    if tail and lx.find_phrases([x for _, x in tail], lx.REJECTING):
        return Mention(m.option, m.start, m.end, m.strength, m.via, negated=True)
    return m


def _negated(m: Mention, w: Words, dk_spans: list[tuple[int, int]],
             negators: frozenset[tuple[str, ...]] = lx.NEGATORS) -> bool:
    """A "not" shortly before the mention, in its clause (not "ikke bare", not inside "vet ikke")."""
    words = list(w.words)
    in_dk = {i for s, e in dk_spans for i in range(s, e)}
    for start, end in lx.find_phrases(words[: m.start], negators):
        if w.clause[start] != w.clause[m.start] or start in in_dk:
            continue
        if words[start : start + 2] in _NOT_ONLY or words[start : start + 2] == ["ikke", "minst"]:
            continue
        if words[start:end] == ["mindre"] and end != m.start:
            continue  # "mindre kino": less of it; "køyre mindre er betre bussar": about something else
        if _now(words, start, end) and end < len(words):
            continue  # "Viktigast no er betre overgang": Nynorsk "now", not "no"
        if m.start - end <= 4:
            return True
    return False


def _clause_start(w: Words, i: int) -> int:
    """The index of the first word of word i's clause."""
    return w.clause.index(w.clause[i])


def _now(words: list[str], start: int, end: int) -> bool:
    """ "no" that is Nynorsk "now": before a verb or a small word ("no er", "no i"), or ending the clause."""
    return words[start:end] == ["no"] and (end == len(words) or words[end] in _NOW_AFTER)


_NOT_ONLY = (["ikke", "bare"], ["ikkje", "berre"], ["not", "only"])  # "ikke bare bil": more than that, not a no
_FRONT = frozenset(("men", "but", "og", "and", "så", "sa", "mens"))
_NOT_AFTER = frozenset(("ikke", "ikkje", "aldri", "never", "not", "ei"))


def _fronted_and_negated(m: Mention, w: Words) -> bool:
    """The thing put first in its clause and denied after the verb: "Leksehjelp har vi ikke trengt", "men
    e-bøkene i appen har jeg aldri fått til å virke", "morgen trenger jeg ikke"."""
    clause = w.clause[m.start]
    first = _clause_start(w, m.start)
    if any(w.words[i] not in _FRONT and w.words[i] not in FUNCTION_WORDS for i in range(first, m.start)):
        return False
    after = [i for i in range(m.end, min(len(w.words), m.end + 5)) if w.clause[i] == clause]
    # the verb and who: "har vi", "trenger jeg"; the "not" within two words after them
    return any(w.words[i] in _NOT_AFTER and i - m.end in (2, 3) for i in after)


# "Not" that says a thing is not there ("det finnes ikke fortau", "ingen benker"), not "except" or "no to".
_ABSENT = frozenset(p for p in lx.NEGATORS if p in {
    (fold(x),) for x in ("ikke", "ikkje", "not", "no", "never", "aldri", "ingen", "inga", "uten", "utan", "without",
                         "none")} | {("ikke", "noe"), ("ikkje", "noko")})
_NOW_AFTER = frozenset(fold(w) for w in (
    "er", "var", "har", "kan", "skal", "må", "vil", "blir", "vert", "kjem", "går", "treng", "bur", "tek", "i", "på",
    "til", "eg", "me", "vi", "dei", "du", "han", "ho", "det", "at", "så", "og", "heller", "lenger"))
# Words of an option that say something is missing: "Det mangler fortau", "For lite lys", "Too few benches".
_LACK = frozenset(fold(w) for w in (
    "mangler", "manglar", "mangel", "manglende", "manglande", "lite", "få", "savner", "saknar", "lack", "lacking",
    "missing", "few", "little", "insufficient", "utilstrekkelig",
))


def _said_after(m: Mention, w: Words, option: tuple[str, ...]) -> str | None:
    """ "not" when the option says "not" before what the mention names ("Har ikke tid": "tid"), "lack"
    when it says that it is missing ("Det mangler fortau"); None when the mention names what comes before
    the option's "not" ("Snø og is" of "Snø og is blir ikke fjernet tidlig nok") or the option says neither."""
    at = next(((i, "not") for i, x in enumerate(option) if (x,) in lx.NEGATORS), None) or next(
        ((i, "lack") for i, x in enumerate(option) if x in _LACK), None)
    if at is None:
        return None
    typed = w.words[m.start:m.end]
    before = option[:at[0]]
    if at[0] > 0 and all(any(same_word(x, o) >= 0.85 for o in before) for x in typed if x not in FUNCTION_WORDS) \
            and not any(any(same_word(x, o) >= 0.85 for o in option[at[0] + 1:]) for x in typed):
        return None
    return at[1]


# --- a yes/no question answered by saying it -------------------------------------------------

# Words of a yes/no question that carry no subject: "Har du …", "Kunne du tenkje deg …", "… dei siste fem åra".
_SCAFFOLD = frozenset(fold(w) for w in (
    "har", "hatt", "hadde", "have", "has", "had", "kan", "kunne", "could", "would", "vil", "ville", "will",
    "skal", "bør", "din", "ditt", "dine", "deg", "dykk", "dere", "dei", "de", "you", "your", "yours", "oss", "noen",
    "nokon", "noko", "noe", "any", "gang", "gong", "ever", "tenke", "tenkje", "tenkt", "like", "think",
    "siste", "last", "years", "year", "åra", "årene", "år", "fem", "fire", "tre", "to", "ti", "egen", "eigen",
    "own", "do", "does", "did", "are", "is", "was", "were", "være", "vere", "bli", "blitt", "selv", "sjølv",
    "hvor", "kvar", "hva", "kva", "hvordan", "korleis", "nå", "no", "dag", "today", "now", "etter", "after",
    "lage", "make", "gjøre", "gjere", "ha", "få", "bruke", "bruka", "use", "ønske", "ønskje", "want",
    # the panel's own subject, in every question of every survey: it tells none of them apart
    "kommune", "kommunen", "kommunens", "municipality", "council", "bærum", "innbyggere",
    "innbyggarar", "residents", "panelet", "innbyggerpanelet",
))
# Words that say the thing is so, beside the subject: "Vi hadde vatn i kjellaren", "We do have a car".
_AFFIRMING = frozenset(fold(w) for w in (
    "har", "hadde", "hatt", "have", "has", "had", "do", "does", "did", "bruker", "brukar", "brukte", "use", "uses",
    "used", "ønsker", "ønskjer", "vil", "ville", "want", "gjerne", "tenke", "tenkje", "liker", "likar",
    "yes", "ja", "jo", "absolutt", "definitely", "sure", "selvfølgelig", "sjølvsagt", "eier", "eig", "own", "owns",
    "var", "vært", "vore", "innom", "besøkt", "besøkte", "been", "was", "went", "visited",
))


def restated(text: str, question: Question) -> str | None:
    """ "yes" or "no" when the text says the question's own subject with or without a "not": "Vi har ikke
    bil" to "Har husstanden din tilgang til bil?", "Regnbed kunne vi godt tenke oss", "We do have a car".
    None when it says nothing of the subject, asks, or does not know."""
    if "?" in text:
        return None
    w = words_of(text)
    subject = [t for t in words_of(question.text).words
               if t not in FUNCTION_WORDS and t not in _SCAFFOLD and len(t) >= 3 and not t.isdigit()]
    said = [i for i, x in enumerate(w.words) if x not in FUNCTION_WORDS and x not in _SCAFFOLD and len(x) >= 3
            and any(same_word(x, t) >= 0.85 for t in subject)]
    if not said:
        return None
    words = list(w.words)
    clauses = {w.clause[i] for i in said}
    if any(w.clause[s] in clauses for s, _ in lx.find_phrases(words, lx.DONT_KNOW)):
        return None
    own = [x for i, x in enumerate(words) if w.clause[i] in clauses]
    negated = [(s, e) for s, e in lx.find_phrases(own, lx.NEGATORS) + lx.find_phrases(own, lx.REJECTING)
               if not _now(own, s, e)]
    if any(own[s:s + 2] in _NOT_ONLY for s, _ in negated):
        return None
    if negated:
        return "no"
    return "yes" if any(x in _AFFIRMING for x in own) else None


# --- numbers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    value: int
    start: int
    end: int
    strength: float
    out_of: int | None = None  # "4 av 5": the 5


def numbers(text: str, question: Question) -> list[Number]:
    """The values `text` gives on `question`'s scale, in order (counts, dates, times and years left out)."""
    low = question.min if question.min is not None else 1
    high = question.max if question.max is not None else 5
    w = words_of(text)
    words = w.words
    alone = len([x for x in words if x not in lx.JOINERS]) <= 2
    out: list[Number] = []
    denominators: set[int] = set()
    for i, word in enumerate(words):
        value, kind = _number_word(word)
        if value is None or i in denominators:
            continue
        if word in ("en", "ein", "ei", "et", "eit", "a", "an", "one") and _number_word(
                words[i + 1] if i + 1 < len(words) else None)[1] == "grade":
            continue  # "en treer": the article of a grade
        start, end = w.spans[i]
        if kind == "digit" and _in_date_or_time(text, start, end):
            continue
        after = words[i + 1] if i + 1 < len(words) else ""
        before = words[i - 1] if i else ""
        if after in lx.COUNTED or (kind == "digit" and len(word) >= 3 and value > high):
            continue
        out_of = None
        if after in ("av", "of", "out", "ut", "/") or text[end : end + 1] == "/":
            j = i + 1 + (words[i + 1 : i + 3] in (["out", "of"], ["ut", "av"]))
            k = next((k for k in range(j + 1, min(j + 3, len(words))) if _number_word(words[k])[0] is not None), None)
            out_of = _number_word(words[k])[0] if k is not None else None
            if k is not None:
                denominators.add(k)  # the 5 of "4 av 5" is not a value of its own
            if out_of is None and text[end : end + 1] == "/":
                m = re.match(r"/\s*(\d{1,2})", text[end:])
                out_of = int(m.group(1)) if m else None
        if kind == "grade":
            strength = 0.9
        elif before in ("terningkast", "terning"):
            strength = 1.0
        elif out_of is not None:
            strength = 1.0 if out_of == high else 0.0
        elif kind == "digit":
            leading = i == 0 and len(words) <= 5  # "3 – helt ok", "4 (ganske fornøyd)"
            strength = 1.0 if alone else 0.9 if leading else 0.85 if before in lx.RATING_LEADS else 0.7
        elif alone or before in lx.RATING_LEADS - {"for", "på", "til", "med", "an"}:
            if word in ("en", "ein", "ett", "eitt", "one", "to", "fire") and not alone:
                strength = 0.6
            else:
                strength = 0.95 if alone else 0.8
        else:
            continue  # "en" the article, "to" the preposition, "fire" the English noun
        if out_of is not None and out_of != high:
            out.append(Number(value, i, i + 1, 0.0, out_of))  # "4 av 10" on a 1–5 scale: not this scale
            continue
        if low <= value <= high or strength >= 0.9:
            out.append(Number(value, i, i + 1, strength, out_of))
    out += _label_numbers(w, question, low, high, {n.start for n in out})
    out.sort(key=lambda n: n.start)
    return out


def _number_word(word: str | None) -> tuple[int | None, str]:
    if not word:
        return None, ""
    if word.isdigit():
        return (int(word), "digit") if len(word) <= 3 else (None, "")
    if word in GRADE_WORDS:
        return GRADE_WORDS[word], "grade"
    if (digits := _DIGIT_GRADE.match(word)) is not None:
        return int(digits.group(1)), "grade"  # "en 4'er", "ein 5-ar"
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word], "word"
    return None, ""


_DIGIT_GRADE = re.compile(r"^(\d{1,2})['’-]?(?:er|ar|ern|aren)$")
_DATE_OR_TIME = re.compile(r"\d{1,2}[.:]\d{2}|\d{1,2}\.\s?\d{1,2}\.|\d{1,2}\.\s?(?:[a-zæøå]{3,9})\b|\d{4}")


def _in_date_or_time(text: str, start: int, end: int) -> bool:
    window = text[max(0, start - 3) : end + 12].lower()
    for m in _DATE_OR_TIME.finditer(window):
        s = max(0, start - 3) + m.start()
        if s <= start < max(0, start - 3) + m.end() and not re.match(r"\d{1,2}\.\s?(av|of|out|poeng)\b",
                                                                       text[start:end + 8].lower()):
            month = re.match(r"\d{1,2}\.\s?([a-zæøå]+)", text[start:end + 12].lower())
            if month and fold(month.group(1)) not in lx.COUNTED:
                continue  # "3. Ja": a question number and a word, not a date
            return True
    return False


def _label_numbers(w: Words, question: Question, low: int, high: int, used: set[int]) -> list[Number]:
    words = list(w.words)
    out: list[Number] = []
    # The labels of points written into the question ("1 = svært misfornøyd, 2 = misfornøyd …") and the
    # end labels; the longest first, so "svært misfornøyd" is 1 and not also "misfornøyd".
    labels = [(fold(label).split(), value) for label, value in _point_labels(question, low, high)]
    if high - low == 4:
        # On five points from "Svært misfornøyd" to "Svært fornøyd": "fornøyd" alone is the fourth,
        # "misfornøyd" the second (on seven or eleven points a bare "lett" is no one point)
        bare = [(words_[1:], value) for words_, value in labels[:2]
                if len(words_) == 2 and words_[0] in _INTENSIFIERS and value in (low, high)]
        labels += [(words_, value - 1 if value == high else value + 1) for words_, value in bare]
        ends = {tuple(words_): value for words_, value in bare}
    else:
        ends = {}
    dont_know = {i for s, e in lx.find_phrases(words, lx.DONT_KNOW) for i in range(s, e)}
    labels.sort(key=lambda lv: -len(lv[0]))
    for label_words, value in labels:
        target = [x for x in label_words if x not in FUNCTION_WORDS]
        if not target:
            continue
        for start in range(len(words) - len(target) + 1):
            if all(same_word(words[start + k], target[k]) >= 0.85 for k in range(len(target))) and (
                    start not in used and not any(n.start < start + len(target) and start < n.end for n in out)):
                if any(x in _NOT for x in words[max(0, start - 2):start]) or start in dont_know or (
                        len(target) == 1 and start and words[start - 1] in _MIDDLING):
                    # "middels fornøyd" is the middle; "vanskelig å si" says nothing of how difficult
                    # "fornøyd, men ikke svært fornøyd": not the top; the span is taken, it names nothing
                    out.append(Number(value, start, start + len(target), 0.0))
                    continue
                if tuple(label_words) in ends and start and words[start - 1] in _INTENSIFIERS:
                    value = ends[tuple(label_words)]  # "very important", said in other words than the label's
                out.append(Number(value, start, start + len(target), 0.85 if len(target) > 1 else 0.6))
    out = [n for n in out if n.strength > 0.0]
    for group, value in ((lx.SCALE_TOP, high), (lx.SCALE_BOTTOM, low)):
        for start, end in lx.find_phrases(words, group):
            out.append(Number(value, start, end, 0.6))
    if (high - low) % 2 == 0:
        for start, end in lx.find_phrases(words, lx.SCALE_MIDDLE):
            out.append(Number((low + high) // 2, start, end, 0.7))
    return out


_MIDDLING = frozenset(fold(w) for w in ("middels", "medium", "moderately", "nokså", "noenlunde", "nokolunde",
                                         "halvveis", "passe"))
_INTENSIFIERS = frozenset(fold(w) for w in (
    "svært", "særs", "veldig", "helt", "heilt", "meget", "very", "extremely", "completely", "totally", "really"))
_POINT = re.compile(r"(?<![\d.,])(\d{1,2})\s*(?:=|:)\s*([^\W\d][^,;()=\d]*?)\s*(?=[,;)]|\s\d{1,2}\s*[=:]|$)")


def _point_labels(question: Question, low: int, high: int) -> list[tuple[str, int]]:
    """The end labels, and the label of each point the question's text gives ("(1 = svært dårlig, …)")."""
    out = [(label, value) for label, value in ((question.max_label, high), (question.min_label, low)) if label]
    for match in _POINT.finditer(question.text):
        value = int(match.group(1))
        if low <= value <= high:
            out.append((match.group(2), value))
    return out
