"""Words as the reader compares them: folded, lemmatised in Bokmål, Nynorsk and English, near typos.

A resident writes "møblar", "bøkene", "Mobler" or "furniture" for the option "Møbler". Each
word is reduced to a small set of *forms* (its folded spelling, its lemma in nb, nn and en from
simplemma, and a light stem), and two words match when their forms meet; a typo is a near miss
of a form (rapidfuzz). Everything is cached: the same few words recur in every reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import simplemma
from rapidfuzz.distance import Levenshtein

from mailbot.reading.vocabulary import EQUIVALENTS, fold

LANGUAGES = ("nb", "nn", "en")
# Endings peeled off for the stem; longest first. Norwegian plural/definite forms mostly.
_ENDINGS = ("ene", "ane", "ere", "ar", "er", "en", "et", "a", "e", "s")
_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*|\d+", re.UNICODE)


@dataclass(frozen=True)
class Token:
    """One word or number of a text, with where it stands."""

    text: str  # as typed
    folded: str
    start: int
    end: int

    @property
    def is_number(self) -> bool:
        return self.folded.isdigit()


def tokens(text: str) -> list[Token]:
    """The words and numbers of `text`, in order, with their positions."""
    out = []
    for match in _TOKEN.finditer(text):
        word = match.group(0)
        out.append(Token(word, fold(word), match.start(), match.end()))
    return out


@lru_cache(maxsize=16384)
def forms(folded: str) -> frozenset[str]:
    """The spellings a folded word may stand for: itself, its lemmas, its stem, its synonyms' forms."""
    found = {folded, _stem(folded)}
    if len(folded) > 2 and not folded.isdigit():
        spellings = _spellings(folded)
        for lang in LANGUAGES:
            known = [w for w in spellings if _known(w, lang)]
            for word in known or [folded]:
                lemma = fold(_lemma(word, lang))
                if lemma:
                    found.add(lemma)
                    found.add(_stem(lemma))
    return frozenset(f for f in found if f)


_UNFOLD = (("ae", "æ"), ("o", "ø"), ("a", "å"))


def _spellings(folded: str) -> list[str]:
    """The words a folded word may have been before folding ("sokte" was "søkte"): the lemma lists know
    words with æøå, so a folded word is looked up as each spelling it may come from (up to four letters)."""
    out = [folded]
    spots = [(i, plain, letter) for i in range(len(folded)) for plain, letter in _UNFOLD
             if folded.startswith(plain, i)][:4]
    for mask in range(1, 1 << len(spots)):
        chosen = [spots[k] for k in range(len(spots)) if mask >> k & 1]
        if any(a[0] + len(a[1]) > b[0] for a, b in zip(chosen, chosen[1:], strict=False)):
            continue  # overlapping ("ae" and its "a")
        word, shift = folded, 0
        for i, plain, letter in chosen:
            word = word[: i + shift] + letter + word[i + shift + len(plain):]
            shift += len(letter) - len(plain)
        out.append(word)
    return out


@lru_cache(maxsize=65536)
def _known(word: str, lang: str) -> bool:
    try:
        return bool(simplemma.is_known(word, lang=lang))
    except (ValueError, KeyError):
        return False


@lru_cache(maxsize=16384)
def _lemma(word: str, lang: str) -> str:
    try:
        return str(simplemma.lemmatize(word, lang=lang))
    except (ValueError, KeyError):
        return word


def _stem(word: str) -> str:
    if len(word) < 5:
        return word
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


@lru_cache(maxsize=16384)
def same_word(typed: str, target: str) -> float:
    """How surely folded word `typed` is folded word `target`: 1 same form, 0.85 a typo or compound, 0 not."""
    if typed == target:
        return 1.0
    if len(typed) == 1 or len(target) == 1 or typed.isdigit() or target.isdigit():
        return 0.0
    typed_forms, target_forms = forms(typed), forms(target)
    if not typed_forms.isdisjoint(target_forms):
        return 1.0
    if _synonyms(typed) & _synonyms(target):
        return 0.95
    # Typos and compounds are looked for among forms spelled like the word itself: "flere" has the lemma
    # "mange", which is one letter from "mangle" ("mangler"), but no typo of "flere" is.
    typed_forms = frozenset(f for f in typed_forms if f[:2] == typed[:2])
    target_forms = frozenset(f for f in target_forms if f[:2] == target[:2])
    if len(target) >= 5 and len(typed) >= 5:
        limit = 1 if len(target) < 8 else 2
        if any(Levenshtein.distance(a, b, score_cutoff=limit) <= limit for a in typed_forms for b in target_forms
               if abs(len(a) - len(b)) <= limit and a[0] == b[0] and min(len(a), len(b)) >= 5):
            return 0.85
    # A compound ending in the option's word: "barneklær" is clothes, "sportsutstyret" sports gear.
    if len(target) >= 4 and len(typed) >= len(target) + 3 and any(
        f.endswith(t) for f in typed_forms for t in target_forms if len(t) >= 4
    ):
        return 0.8
    # The first part of the option's compound, alone or in another compound: "kultur" and "kulturhuset"
    # for "Kulturtilbud". A weaker sign (read back): "kulturhuset" is a place, the option an offer.
    head = _common_head(typed, target)
    if head >= 6 and len(target) >= head + 3 and (len(typed) == head or len(typed) >= head + 3):
        return 0.75
    return 0.0


def _common_head(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _synonym_groups() -> dict[str, frozenset[int]]:
    groups: dict[str, set[int]] = {}
    for index, group in enumerate(EQUIVALENTS):
        for word in group:
            if " " not in word:
                groups.setdefault(word, set()).add(index)
    return {w: frozenset(g) for w, g in groups.items()}


_SYNONYMS = _synonym_groups()


@lru_cache(maxsize=8192)
def _synonyms(folded: str) -> frozenset[int]:
    found: set[int] = set()
    for form in forms(folded):
        found |= _SYNONYMS.get(form, frozenset())
    return frozenset(found)
