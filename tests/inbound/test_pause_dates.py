"""PAUSE til <dato>: what residents write, read in the panel's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailbot.replies import read_pause_date

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2022, 12, 2, 10, tzinfo=OSLO)


@pytest.mark.parametrize(("text", "day"), [
    ("1. mars", (2023, 3, 1)),
    ("1 mars", (2023, 3, 1)),
    ("til 1. mars", (2023, 3, 1)),
    ("den 1. mars 2023", (2023, 3, 1)),
    ("onsdag 1. mars", (2023, 3, 1)),
    ("15.01.2023", (2023, 1, 15)),
    ("15.1.23", (2023, 1, 15)),
    ("15/1", (2023, 1, 15)),
    ("2023-01-15", (2023, 1, 15)),
    ("24. desember", (2022, 12, 24)),
    ("1. desember", (2023, 12, 1)),  # passed this year: next year
    ("1. jan.", (2023, 1, 1)),
    ("March 1st", (2023, 3, 1)),
    ("1 March 2023", (2023, 3, 1)),
    ("2 uker", (2022, 12, 16)),
    ("en måned", (2023, 1, 2)),
    ("tre måneder", (2023, 3, 2)),
])
def test_dates_residents_write(text: str, day: tuple[int, int, int]):
    assert read_pause_date(text, NOW, OSLO) == datetime(*day, tzinfo=OSLO)


def test_the_example_from_the_brief_when_it_is_within_three_years():
    assert read_pause_date("til 15.01.2027", datetime(2026, 11, 1, tzinfo=OSLO), OSLO) == \
        datetime(2027, 1, 15, tzinfo=OSLO)


def test_a_pause_starts_at_midnight_oslo_time_also_in_summer():
    until = read_pause_date("1. juli", NOW, OSLO)
    assert until is not None and until.utcoffset() == timedelta(hours=2)
    assert until.astimezone(ZoneInfo("UTC")).hour == 22


@pytest.mark.parametrize("text", ["etter jul", "snart", "1. mars 2021", "31. februar 2023", "2.12.2022",
                                  "1. mars 2099", "32. mars", "", "til"])
def test_what_is_not_a_date_to_come_gives_none(text: str):
    assert read_pause_date(text, NOW, OSLO) is None
