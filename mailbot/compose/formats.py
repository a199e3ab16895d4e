"""Words and numbers that depend on the reader's language but not on a template.

The reply marker lives here, not in a template, because the reply reader must
recognise it (`mailbot.reading.quotes.REPLY_ABOVE_MARKER`): a staff override
cannot change it. Dates and numbers come from Babel in the panel's time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_decimal, format_percent

from mailbot.campaigns import OPTION_KEYS, Question, QuestionType

LANGUAGES = ("nb", "nn", "en")
DEFAULT_LANGUAGE = "nb"

MARKERS = {
    "nb": "-- Skriv svaret ditt over denne linjen --",
    "nn": "-- Skriv svaret ditt over denne lina --",
    "en": "-- Write your answer above this line --",
}

# What a text question's part of the example answer says ("4 dine egne ord").
_EXAMPLE_WORDS = {"nb": "med egne ord", "nn": "med eigne ord", "en": "in your own words"}

_DATETIME_PATTERNS = {
    "nb": "EEEE d. MMMM 'kl.' HH.mm",  # torsdag 15. desember kl. 23.59
    "nn": "EEEE d. MMMM 'kl.' HH.mm",
    "en": "EEEE d MMMM 'at' HH:mm",  # Thursday 15 December at 23:59
}
_DATE_PATTERNS = {"nb": "EEEE d. MMMM y", "nn": "EEEE d. MMMM y", "en": "EEEE d MMMM y"}


def language_of(wanted: str | None, fallback: str = DEFAULT_LANGUAGE) -> str:
    """The language to write in: the reader's if we have it, else the panel's, else Bokmål."""
    if wanted in LANGUAGES:
        return str(wanted)
    return fallback if fallback in LANGUAGES else DEFAULT_LANGUAGE


@lru_cache(maxsize=1024)
def datetime_text(moment: datetime, lang: str, zone: str) -> str:
    """"torsdag 15. desember kl. 23.59" in the panel's zone (nb, nn, en)."""
    return str(babel_datetime(moment, _DATETIME_PATTERNS[lang], tzinfo=ZoneInfo(zone), locale=lang))


@lru_cache(maxsize=1024)
def date_text(day: date | datetime, lang: str, zone: str) -> str:
    """"torsdag 15. desember 2022"; a datetime is first moved to the panel's zone."""
    if isinstance(day, datetime):
        return str(babel_datetime(day, _DATE_PATTERNS[lang], tzinfo=ZoneInfo(zone), locale=lang))
    return str(babel_date(day, _DATE_PATTERNS[lang], locale=lang))


def number_text(value: float, lang: str, decimals: int = 0) -> str:
    """12 345 (nb) / 12,345 (en); `decimals` fixed digits after the comma."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return str(format_decimal(value, format=pattern, locale=lang))


def percent_text(percent: float, lang: str) -> str:
    """A percentage 0..100 as the language writes it: "30 %" (nb, no-break space), "30%" (en)."""
    return str(format_percent(percent / 100.0, locale=lang))


def example_answer(questions: tuple[Question, ...] | list[Question], lang: str) -> str:
    """A line that answers every question the way the reply reader understands: "1 A   2 B,C   3 4   4 …".

    Choice questions take different letters so the example does not suggest "always A".
    """
    parts = []
    turn = 0
    for q in questions:
        if q.type in (QuestionType.CHOICE, QuestionType.MULTI) and q.options:
            n = len(q.options)
            first = OPTION_KEYS[turn % n]
            if q.type == QuestionType.MULTI:
                second = OPTION_KEYS[(turn + 1) % n]
                parts.append(f"{q.number} {first},{second}")
            else:
                parts.append(f"{q.number} {first}")
            turn += 1
        elif q.type == QuestionType.SCALE and q.min is not None and q.max is not None:
            value = q.max - 1 if q.max - q.min >= 2 else q.max
            parts.append(f"{q.number} {value}")
        else:
            parts.append(f"{q.number} {_EXAMPLE_WORDS[lang]}")
    return "   ".join(parts)
