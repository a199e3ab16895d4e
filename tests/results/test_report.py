"""Segments, weighting, balance and the extra-reminder selection, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from sqlalchemy import select, update

from mailbot.panel.profiles import age_band_of
from mailbot.panel.settings import PrivacySection, Settings, load_settings
from mailbot.report.build import balance, build_report, underrepresented_nonresponders
from mailbot.report.population import Population
from mailbot.report.segments import age_band_expr, district_expr
from mailbot.store import Store
from mailbot.store.models import Member
from tests.conftest import ROOT, make_survey
from tests.factories import create_member
from tests.results.seed import seed

WOMEN_3_TO_1 = Population(gender={"Kvinne": 3, "Mann": 1})  # members.gender kvinne / mann


def with_k(settings: Settings, k: int) -> Settings:
    config = settings.config.model_copy(update={"privacy": PrivacySection(min_group_size=k)})
    return dataclasses.replace(settings, config=config)


def test_weighted_figures_beside_unweighted(store: Store, settings: Settings) -> None:
    survey = make_survey()
    with store.transaction() as s:
        seed(s, survey)
        report = build_report(s, survey, with_k(settings, 1), WOMEN_3_TO_1)
    r = report.results
    assert r.weighted and report.weighting is not None and report.weighting.dimensions == ("gender",)
    # 6 women (even i) and 6 men answered; population 75 % women: weights 1.5 and 0.5.
    assert report.weighting.min_weight == pytest.approx(0.5)
    assert report.weighting.max_weight == pytest.approx(1.5)
    need = r.questions[0]
    # Ja: women i=0,2,4,6 (4 * 1.5 = 6) + men i=1,3,5 (3 * 0.5 = 1.5) = 7.5 of 12 -> 62.5 %
    # Nei: women 8,10 (3) + men 7,9 (1) = 4 -> 33.33 %; Vet ikke: man 11 -> 0.5 -> 4.17 %
    assert [round(o.weighted_percent or 0, 2) for o in need.options] == [62.5, 33.33, 4.17]
    assert [round(o.percent, 2) for o in need.options] == [58.33, 33.33, 8.33]  # unweighted unchanged
    goods = r.questions[1]
    # respondents: women 0,2,4,6,8 -> 7.5; men 1,3,5,9,11 -> 2.5; total 10.
    # Møbler: women 0,2,4,6 -> 6; men 1,9,11 -> 1.5; 7.5 / 10 = 75 %
    assert goods.options[0].weighted_percent == pytest.approx(75.0)
    sat = r.questions[2]
    # women 5+4+5+4+2+1 = 21 (* 1.5 = 31.5), men 4+3+2+1+3+3 = 16 (* 0.5 = 8): 39.5 / 12 = 3.2917
    assert sat.weighted_mean == pytest.approx(39.5 / 12)
    gender = next(t for t in report.segments if t.dimension == "gender")
    women = gender.rows[0]
    assert (women.category, women.population_share, women.answered_share) == ("Kvinne", 0.75, 0.5)
    assert women.weighted_share == pytest.approx(0.75)
    assert women.invited == 10 and women.answered == 6 and women.rate == pytest.approx(0.6)


def test_segments_suppress_small_groups_and_their_complements(store: Store, settings: Settings) -> None:
    survey = make_survey()
    with store.transaction() as s:
        seed(s, survey)
        report = build_report(s, survey, with_k(settings, 3), WOMEN_3_TO_1)
    district = next(t for t in report.segments if t.dimension == "district")
    assert [row.category for row in district.rows] == ["Sandvika", "Bekkestua", "ukjent"]
    # invited 10, 7, 3: none below 3
    assert [row.invited for row in district.rows] == [10, 7, 3]
    # answered 10, 2, 0 of 12 shown: Bekkestua (2) hides, and Sandvika with it, or 12 - 10 - 0 = 2
    assert [row.answered for row in district.rows] == [None, None, 0]
    assert [row.rate for row in district.rows] == [None, None, 0.0]
    # reply 8, click 4: shown; after invitation 6, reminder-1 4, reminder-2 2 -> 2 and 4 hidden
    assert [(x.label, x.count) for x in report.sources] == [("reply", 8), ("click", 4), ("staff", 0)]
    assert [(x.label, x.count) for x in report.after_steps] == [
        ("invitation", 6), ("reminder-1", None), ("reminder-2", None)]
    age = next(t for t in report.segments if t.dimension == "age_band")
    # ages on 1 Dec 2022: 27, 42, 57, 72 -> five invited and three answered in each of the first four bands
    assert [(row.category, row.invited, row.answered) for row in age.rows] == [
        ("15-29", 5, 3), ("30-44", 5, 3), ("45-59", 5, 3), ("60-74", 5, 3), ("75+", 0, 0)]


def test_balance_and_the_nonresponders_to_remind(store: Store, settings: Settings) -> None:
    survey = make_survey()
    with store.transaction() as s:
        ids = seed(s, survey)
        s.execute(update(Member).where(Member.id == ids[18]).values(status="left"))
        rows = balance(s, survey, settings, WOMEN_3_TO_1)
        under = {(b.dimension, b.category) for b in rows if b.under}
        # women: 6 of 12 = 50 % against 75 % (below 75 % * 0.8 = 60 %);
        # Bekkestua: no population figure, so against those invited: 2/12 = 16.7 % < 7/17 * 0.8 = 32.9 %
        assert under == {("gender", "Kvinne"), ("district", "Bekkestua")}
        women = underrepresented_nonresponders(s, survey, settings, WOMEN_3_TO_1, dimensions=["gender"])
        everyone = underrepresented_nonresponders(s, survey, settings, WOMEN_3_TO_1)
    # women who did not answer: i = 12, 14, 16, 18 (18 has left the panel)
    assert women == [ids[12], ids[14], ids[16]]
    # and Bekkestua's non-responders i = 12..16
    assert everyone == [ids[12], ids[13], ids[14], ids[15], ids[16]]


def test_age_band_and_district_in_sql_agree_with_the_config_functions(store: Store) -> None:
    settings = load_settings(ROOT / "config.toml", load_env=False)
    codes = sorted({f"{n:04d}" for n in range(1290, 1380)} | {"0150", "9999", "1340"})
    years = list(range(1900, 2015, 3))
    today = date(2022, 12, 1)
    with store.transaction() as s:
        for i, code in enumerate(codes):
            create_member(s, f"m{i}@example.no", postcode=code, birth_year=years[i % len(years)])
        rows = s.execute(select(Member.postcode, Member.birth_year,
                                district_expr(settings.config.districts),
                                age_band_expr(settings.panel.age_bands, today))).all()
    assert len(rows) == len(codes)
    for postcode, year, district, band in rows:
        assert district == settings.district_of(postcode), postcode
        assert band == age_band_of(year, settings.panel.age_bands, today), year
