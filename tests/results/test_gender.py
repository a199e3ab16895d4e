"""Gender from the roster's kjønn column to members.gender, and from there into segments and raking."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from mailbot.panel.problems import ConfigError
from mailbot.panel.settings import PrivacySection, Settings
from mailbot.report.build import balance, build_report
from mailbot.report.population import Population, load_population
from mailbot.roster import parse_roster
from mailbot.store import Store
from mailbot.store import members as member_store
from mailbot.store.models import Member
from tests.conftest import make_survey
from tests.results.seed import seed

NOW = datetime(2024, 1, 5, 9, tzinfo=UTC)


def with_k(settings: Settings, k: int) -> Settings:
    config = settings.config.model_copy(update={"privacy": PrivacySection(min_group_size=k)})
    return dataclasses.replace(settings, config=config)


def test_roster_reads_the_kjonn_column_in_the_ways_people_write_it() -> None:
    raw = ("e-post;kjønn\nkari@example.no;K\nola@example.no;Mann\nkim@example.no;annet\n"
           "per@example.no;\nliv@example.no;Female\nbad@example.no;vet ikke\n").encode()
    roster = parse_roster(raw, Path("medlemmer.csv"))
    assert [(r.email, r.gender) for r in roster.rows] == [
        ("kari@example.no", "kvinne"), ("ola@example.no", "mann"), ("kim@example.no", "annet"),
        ("per@example.no", None), ("liv@example.no", "kvinne")]
    assert [(p.line, p.what) for p in roster.problems] == [(7, "unknown gender 'vet ikke'")]


def test_import_stores_the_gender_and_keeps_it_when_a_later_file_leaves_it_empty(store: Store) -> None:
    first = parse_roster(b"email,gender\nkari@example.no,kvinne\nola@example.no,\n", Path("a.csv")).rows
    again = parse_roster(b"email,gender\nkari@example.no,\nola@example.no,mann\n", Path("b.csv")).rows
    with store.transaction() as s:
        assert member_store.upsert_members(s, first, NOW) == (2, 0)
        assert member_store.upsert_members(s, again, NOW) == (0, 1)  # ola got a gender; kari's is kept
        stored = {e: g for e, g in s.execute(select(Member.email, Member.gender))}
    assert stored == {"kari@example.no": "kvinne", "ola@example.no": "mann"}


def test_segments_and_raking_read_the_gender_column(store: Store, settings: Settings) -> None:
    survey = make_survey()
    population = Population(gender={"kvinne": 3, "mann": 1})
    with store.transaction() as s:
        seed(s, survey)  # kvinne: even i, mann: odd i
        report = build_report(s, survey, with_k(settings, 1), population)
    assert report.weighting is not None and report.weighting.dimensions == ("gender",)
    assert report.weighting.max_weight == pytest.approx(1.5)  # 6 women answered of 12, 75 % of the population
    gender = next(t for t in report.segments if t.dimension == "gender")
    assert [(r.category, r.invited, r.answered) for r in gender.rows] == [("kvinne", 10, 6), ("mann", 10, 6)]


def test_gender_tags_still_count_for_members_without_a_gender(store: Store, settings: Settings) -> None:
    survey = make_survey()
    old_file = Population(gender={"Kvinne": 3, "Mann": 1}, gender_tags={"kvinne": "Kvinne", "mann": "Mann"})
    with store.transaction() as s:
        ids = seed(s, survey)
        s.execute(update(Member).where(Member.id.in_(ids[:10])).values(gender=None))  # only the tag says it
        rows = balance(s, survey, settings, old_file)
    women = next(b for b in rows if (b.dimension, b.category) == ("gender", "Kvinne"))
    assert (women.invited, women.answered, women.under) == (10, 6, True)


def test_nobody_with_a_gender_gives_no_gender_table(store: Store, settings: Settings) -> None:
    survey = make_survey()
    with store.transaction() as s:
        seed(s, survey)
        s.execute(update(Member).values(gender=None))
        report = build_report(s, survey, with_k(settings, 1))
    assert "gender" not in [t.dimension for t in report.segments]


def test_population_gender_must_be_a_stored_value(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "population.toml"
    path.write_text('source = "SSB"\n[gender]\nkvinne = 3\nkvinner = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_population(path, settings)
    [problem] = caught.value.problems
    assert problem.line == 4 and "kvinner" in problem.what
