"""One piece of a reply read as the answer to one question, with a confidence and the evidence.

`read_value(text, question, anchored)` returns a `Value`: an answer and how sure the reading is
(1.0: a letter, an option's text, a digit; lower for a typo, a hedge, a word inside a sentence),
an explicit skip ("-", "pass"), or a problem a resident or staff member can read ("«3 eller 4»:
two values"). `anchored` says the text is known to answer this question (typed after its number,
under it, after a copy of it); otherwise the text is a sentence that may or may not be about it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from mailbot.campaigns import AnswerValue, Question, QuestionType
from mailbot.reading import lexicon as lx
from mailbot.reading.evidence import FUNCTION_WORDS, Mention, mentions, numbers, options_of, restated, words_of
from mailbot.reading.vocabulary import SKIP, SKIP_MARKS, fold

MAX_VALUE_CHARS = 500
HEDGED = 0.85  # a hedge ("tror jeg", "kanskje") costs this much confidence


@dataclass(frozen=True)
class Value:
    """A reading of one value: an answer with a confidence, a skip, or a problem (or nothing)."""

    answer: AnswerValue | None = None
    confidence: float = 0.0
    skipped: bool = False
    problem: str | None = None
    evidence: str = ""
    unclear: bool = False  # the problem is an answer read but unclear ("3 eller 4"), not words not understood

    @property
    def ok(self) -> bool:
        return self.answer is not None

    def at_most(self, confidence: float) -> Value:
        """The same reading, no surer than `confidence` (a reading to confirm with the resident)."""
        if not self.ok:
            return self
        return Value(self.answer, min(self.confidence, confidence), evidence=self.evidence)


def _unclear(problem: str) -> Value:
    return Value(problem=problem, unclear=True)


SKIPPED = Value(skipped=True)
NOTHING = Value()


def read_value(text: str, question: Question, anchored: bool = True) -> Value:
    """Read `text` as an answer to `question` (see the module docstring)."""
    text = text[:MAX_VALUE_CHARS]
    plain = clean(text)
    if plain in SKIP_MARKS or fold(plain) in SKIP or (anchored and not plain):
        return SKIPPED
    if question.type is QuestionType.CHOICE:
        return read_choice(plain, question, anchored)
    if question.type is QuestionType.MULTI:
        return read_multi(plain, question, anchored)
    if question.type is QuestionType.SCALE:
        return read_scale(plain, question, anchored)
    return read_text(text) if anchored else NOTHING


def clean(text: str) -> str:
    """Emoji and symbols out, spaces collapsed, surrounding punctuation and quotes trimmed (not for free text)."""
    text = unicodedata.normalize("NFC", text[:MAX_VALUE_CHARS])
    text = text.translate(_DECORATIONS)
    text = " ".join(text.split())
    return text.strip(" \t,;:*_\"'“”«»").strip()


class _Decorations(dict[int, int | None]):
    """str.translate's table for clean(): each character looked up once, then kept."""

    def __missing__(self, code: int) -> int | None:
        kept = None if _is_decoration(chr(code)) else code
        if len(self) < 50_000:
            self[code] = kept
        return kept


_DECORATIONS = _Decorations()


def _is_decoration(c: str) -> bool:
    if c in "\ufe0f\ufe0e\u200d\u20e3":
        return True
    return unicodedata.category(c) in ("So", "Sk", "Cs", "Co", "Cn") and c not in "°"


def _hedge(text: str) -> float:
    return HEDGED if lx.has_phrase(list(words_of(text).words), lx.HEDGES) else 1.0


def _corrected(text: str, before: int, after: int) -> bool:
    """A correction word between two word positions: "A, nei forresten B"."""
    words = list(words_of(text).words)
    return any(before <= s < after for s, _ in lx.find_phrases(words, lx.CORRECTIONS))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "…"


# --- choice and multi ------------------------------------------------------------------------------


def _chosen(found: list[Mention]) -> tuple[list[Mention], list[Mention]]:
    """(named, rejected) mentions, dropping weak ones a stronger mention of another option explains."""
    named = [m for m in found if not m.negated and m.strength >= 0.5]
    rejected = [m for m in found if m.negated]
    strong = {m.option.key for m in named if m.strength >= 0.75}
    if strong:
        # "Ja" beside "alltid" names "Ja, alltid", not also "Ja, av og til".
        named = [m for m in named if m.strength > 0.5 or m.option.key in strong]
    return named, rejected


_OTHER = frozenset(("annet", "anna", "other", "noe annet", "noko anna", "something else"))
_SPECIFIED = re.compile(r"^\s*([^\W\d_]+(?:\s+[^\W\d_]+)?)\s*(?:[–—:(]|\s-\s|,)\s*\S")


def _other_specified(text: str, question: Question) -> str | None:
    """"Annet – las sakspapira til kommunestyremøtet": the "other" option and what it was; the words after
    it say what the other thing is, they do not name an option."""
    match = _SPECIFIED.match(text)
    if not match or fold(match.group(1)) not in _OTHER:
        return None
    return next((o for o in question.options if fold(o) in _OTHER), None)


def read_choice(text: str, question: Question, anchored: bool) -> Value:
    specified = _other_specified(text, question)
    if specified is not None:
        return Value(specified, 0.9 * _hedge(text), evidence=f"«{_short(text)}»: {specified}")
    found = mentions(text, question)
    named, rejected = _chosen(found)
    if len({m.option.key for m in named}) > 1:
        # "C, selv om jeg av og til leverer ved butikken også": what is conceded is not the answer
        kept = [m for m in named if not _conceded(text, m)]
        named = kept or named
    keys = list(dict.fromkeys(m.option.key for m in named))
    if not keys and not rejected and (said := _said(text, question)) is not None:
        return said
    if named and all(m.option.polarity == "dk" for m in named) and _dont_know_whether(text) \
            and _said_subject(text, question):
        # "Vi hadde vatn i kjellaren, men eg veit ikkje om det var regnet": yes, with a doubt about why
        return _unclear(f"uklart svar: «{_short(text)}»")
    if not keys:
        none = lx.find_phrases(list(words_of(text).words), lx.NONE)
        negating = [o for o in options_of(question) if any((x,) in lx.NEGATORS for x in o.phrases[0])]
        if none and none[0][0] == 0 and len(negating) == 1:
            # "ingen av dei, det hamnar i restavfallet": none of the places, so the option that says not
            return Value(negating[0].text, 0.7, evidence=f"«{_short(text)}»: none, so {negating[0].text}")
        if anchored and rejected and len(question.options) == 2:
            other = [o for o in question.options if o != rejected[0].option.text]
            return Value(other[0], 0.6, evidence=f"«{_short(text)}»: not {rejected[0].option.text}")
        if anchored:
            return Value(problem=f"forstod ikke «{_short(text)}» som et av valgene")
        return NOTHING
    if len(keys) > 1 and (main := _main_one(text, named)) is not None:
        return Value(main.option.text, 0.75, evidence=f"«{_short(text)}»: mostly {main.option.text}")
    if len(keys) > 1:
        last = [m for m in named if m.option.key == keys[-1]]
        first = [m for m in named if m.option.key == keys[0]]
        if len(keys) == 2 and _corrected(text, first[0].end, last[0].start):
            return Value(last[0].option.text, 0.85, evidence=f"«{_short(text)}»: changed to {last[0].option.text}")
        if all(m.strength <= 0.5 for m in named):
            shown = " / ".join(dict.fromkeys(m.option.text for m in named))
            return _unclear(f"«{_short(text)}» passer på flere valg ({shown})")
        shown = ", ".join(dict.fromkeys(m.option.text for m in named))
        return _unclear(f"flere valg ({shown}) på et spørsmål med ett svar: «{_short(text)}»")
    best = max(m.strength for m in named)
    if best <= 0.5:
        shown = " / ".join(o.text for o in {m.option.key: m.option for m in found}.values())
        return _unclear(f"«{_short(text)}» passer på flere valg ({shown})")
    if any(m.option.key == keys[0] for m in rejected):
        return _unclear(f"uklart svar: «{_short(text)}»")
    option = named[0].option.text
    covered = {i for m in found for i in range(m.start, m.end)}
    if anchored and any(x.isdigit() and i not in covered for i, x in enumerate(words_of(text).words)):
        best = min(best, 0.6)  # "A, 2-8, 3-4": numbers beside the choice may be answers that lost their place
    return Value(option, best * _hedge(text), evidence=f"«{_short(text)}»: {option}")


def _dont_know_whether(text: str) -> bool:
    """ "vet ikke om …", "don't know whether …": a doubt about something, not the answer "Vet ikke"."""
    words = list(words_of(text).words)
    return any(e < len(words) and words[e] in ("om", "if", "whether", "hvorfor", "kvifor", "why")
               for _, e in lx.find_phrases(words, lx.DONT_KNOW))


def _said_subject(text: str, question: Question) -> bool:
    """The text says the question's subject outright, in a clause without the doubt."""
    w = words_of(text)
    clauses = sorted(set(w.clause))
    return any(restated(" ".join(x for x, c in zip(w.words, w.clause, strict=True) if c == k), question)
               for k in clauses)


RESTATED = 0.6  # "Vi har ikke bil" to "Har du bil?": a reading to confirm with the resident


def _said(text: str, question: Question) -> Value | None:
    """A yes/no question answered by saying its subject, with or without a "not"."""
    options = options_of(question)
    polarity = restated(text, question) if any(o.polarity == "no" for o in options) else None
    targets = [o for o in options if o.polarity == polarity]
    if polarity is None or len(targets) != 1:
        return None
    return Value(targets[0].text, RESTATED * _hedge(text),
                 evidence=f"«{_short(text)}»: says {'not ' if polarity == 'no' else ''}what the question asks")


def read_multi(text: str, question: Question, anchored: bool) -> Value:
    words = list(words_of(text).words)
    found = mentions(text, question)
    named, rejected = _chosen(found)
    # "Alle sammen" is the answer; "alt er bare på norsk" is a sentence about something else
    everything = [(s, e) for s, e in lx.find_phrases(words, lx.ALL)
                  if not (e < len(words) and words[e] in _VERB_AFTER_ALL) and not _all_in_all(words, s, e)]
    clauses = words_of(text).clause
    by_key = any(m.via == "key" for m in found)
    if everything and clauses[everything[0][0]] == clauses[0] and not by_key and not any(
            w in ("ikke", "ikkje", "not") for w in words[max(0, everything[0][0] - 1):everything[0][0]]):
        # "Alle sammen", "alt unntatt bøker"; not "A og C (hun går på alle foredragene)". Every thing the
        # list names: not "Annet", "Vet ikke" or "Ingen av delene"
        left_out = {m.option.key for m in rejected}
        kept = {o.key for o in options_of(question) if not _not_a_thing(o.text)} - left_out
        chosen = tuple(o.text for o in options_of(question) if o.key in kept)
        if chosen:
            sure = 0.95 if not left_out and len(words) <= 4 else 0.85
            return Value(chosen, sure * _hedge(text), evidence=f"«{_short(text)}»: all" + (
                f" but {', '.join(m.option.text for m in rejected)}" if left_out else ""))
    if _none_then_reason(words, clauses, named):
        return SKIPPED  # "ingen av dem, jeg leser på Kindle": none, and why; Kindle reading is no option
    if not named:
        if lx.has_phrase(words, lx.NONE) and len(words) <= 6:
            return SKIPPED
        if anchored:
            return Value(problem=f"forstod ikke «{_short(text)}» som valg")
        return NOTHING
    both = {m.option.key for m in named} & {m.option.key for m in rejected}
    if both:
        return _unclear(f"uklart svar: «{_short(text)}»")
    if len({m.option.key for m in named}) > 1 and lx.has_phrase(words, lx.UNDECIDED) and any(
            x in ("eller", "or", "enten", "either") for x in words):
        return _unclear(f"ikke bestemt: «{_short(text)}»")  # "B or D, can't decide": she has not chosen
    keys = {m.option.key for m in named}
    chosen = tuple(o.text for o in sorted({m.option.key: m.option for m in named}.values(), key=lambda o: o.key)
                   if o.key in keys)
    sure = min(m.strength for m in named)
    if anchored and _unexplained(text, found, question):
        sure = min(sure, 0.6)  # "møbler og leker": leker is no option; read back what was understood
    hedged = [m for m in named if _hedged_at(words, m.start)]
    if hedged and len(hedged) < len(named):
        # "møbler, klær, kanskje bøker også": read back. "A og kanskje C, hvis det er noe for barn",
        # "kanskje leksehjelp?": in only if something holds, or asked: ask the resident, propose nothing.
        later = words[min(m.start for m in hedged):]
        if "?" in text or any(x in ("hvis", "om", "dersom", "viss", "if", "unless") for x in later):
            return _unclear(f"usikkert valg: «{_short(text)}»")
        sure = min(sure, 0.6)
    return Value(chosen, sure * _hedge(text), evidence=f"«{_short(text)}»: {', '.join(chosen)}")


def _all_in_all(words: list[str], start: int, end: int) -> bool:
    """ "Fornøyd alt i alt", "all in all": overall, not every option."""
    return words[end:end + 2] in (["i", "alt"], ["in", "all"]) or words[max(0, start - 2):start] in (
        ["alt", "i"], ["all", "in"])


def _not_a_thing(option: str) -> bool:
    """An option that stands for no thing of the list: "Annet", "Vet ikke", "Ingen av disse"."""
    words = list(words_of(option).words)
    return (fold(option) in _OTHER or lx.has_phrase(words, lx.DONT_KNOW) and len(words) <= 3
            or bool(lx.find_phrases(words, lx.NONE)) and len(words) <= 4)


_VERB_AFTER_ALL = frozenset(("er", "var", "blir", "vart", "ble", "is", "was", "are", "har", "has", "kan", "skal",
                             "ma", "gar", "fungerer", "works"))  # folded: "må", "går"


_CONCESSIONS = (("selv", "om"), ("sjolv", "om"), ("although",), ("even", "though"), ("though",), ("even", "if"))


_MOSTLY = frozenset(("mostly", "mainly", "mest", "oftest", "hovedsakelig", "hovudsakleg", "helst", "usually",
                     "vanligvis", "vanlegvis"))
_MUST_CHOOSE = re.compile(r"\b(?:må|ma|must|have to|had to)\s+(?:velge|velje|choose|pick)\s*:", re.I)


def _main_one(text: str, named: list[Mention]) -> Mention | None:
    """One of several options said to be the main one: "Sykkel in summer, bus in winter, but mostly bike",
    "Om jeg må velge: bil. Men jeg går mye også." A reading to confirm."""
    w = words_of(text)
    words = list(w.words)
    marked = [m for m in named if any(x in _MOSTLY or x == "stort" and words[m.start - 1:m.start] == ["sett"]
                                      for x in words[max(0, m.start - 2):m.start])]
    if len({m.option.key for m in marked}) == 1:
        return marked[0]
    chosen = _MUST_CHOOSE.search(text)
    after = [m for m in named if chosen and w.spans[m.start][0] >= chosen.end()]
    if after:
        first = min(after, key=lambda m: m.start)
        # the others stand in other clauses ("… bil. Men jeg går mye også.")
        if all(w.clause[m.start] != w.clause[first.start] for m in named if m.option.key != first.option.key):
            return first
    return None


def _conceded(text: str, m: Mention) -> bool:
    """The mention stands in a clause that opens with "selv om" / "although"."""
    w = words_of(text)
    clause = w.clause[m.start]
    first = next(i for i, c in enumerate(w.clause) if c == clause)
    return any(tuple(w.words[first:first + len(c)]) == c for c in _CONCESSIONS)


def _none_then_reason(words: list[str], clauses: tuple[int, ...], named: list[Mention]) -> bool:
    """The answer opens with "none of them" in a clause of its own, and names options only after it, with no
    "but"/"except" that would bring one back."""
    opening = [(s, e) for s, e in lx.find_phrases(words, lx.NONE) if s == 0]
    if not opening or any(x in ("men", "but", "unntatt", "untatt", "except", "bortsett", "utenom", "utanom")
                          for x in words):
        return False
    first = clauses[0]
    return not any(clauses[m.start] == first for m in named)


def _unexplained(text: str, found: list[Mention], question: Question) -> bool:
    """A short answer with a word that names no option and is no filler ("møbler og leker")."""
    w = words_of(text)
    if len(w.words) > 8:
        return False
    covered = {i for m in found for i in range(m.start, m.end)}
    if any(x.isdigit() and i not in covered for i, x in enumerate(w.words)):
        return True  # "A, 2-8, 3-4": numbers inside a choice are answers to other questions, not lost
    shared = {c for m in found for c in m.option.content}  # "låne" of "Låne bøker og lydbøker": the option's own
    anyone = {c for o in options_of(question) for c in o.content} - shared  # "pc" when two options say PC
    return any(i not in covered and x not in shared and (len(x) >= 3 or x in anyone) and x not in FUNCTION_WORDS
               and x not in lx.JOINERS and not lx.has_phrase([x], lx.HEDGES) for i, x in enumerate(w.words))


_PREFERENCE = frozenset(("helst", "heller", "rather", "preferably"))  # "vil helst ringe": a choice, not a doubt


def _hedged_at(words: list[str], start: int) -> bool:
    before = [x for x in words[max(0, start - 3) : start] if x not in _PREFERENCE]
    return bool(lx.find_phrases(before, lx.HEDGES))


# --- scale -----------------------------------------------------------------------------------------

# Two values offered as one ("3 eller 4", "3-4", "mellom 3 og 4"); not "1 - det er 4 km og …".
_RANGE = re.compile(r"\b\d{1,2}\s*(?:[-–]|\b(?:eller|or|til|to|and|og)\b)\s*(?:(?:kanskje|maybe|evt)\s+)?\d{1,2}\b"
                    r"|\b(?:mellom|between)\s+\d", re.I)


def read_scale(text: str, question: Question, anchored: bool) -> Value:
    low = question.min if question.min is not None else 1
    high = question.max if question.max is not None else 5
    found = numbers(text, question)
    misfit = [n for n in found if n.strength == 0.0]
    usable = [n for n in found if n.strength > 0.0]
    if misfit and not usable:
        return _unclear(f"«{_short(text)}» passer ikke skalaen {low}–{high}")
    if not usable:
        words = list(words_of(text).words)
        if anchored and any(s == 0 for s, _ in lx.find_phrases(words, lx.DONT_KNOW)):
            return SKIPPED  # "vet ikke, har aldri sett noe": no grade given, and why
        return Value(problem=f"forstod ikke «{_short(text)}» som et tall fra {low} til {high}") if anchored else NOTHING
    values = list(dict.fromkeys(n.value for n in usable))
    if len(values) > 1:
        first, last = usable[0], usable[-1]
        if _corrected(text, first.end, last.start):
            chosen = last
        else:
            strong = [n for n in usable if n.strength >= 0.85]
            if len({n.value for n in strong}) == 1 and all(n.strength <= 0.6 for n in usable if n not in strong):
                chosen = strong[0]
            else:
                return _unclear(f"uklart tall: «{_short(text)}»")
    else:
        chosen = usable[0]
        between = words_of(text).text
        if len(usable) == 1 and _RANGE.search(between[: 80]):
            return _unclear(f"uklart tall: «{_short(text)}»")
    if not low <= chosen.value <= high:
        return _unclear(f"{chosen.value} er utenfor skalaen {low}–{high}")
    strength = chosen.strength
    if (low, high) != (1, 6) and _DICE.search(text):
        if high > 6:  # a 1–6 grade on a 0–10 scale: 4, or about 7?
            return _unclear(f"terningkast på skalaen {low}–{high}: «{_short(text)}»")
        strength = min(strength, 0.6)  # "terningkast fem" on 1–5: likely 5, but ask
    return Value(chosen.value, strength * _hedge(text), evidence=f"«{_short(text)}»: {chosen.value}")


_DICE = re.compile(r"\bterning(?:kast)?\w*|\bdice\b", re.I)


# --- text ------------------------------------------------------------------------------------------


def read_text(text: str) -> Value:
    """The resident's own words as written, emoji and all; "vet ikke" and "-" are no answer."""
    words = "\n".join(" ".join(line.split()) for line in text.strip().splitlines())  # the resident's line breaks kept
    words = _LEAD_LABEL.sub("", words, count=1)
    if "\n" not in words.strip():
        words = _BULLET_MARK.sub("", words, count=1)  # "* send fleire bussar …": a lone list mark is no word of it
    plain = clean(" ".join(words.split()))
    if plain in SKIP_MARKS or fold(plain) in SKIP or fold(plain) in _NO_COMMENT or (
        lx.has_phrase(list(words_of(plain).words), lx.DONT_KNOW) and len(plain.split()) <= 4
    ):
        return SKIPPED
    return Value(words.strip(), 0.95, evidence="own words")


# A bare no to "Har du andre innspel?" is nothing to add, not a comment to store ("Ingenting spesielt"
# is kept: the labelled sets record it as written).
_NO_COMMENT = frozenset(fold(w) for w in (
    "nei", "nei takk", "nei, takk", "nei ellers takk", "nei, ellers takk", "nei det er greit", "no", "no thanks",
    "no, thanks", "no thank you", "nope", "nix"))


_BULLET_MARK = re.compile(r"^\s*[*•·▪◦‣-]\s+(?=\S)")
# "Svar: …", "Forslag: …": a label the resident put in front of the answer, not part of it.
_LEAD_LABEL = re.compile(
    r"^\s*(?:mitt\s+|mine\s+|my\s+)?(?:svar|svaret|answer|forslag|forslaget|kommentar|innspel|innspill|ideer|idear|"
    r"ideas?|idé|ide|comments?|suggestions?|ønske|ønsker|wish|wishes|ellers|elles|otherwise|ps|p\.s)\s*:\s*(?=\S)",
    re.I,
)
