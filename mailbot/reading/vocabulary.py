"""Words residents use for answers, in Bokmål, Nynorsk and English.

Kept apart from the parsing rules so staff-facing wording changes touch one file.
Every entry is folded (see `fold`): lower case, æ→ae, ø→o, å→a, accents dropped.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_NOT_WORD = re.compile(r"[^\w\s]")
_APOSTROPHE = re.compile(r"(?<=\w)['’](?=\w)")  # "don't" is one word, "dont", as residents also type it


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower case without diacritics, so "Møbler", "MOBLER" and "mobler" compare equal."""
    # Called for every word and option the parser compares, mostly on the same few
    # strings (option texts, "ja", "a"): cached, and ASCII skips Unicode normalisation.
    if "'" in text or "’" in text:
        text = _APOSTROPHE.sub("", text)
    if text.isascii():
        return " ".join(_NOT_WORD.sub(" ", text.lower()).split())
    text = unicodedata.normalize("NFC", text).casefold().translate(_FOLD)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", text).split())


# The letters whose lower case `str.lower` and `re.IGNORECASE` disagree on (İ becomes two
# characters in `str.lower`; ı, ſ and the Kelvin sign match i, s, k under re.I).
_AS_RE_IGNORECASE = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
_DISAGREEING = "\u0130\u0131\u017f\u212a"


def lowered(text: str) -> str:
    """`text` in lower case as `re.IGNORECASE` compares letters, character for character.

    A case-sensitive, all-lower-case pattern searched in `lowered(text)` matches where the
    same pattern with re.I matches in `text`, at the same positions, and several times
    faster: re.I folds every character against every branch of a long alternation.
    """
    if not text.isascii() and any(c in text for c in _DISAGREEING):
        text = text.translate(_AS_RE_IGNORECASE)  # slow per character, so only when needed
    return text.lower()


YES = frozenset(
    fold(w)
    for w in (
        "ja",
        "jo",
        "jepp",
        "japp",
        "jada",
        "ja da",
        "javisst",
        "ja visst",
        "absolutt",
        "ja absolutt",
        "ja takk",
        "ja gjerne",
        "definitivt",
        "ja definitivt",
        "yes",
        "yep",
        "yeah",
        "yes please",
        "absolutely",
        "sure",
        "ja klart",
        "klart",
        "selvfølgelig",
        "ja selvfølgelig",
    )
)
NO = frozenset(
    fold(w)
    for w in (
        "nei",
        "nei takk",
        "nope",
        "no",
        "no thanks",
        "no thank you",
        "niks",
        "nei nei",
        "absolutt ikke",
        "nei absolutt ikke",
        "definitivt ikke",
        "not at all",
        "nei da",
        "neida",
    )
)
DONT_KNOW = frozenset(
    fold(w)
    for w in (
        "vet ikke",
        "veit ikke",
        "vet ikkje",
        "veit ikkje",
        "vet ikke helt",
        "veit ikkje heilt",
        "usikker",
        "ikke sikker",
        "ikkje sikker",
        "er usikker",
        "eg veit ikkje",
        "jeg vet ikke",
        "aner ikke",
        "dont know",
        "don't know",
        "do not know",
        "i don't know",
        "i dont know",
        "not sure",
        "unsure",
        "no idea",
        "ingen formening",
        "ingen mening",
        "har ingen mening",
        "vet ei",
    )
)

# Answers that mean "no answer to this one": left out, not flagged.
SKIP = frozenset(
    fold(w)
    for w in (
        "",
        "pass",
        "skip",
        "hopper over",
        "hopp over",
        "ingen kommentar",
        "no comment",
        "n a",
        "na",
        "ikke relevant",
        "ikkje relevant",
        "not applicable",
        "ubesvart",
        "x",
    )
)
SKIP_MARKS = frozenset({"-", "–", "—", "--", "/", ".", "?", "...", "…", "_"})

ALL = frozenset(
    fold(w)
    for w in (
        "alle",
        "alle sammen",
        "allesammen",
        "alt",
        "alle fem",
        "alle alternativene",
        "alle alternativ",
        "samtlige",
        "all",
        "all of them",
        "all of the above",
        "everything",
        "alt sammen",
        "altsammen",
        "heile",
        "alle saman",
    )
)

# Everyday option words across languages, for surveys written in Bokmål and answered in Nynorsk,
# English or other words: one thing per line of equivalents.txt (a data file, so adding a word for a new
# survey's options is not a code change).
def _equivalents() -> tuple[frozenset[str], ...]:
    lines = Path(__file__).with_name("equivalents.txt").read_text(encoding="utf-8").splitlines()
    return tuple(frozenset(fold(w.strip()) for w in line.split("|") if w.strip())
                 for line in lines if line.strip() and not line.lstrip().startswith("#"))


EQUIVALENTS: tuple[frozenset[str], ...] = _equivalents()

NUMBER_WORDS = {
    fold(w): n
    for w, n in (
        ("null", 0),
        ("zero", 0),
        ("en", 1),
        ("ett", 1),
        ("ein", 1),
        ("eitt", 1),
        ("one", 1),
        ("to", 2),
        ("two", 2),
        ("tre", 3),
        ("three", 3),
        ("fire", 4),
        ("four", 4),
        ("fem", 5),
        ("five", 5),
        ("seks", 6),
        ("six", 6),
        ("sju", 7),
        ("syv", 7),
        ("seven", 7),
        ("åtte", 8),
        ("eight", 8),
        ("ni", 9),
        ("nine", 9),
        ("ti", 10),
        ("ten", 10),
    )
}
# "Jeg gir en toer": grades as nouns, unambiguous inside a sentence.
GRADE_WORDS = {
    fold(w): n
    for w, n in (
        ("ener", 1),
        ("toer", 2),
        ("toar", 2),
        ("treer", 3),
        ("trear", 3),
        ("firer", 4),
        ("firar", 4),
        ("femmer", 5),
        ("femmar", 5),
        ("sekser", 6),
        ("seksar", 6),
        ("sjuer", 7),
        ("syver", 7),
        ("åtter", 8),
        ("nier", 9),
        ("tier", 10),
        # Nynorsk and dialect forms
        ("einar", 1),
        ("sjuar", 7),
        ("syvar", 7),
        ("åttar", 8),
        ("niar", 9),
        ("tiar", 10),
        ("nuller", 0),
        ("nullar", 0),
    )
}

# Words that introduce a change of mind: the answer after them replaces the earlier one.
CORRECTION = re.compile(
    r"\b(forresten|nei\s+vent|vent\s+litt|rettelse|retting|korreksjon|endrer|endre\s+svaret|ombestemt|skal\s+være"
    r"|skulle\s+vore|skulle\s+være|skal\s+vere|skulle\s+det\s+(?:stått|stått|ha\s+stått|vært|vore)|mente|meinte|correction|actually|i\s+meant|changed\s+my\s+mind|change\s+(that|my\s+answer))\b",
    re.I,
)
