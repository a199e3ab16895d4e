"""Who a campaign is for: a pure test of one member's profile against an audience.

Filters of different kinds must all hold (AND); the values listed for one kind
are alternatives (OR). An audience without filters is everyone. Earlier answers
come from `MemberProfile.answers`, keyed by (campaign id, question id); a
multi-choice answer (a tuple of options) matches when it contains the option.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from mailbot.campaigns import AnswerValue, Audience, EarlierAnswer
from mailbot.panel.profiles import age_band_of
from mailbot.people import MemberProfile


def matches(audience: Audience, profile: MemberProfile, age_bands: Sequence[str], today: date) -> bool:
    """True if the member with `profile` belongs to `audience` on `today`."""
    if audience.is_everyone:
        return True
    if audience.tags and not any(tag in profile.tags for tag in audience.tags):
        return False
    if audience.age_bands and age_band_of(profile.birth_year, age_bands, today) not in audience.age_bands:
        return False
    if audience.districts and profile.district not in audience.districts:
        return False
    if audience.languages and profile.language not in audience.languages:
        return False
    return not audience.answered or any(answered(profile, wanted) for wanted in audience.answered)


def answered(profile: MemberProfile, wanted: EarlierAnswer) -> bool:
    """True if the member gave `wanted.answer` to that earlier question (for multi: among the options)."""
    given = profile.answers.get((wanted.campaign, wanted.question))
    if given is None:
        return False
    if isinstance(given, tuple):
        return any(_same(option, wanted.answer) for option in given)
    return _same(given, wanted.answer)


def _same(given: AnswerValue, wanted: str | int) -> bool:
    # Staff may write answer = 4 or answer = "4" for a scale, and "ja" for the option "Ja".
    return str(given).strip().casefold() == str(wanted).strip().casefold()
