"""Commands said in plain sentences: "Jeg ønsker ikke å være med i panelet lenger", "Kan dere sette
meg på pause til mars?", "Eg vil gjerne ha e-postane på nynorsk", "Please delete my data".

A sentence asks for a command when it names the act *and* its object: leaving needs the panel,
the list or the emails ("Stopp nedbyggingen av grøntområdene!" asks for nothing); a pause needs
"pause" or "don't send … before"; erasing needs data about the resident; a language needs the
emails or "språk". Each rule is a regular expression over the sentence's folded words (see
`vocabulary.fold`: lower case, no diacritics, punctuation as spaces), so "e-postane", "E-POSTANE"
and "epostane" read the same. Only typed text is read (never the quote), and lines shaped like a
numbered answer ("5 Stopp …") are answers, not commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailbot.reading.vocabulary import fold

MAX_SENTENCES = 30
MAX_SENTENCE_CHARS = 400


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts))


_ME = r"(?:meg|me|oss|us)"
_MAIL = (r"(?:e ?post\w*|epost\w*|mail\w*|emails?|e ?mails?|undersokels\w*|undersoking\w*|sporreunders\w*"
         r"|surveys?|panel\w*|lista?|listen|lister|utsendel\w*|meldinga?r?|messages?|newsletters?|invitasjon\w*"
         r"|invitations?|henvendels\w*|sporsmal)")
_NOT = r"(?:ikke|ikkje|ei|not|no|never|aldri|don t|do not|dont|won t)"
_WANT = r"(?:vil|onsker|onskjer|ynskjer|onske|ynskje|want|wish|would like|vil gjerne|skal|kan|could|please|ber om)"

UNSUBSCRIBE = _rx(
    rf"\b(?:meld|melde|melder|meldt)\s+{_ME}\s+(?:av|ut|of|ifra)\b",
    r"\b(?:meldast|meldes|bli\s+meldt|verte\s+meldt)\s+(?:ut|av)\b|\b(?:bli|verte)\s+utmeld",  # "vil eg meldast ut"
    rf"\b(?:ta|tar|fjern|fjerne|fjerner|stryk|stryke|slett|slette|take|remove|drop|strike)\s+{_ME}\s+"
    rf"(?:av|ut|bort|vekk|fra|fraa|fra|of|off|out|from)\b(?:\s+\w+){{0,4}}\s+{_MAIL}",
    rf"\b(?:take|remove|drop)\s+{_ME}\s+(?:off|from|out)\b",
    rf"\b(?:ta|fjern|fjerne|stryk)\s+{_ME}\s+(?:ut|av|bort|vekk)\b\s*$",
    r"\bunsubscrib\w*|\bopt\s+(?:me\s+)?out\b|\bavmeld\w*",
    rf"\b{_NOT}\b(?:\s+\w+){{0,4}}\s+(?:vaere|vere|be|delta|participate|sta|staa|vaere med|vere med)\b(?:\s+\w+){{0,5}}"
    rf"\s+(?:lenger|lengre|lenge|meir|mer|any ?more|any longer|no more)\b",
    rf"\b{_NOT}\b(?:\s+\w+){{0,3}}\s+(?:ha|faa|fa|motta|mota|get|receive|want|have)\s+(?:\w+\s+){{0,2}}"
    rf"(?:flere|fleire|mer|meir|more|any more|noen flere|nokon fleire|any)\s+(?:\w+\s+){{0,2}}{_MAIL}",
    r"\b(?:no longer|ikke lenger|ikkje lenger)\s+(?:\w+\s+){0,3}(?:receive|want|get|be|motta|ha|faa|vaere|vere)\b",
    r"\b(?:stop|stopp|slutt|slutte|quit)\s+(?:sending|sende|aa sende|to send|med aa sende|emailing|mailing)\b",
    r"\b(?:ga|gaa|melde|trekke|trekkje|trekker|leave|leaving|forlate|slutte)\s+(?:meg\s+)?(?:ut\s+)?(?:av\s+|fra\s+|i\s+|fraa\s+)?"
    r"(?:the\s+|dette\s+)?(?:panelet|panel|innbyggarpanelet|innbyggerpanelet|lista|listen)\b",
)
PAUSE = _rx(
    r"\bpaus\w*\b",
    rf"\b{_NOT}\s+(?:\w+\s+){{0,2}}(?:send|sende|email|mail|skriv)\s+(?:\w+\s+){{0,4}}"
    r"(?:for|foer|before|until|till|til|fram til|frem til)\b",
    r"\b(?:hold|holde)\s+(?:off|igjen)\b",
)
_PAUSE_OBJECT = re.compile(rf"\b(?:{_MAIL}|{_ME}|my)\b")
# "I paused the panel emails last autumn", "satte panelet på pause": a pause told of, not asked for.
_TOLD = re.compile(r"\b(?:paused|satte|sette\s+\w+\s+pa\s+pause\s+sist|hadde|had|was|var|last)\b")
RESUME = _rx(
    r"\b(?:start|starte|begynn|begynne|resume|restart)\s+(?:\w+\s+){0,2}(?:sende|sending|to send|aa sende)\b",
    r"\b(?:send|sende|sending)\s+(?:\w+\s+){0,4}(?:igjen|again|paa nytt)\b",
    r"\b(?:vaere|vere|be)\s+med\s+(?:\w+\s+){0,2}(?:igjen|again)\b",
    r"\bresume\b",
    r"\b(?:back|tilbake)\s+(?:\w+\s+){0,3}(?:panel|panelet|list|lista)\b",
    r"\b(?:kan dere|kan de|could you|can you|please)\s+(?:start|starte|begynne|restart)\s+(?:\w+\s+){0,2}"
    r"(?:igjen|again|paa nytt)\b",
)
ERASE = _rx(
    r"\b(?:slett|slette|sletter|slettes|slettast|slettet|sletta|delete|deleted|erase|erased|remove|fjern|fjerne|"
    r"fjernes|wipe)\b(?:\s+\w+){0,8}\s+(?:opplysning\w*|data|dataene|informasjon\w*|information|personopplysning\w*|"
    r"details|records?|svarene|svara|answers|alt om meg|everything about me)\b",
    r"\b(?:opplysning\w*|data|dataene|informasjon\w*|information|personopplysning\w*|details)\b(?:\s+\w+){0,8}\s+"
    r"(?:slettes|slettast|slettet|sletta|deleted|erased|removed|fjernet|fjerna)\b",
    r"\b(?:right to be forgotten|retten til aa bli glemt|rett til aa bli glemt|retten til aa verte gloymd)\b",
)
_ERASE_ABOUT_ME = re.compile(r"\b(?:meg|me|my|mine|min|mitt|om meg|about me)\b")
LANGUAGE = {
    "nn": re.compile(r"\b(?:paa|pa|i|in|on)\s+(?:norwegian\s+|norsk\s+)?nynorsk\b"
                     r"|\bnynorsk\s+(?:i staden|istedet|instead)\b"),
    # "in Norwegian (bokmål)", "på norsk": plain Norwegian is Bokmål, the panel's default written form.
    "nb": re.compile(r"\b(?:paa|pa|i|in|on)\s+(?:(?:norwegian|norsk)\s+)?(?:bokmal|bokmaal)\b"
                     r"|\b(?:paa|pa|in|on)\s+(?:norwegian|norsk)\b(?!\s+nynorsk)"),
    "en": re.compile(r"\b(?:in|on|paa|pa|i)\s+(?:english|engelsk)\b"),
}
_LANGUAGE_ASK = re.compile(
    rf"\b(?:{_MAIL}|sprak|spraak|maal|language|skriv|skrive|write|send|sende|faa|fa|motta|receive|get)\b"
)
_ASKING = re.compile(rf"\b(?:{_WANT}|kan dere|kan de|kunne|helst|prefer|ber|gjerne|takk)\b")
# A lookahead, so that "til meg fram til 1. juni" is also read from its second "til".
_UNTIL = re.compile(
    r"(?=\b(?:til|till|until|untill|to|foer|for|before|fram til|frem til|inntil|ut)\s+"
    r"(?P<until>(?:etter\s+|after\s+|den\s+|the\s+|1st\s+|midten av\s+|slutten av\s+|end of\s+)?"
    r"[\w.]+(?:\s+[\w.]+){0,2}))"
)
# "resten av året", "for the rest of the year": until the new year.
_YEAR_END = re.compile(r"\b(?:resten av (?:aaret|aret)|ut (?:aaret|aret)|(?:aaret|aret) ut|rest of the year"
                       r"|til nyttar|until the new year|til (?:over )?nyttaar|til (?:over )?nytt ?aar)\b")
_DATE_WORD = re.compile(
    r"\b(?:\d{1,2}|januar|january|jan|februar|february|feb|mars|march|april|apr|mai|may|juni|june|juli|july|august|aug|"
    r"september|sept?|oktober|october|okt|oct|november|nov|desember|december|des|dec|\d{4}|"
    r"(?:\d+|en|ein|ei|et|eit|to|tre|fire|fem|seks|one|two|three|four|five|six)\s+(?:uke|uker|veke|veker|weeks?|"
    r"maned|maneder|manader|months?|dag|dager|dagar|days?)|jul|christmas|paske|paaske|easter|sommer|sommaren|"
    r"sommeren|summer|hosten|hausten|autumn|nyttar|new year)\b"
)


@dataclass(frozen=True)
class Intent:
    name: str  # unsubscribe | pause | resume | language | erase
    value: str | None  # a language code, or the raw "until" words of a pause
    sentence: str  # the sentence as typed, so the answer reader can leave it out


# "Korleis stoppar eg påminningane utan å melde meg ut?": a question about a command is for staff to answer.
_HOW = re.compile(r"^(?:\w+\s+)?(?:hvordan|korleis|how|hva gjor jeg|kva gjer eg|what do i)\b")
_WITHOUT = re.compile(
    r"\b(?:uten|utan|without)\s+(?:aa\s+|a\s+)?(?:\w+\s+){0,1}(?:melde|meld|ga|gaa|unsubscrib\w*|leav\w*)\b")


def find_intent(text: str) -> Intent | None:
    """The command the typed `text` asks for in plain words, or None."""
    sentences = [s for s in _sentences(text) if not _HOW.search(fold(s))]
    folded = [fold(s) for s in sentences]
    for name in ("erase", "unsubscribe", "pause", "language", "resume"):
        for sentence, words in zip(sentences, folded, strict=True):
            value = _asks(name, words, folded)
            if value is not False:
                return Intent(name, value if isinstance(value, str) else None, sentence)
    return None


def _asks(name: str, words: str, everything: list[str]) -> str | None | bool:
    """False if `words` does not ask for `name`; else its value (None where there is none)."""
    if name == "erase":
        return None if ERASE.search(words) and _ERASE_ABOUT_ME.search(words) else False
    if name == "unsubscribe":
        return None if UNSUBSCRIBE.search(words) and not _kept(words) and not _WITHOUT.search(words) else False
    if name == "pause":
        match = PAUSE.search(words)
        if not match or not (_PAUSE_OBJECT.search(words) or words.startswith("pause")) or _TOLD.search(words):
            return False
        return _until(words[match.start():], everything)
    if name == "resume":  # "satte meg på pause i vår, … vil være med igjen": a pause told of, then a resume
        return None if RESUME.search(words) and (not PAUSE.search(words) or _TOLD.search(words)) else False
    for code, pattern in LANGUAGE.items():
        if pattern.search(words) and _LANGUAGE_ASK.search(words) and _ASKING.search(words):
            return code
    return False


def _kept(words: str) -> bool:
    """ "Jeg vil ikke melde meg av", "don't unsubscribe me": the resident stays."""
    return bool(re.search(rf"\b{_NOT}\s+(?:\w+\s+)?(?:meld|melde|unsubscribe|remove|take|ta|fjern)\b", words))


def _until(words: str, everything: list[str]) -> str | None:
    """The end of a pause: the last date-shaped "til …" of the sentence; "til da" looks at the others."""
    if _YEAR_END.search(words):
        return "1. januar"
    found = [m.group("until") for m in _UNTIL.finditer(words) if _DATE_WORD.search(m.group("until"))]
    if found:
        return pause_end(found[-1])
    if re.search(r"\b(?:til|until|till)\s+(?:da|then|det)\b", words):
        for other in everything:
            found = [m.group("until") for m in _UNTIL.finditer(other) if _DATE_WORD.search(m.group("until"))]
            if found:
                return pause_end(found[-1])
    return None


_MONTH = re.compile(r"^(?:januar|january|februar|february|mars|march|april|mai|may|juni|june|juli|july|august|"
                    r"september|oktober|october|november|desember|december)\b")


def pause_end(until: str) -> str:
    """The date words of a pause's "til …": "til mars" is until the first of March; words after the date
    ("1 juni skal ut og seile", "august, er mye borte") and "i" before it ("før i februar") are not it."""
    words = re.sub(r"^(?:i|in|inn\s+i)\s+", "", until.strip(), flags=re.I).split()
    last = max((i for i, w in enumerate(words) if _DATE_WORD.fullmatch(w.strip(".,;:!?").lower())),
               default=len(words) - 1)
    until = " ".join(words[: last + 1]).rstrip(",;:!?")
    month = _MONTH.match(until.lower())
    return f"1. {month.group(0)}" if month else until


_NUMBERED = re.compile(r"^\s*(?:\d{1,2}\s*[.):]|\d{1,2}\s+\S)")


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines()[:60]:
        line = line.strip()
        if not line or line.startswith(">") or _NUMBERED.match(line):
            continue
        for sentence in re.split(r"(?<=[^\d\s][.!?])\s+(?=[A-ZÆØÅ\"«(])", line[:MAX_SENTENCE_CHARS]):
            if sentence.strip():
                out.append(sentence.strip())
        if len(out) >= MAX_SENTENCES:
            break
    return out[:MAX_SENTENCES]
