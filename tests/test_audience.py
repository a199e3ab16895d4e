"""Who a campaign is for: one table of profiles and audiences, AND across kinds, OR within a list."""

from __future__ import annotations

from datetime import date

import pytest

from mailbot.audience import matches
from mailbot.campaigns import Audience, EarlierAnswer
from mailbot.people import MemberProfile

BANDS = ("15-29", "30-44", "45-59", "60-74", "75+")
TODAY = date(2022, 12, 1)


def profile(**kw: object) -> MemberProfile:
    base: dict[str, object] = {
        "member_id": 1,
        "language": "nb",
        "birth_year": 1980,
        "postcode": "1338",
        "district": "Sandvika",
        "tags": frozenset(),
        "answers": {},
    }
    base.update(kw)
    return MemberProfile(**base)  # type: ignore[arg-type]


USED_MAP = EarlierAnswer("sandvika-byrom-2020", "used_map", "Ja")
GOODS_BOOKS = EarlierAnswer("ombruk-2022", "goods", "Bøker")
SCALE_4 = EarlierAnswer("ombruk-2022", "satisfaction", 4)

CASES = [
    ("everyone", Audience(), profile(), True),
    ("tag present", Audience(tags=("frivillig",)), profile(tags=frozenset({"frivillig"})), True),
    ("tag absent", Audience(tags=("frivillig",)), profile(tags=frozenset({"annet"})), False),
    ("one of two tags (OR)", Audience(tags=("a", "b")), profile(tags=frozenset({"b"})), True),
    ("age band from birth year", Audience(age_bands=("30-44",)), profile(birth_year=1980), True),
    ("other age band", Audience(age_bands=("60-74",)), profile(birth_year=1980), False),
    ("open-ended band", Audience(age_bands=("75+",)), profile(birth_year=1940), True),
    ("no birth year, band wanted", Audience(age_bands=("30-44",)), profile(birth_year=None), False),
    ("district", Audience(districts=("Fornebu",)), profile(district="Fornebu"), True),
    ("district, one of two", Audience(districts=("Fornebu", "Sandvika")), profile(district="Sandvika"), True),
    ("no district known", Audience(districts=("Fornebu",)), profile(district=None), False),
    ("language", Audience(languages=("nn",)), profile(language="nn"), True),
    ("other language", Audience(languages=("nn", "en")), profile(language="nb"), False),
    (
        "earlier answer Ja",
        Audience(answered=(USED_MAP,)),
        profile(answers={("sandvika-byrom-2020", "used_map"): "Ja"}),
        True,
    ),
    (
        "earlier answer Nei",
        Audience(answered=(USED_MAP,)),
        profile(answers={("sandvika-byrom-2020", "used_map"): "Nei"}),
        False,
    ),
    (
        "earlier answer in other case",
        Audience(answered=(USED_MAP,)),
        profile(answers={("sandvika-byrom-2020", "used_map"): "ja"}),
        True,
    ),
    ("did not answer the earlier survey", Audience(answered=(USED_MAP,)), profile(), False),
    (
        "multi answer contains the option",
        Audience(answered=(GOODS_BOOKS,)),
        profile(answers={("ombruk-2022", "goods"): ("Klær", "Bøker")}),
        True,
    ),
    (
        "multi answer lacks the option",
        Audience(answered=(GOODS_BOOKS,)),
        profile(answers={("ombruk-2022", "goods"): ("Klær", "Møbler")}),
        False,
    ),
    (
        "multi answer of one option, stored plain",
        Audience(answered=(GOODS_BOOKS,)),
        profile(answers={("ombruk-2022", "goods"): "Bøker"}),
        True,
    ),
    (
        "scale answer as number",
        Audience(answered=(SCALE_4,)),
        profile(answers={("ombruk-2022", "satisfaction"): 4}),
        True,
    ),
    (
        "scale answer differs",
        Audience(answered=(SCALE_4,)),
        profile(answers={("ombruk-2022", "satisfaction"): 3}),
        False,
    ),
    (
        "either earlier answer (OR)",
        Audience(answered=(USED_MAP, GOODS_BOOKS)),
        profile(answers={("ombruk-2022", "goods"): ("Bøker",)}),
        True,
    ),
    (
        "tag AND district both hold",
        Audience(tags=("frivillig",), districts=("Fornebu",)),
        profile(tags=frozenset({"frivillig"}), district="Fornebu"),
        True,
    ),
    (
        "tag holds, district does not (AND)",
        Audience(tags=("frivillig",), districts=("Fornebu",)),
        profile(tags=frozenset({"frivillig"}), district="Sandvika"),
        False,
    ),
    (
        "all kinds at once",
        Audience(
            tags=("x",),
            age_bands=("30-44",),
            districts=("Sandvika",),
            languages=("nb",),
            answered=(USED_MAP,),
        ),
        profile(tags=frozenset({"x"}), answers={("sandvika-byrom-2020", "used_map"): "Ja"}),
        True,
    ),
    (
        "all kinds but the answer",
        Audience(
            tags=("x",),
            age_bands=("30-44",),
            districts=("Sandvika",),
            languages=("nb",),
            answered=(USED_MAP,),
        ),
        profile(tags=frozenset({"x"})),
        False,
    ),
]


@pytest.mark.parametrize(
    ("audience", "member", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_audience_matches_profile(audience: Audience, member: MemberProfile, expected: bool) -> None:
    assert matches(audience, member, BANDS, TODAY) is expected


def test_age_band_follows_the_date_given() -> None:
    # Born 1993: 29 in 2022 (15-29), 30 in 2023 (30-44).
    young = Audience(age_bands=("15-29",))
    assert matches(young, profile(birth_year=1993), BANDS, date(2022, 6, 1))
    assert not matches(young, profile(birth_year=1993), BANDS, date(2023, 6, 1))
