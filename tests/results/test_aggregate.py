"""Aggregation in SQL on SQLite and PostgreSQL; numbers worked out by hand from tests/results/seed.py."""

from __future__ import annotations

import pytest

from mailbot.results import summarise
from mailbot.store import Store
from mailbot.store.answer_counts import count_answers
from tests.conftest import make_survey
from tests.results.seed import seed


def results_for(store: Store, k: int):  # type: ignore[no-untyped-def]
    survey = make_survey()
    with store.transaction() as s:
        seed(s, survey)
        counts = count_answers(s, survey, invited=20)
    return counts, summarise(survey, counts, k)


def test_counts_come_from_the_database_as_hand_computed(store: Store) -> None:
    counts, _ = results_for(store, 1)
    assert counts.answered == 12
    # need: one row each for all 12; goods: 10 respondents (i = 7 and 10 skipped it);
    # satisfaction: 12; location (text): i = 0, 2, 4 -> 3.
    assert dict(counts.per_question) == {"need": 12, "goods": 10, "satisfaction": 12, "location": 3}
    # need: Ja i=0..6 -> 7, Nei i=7..10 -> 4, Vet ikke i=11 -> 1
    assert counts.per_value[("need", "Ja")] == 7
    assert counts.per_value[("need", "Nei")] == 4
    assert counts.per_value[("need", "Vet ikke")] == 1
    # goods counts options, not combinations: Møbler i=0,1,2,4,6,9,11 -> 7; Klær i=0,3,4,8,11 -> 5;
    # Sportsutstyr i=4 -> 1; Bøker i=2,5 -> 2; Elektronikk none
    assert counts.per_value[("goods", "Møbler")] == 7
    assert counts.per_value[("goods", "Klær")] == 5
    assert counts.per_value[("goods", "Sportsutstyr")] == 1
    assert counts.per_value[("goods", "Bøker")] == 2
    assert ("goods", "Elektronikk") not in counts.per_value
    # satisfaction 5,4,4,3,5,2,4,1,2,3,1,3 -> 1:2 2:2 3:3 4:3 5:2
    assert [counts.per_value[("satisfaction", str(v))] for v in range(1, 6)] == [2, 2, 3, 3, 2]


def test_choice_question_percent_of_those_who_answered(store: Store) -> None:
    _, r = results_for(store, 1)
    need = r.questions[0]
    assert need.answered == 12
    # 7/12 = 58.33 %, 4/12 = 33.33 %, 1/12 = 8.33 %
    assert [(o.label, o.count) for o in need.options] == [("Ja", 7), ("Nei", 4), ("Vet ikke", 1)]
    assert [round(o.percent, 2) for o in need.options] == [58.33, 33.33, 8.33]
    assert r.rate == pytest.approx(12 / 20)  # 0.6: "60 prosent svarte"


def test_multi_question_counts_options_and_percent_of_respondents(store: Store) -> None:
    _, r = results_for(store, 1)
    goods = r.questions[1]
    assert goods.answered == 10
    # Møbler 7/10 = 70 %, Klær 5/10 = 50 %, Sportsutstyr 10 %, Elektronikk 0 %, Bøker 20 %: adds up to 150 %
    assert [(o.label, o.count, round(o.percent)) for o in goods.options] == [
        ("Møbler", 7, 70), ("Klær", 5, 50), ("Sportsutstyr", 1, 10), ("Elektronikk", 0, 0), ("Bøker", 2, 20)]


def test_scale_question_mean_median_and_distribution(store: Store) -> None:
    _, r = results_for(store, 1)
    sat = r.questions[2]
    # sum = 1*2 + 2*2 + 3*3 + 4*3 + 5*2 = 2 + 4 + 9 + 12 + 10 = 37; 37 / 12 = 3.0833
    assert sat.mean == pytest.approx(37 / 12)
    # sorted: 1 1 2 2 3 3 | 3 4 4 4 5 5 -> 6th and 7th values are 3 and 3 -> 3.0
    assert sat.median == 3.0
    assert [o.count for o in sat.options] == [2, 2, 3, 3, 2]
    assert [round(o.percent, 1) for o in sat.options] == [16.7, 16.7, 25.0, 25.0, 16.7]


def test_text_question_gives_a_count_and_no_words(store: Store) -> None:
    _, r = results_for(store, 1)
    location = r.questions[3]
    assert location.answered == 3 and location.options == () and location.quotes == ()


def test_small_choice_cell_is_protected_from_subtraction(store: Store) -> None:
    _, r = results_for(store, 3)
    need = r.questions[0]
    # k = 3: "Vet ikke" = 1 is hidden. With the total 12 and Ja 7 shown, hiding only it would give
    # 12 - 7 - 4 = 1 back, so the smallest other count (Nei, 4) is hidden too: hidden sum 5 >= 3.
    assert [(o.label, o.suppressed) for o in need.options] == [
        ("Ja", False), ("Nei", True), ("Vet ikke", True)]
    shown = [o for o in need.options if not o.suppressed]
    hidden = [o for o in need.options if o.suppressed]
    assert need.answered - sum(o.count for o in shown) == 5  # all an attacker learns: Nei + Vet ikke = 5
    assert all(o.count == 0 and o.percent == 0.0 for o in hidden)


def test_small_multi_options_are_hidden_alone(store: Store) -> None:
    _, r = results_for(store, 3)
    goods = r.questions[1]
    # Sportsutstyr 1 and Bøker 2 are below 3; multi options do not add up to a total, so nothing else hides.
    assert [o.label for o in goods.options if o.suppressed] == ["Sportsutstyr", "Bøker"]


def test_scale_with_a_small_value_hides_the_distribution_but_keeps_mean_and_median(store: Store) -> None:
    _, r = results_for(store, 3)
    sat = r.questions[2]
    # 1, 2 and 5 were chosen by 2 people each (< 3): mean and total would give two hidden cells back,
    # so the whole distribution goes; the mean 37/12 and median 3 stay.
    assert all(o.suppressed for o in sat.options)
    assert sat.mean == pytest.approx(37 / 12) and sat.median == 3.0


def test_questions_with_fewer_answers_than_k_show_nothing(store: Store) -> None:
    _, r = results_for(store, 5)
    location = r.questions[3]
    assert location.suppressed and location.answered == 3
    need = r.questions[0]
    # k = 5: Nei 4 and Vet ikke 1 hidden (primary), together 5 >= 5: no third cell needed
    assert [o.suppressed for o in need.options] == [False, True, True]


def test_curated_quotes_are_the_only_free_text_shown(store: Store) -> None:
    survey = make_survey()
    with store.transaction() as s:
        seed(s, survey)
        counts = count_answers(s, survey, invited=20)
    r = summarise(survey, counts, 3, quotes={"location": ("Nær Sandvika stasjon",)})
    assert r.questions[3].quotes == ("Nær Sandvika stasjon",)
    r5 = summarise(survey, counts, 5, quotes={"location": ("Nær Sandvika stasjon",)})
    assert r5.questions[3].quotes == ()  # 3 answers < k = 5: not even curated quotes
