"""The draw: seeded and reproducible; stratified keeps age bands and districts in proportion."""

from __future__ import annotations

from collections import Counter

from mailbot.campaigns import Selection
from mailbot.recruitment import Volunteer, draw

SEATS = {"workshop-1": 10, "workshop-2": 10}


def _volunteers(n: int = 39) -> list[Volunteer]:
    bands = ["15-29", "30-44", "45-59", "60-74", "75+"]
    return [Volunteer(i, "", (bands[i % 5] if i < 30 else "60-74", "Sandvika" if i % 3 else "Bekkestua"))
            for i in range(1, n + 1)]


def test_the_same_seed_draws_the_same_people():
    a = draw(_volunteers(), SEATS, Selection.LOTTERY, "2020:min-side-2020")
    b = draw(list(reversed(_volunteers())), SEATS, Selection.LOTTERY, "2020:min-side-2020")
    assert a == b
    assert draw(_volunteers(), SEATS, Selection.LOTTERY, "other") != a


def test_twenty_of_thirty_nine_are_seated_ten_in_each_workshop():
    got = draw(_volunteers(), SEATS, Selection.LOTTERY, 1)
    seated = Counter(d.meeting for d in got if d.meeting)
    assert seated == {"workshop-1": 10, "workshop-2": 10}
    assert sum(1 for d in got if d.meeting is None) == 19


def test_a_volunteer_who_asked_for_a_workshop_gets_that_one_or_waits():
    people = [Volunteer(i, "workshop-2") for i in range(1, 13)]
    got = draw(people, SEATS, Selection.LOTTERY, 1)
    assert Counter(d.meeting for d in got) == {"workshop-2": 10, None: 2}


def test_stratified_draw_follows_each_stratum_share():
    people = _volunteers()
    got = draw(people, SEATS, Selection.STRATIFIED, 7)
    chosen = {d.member_id for d in got if d.meeting}
    by_band = Counter(v.stratum[0] for v in people if v.member_id in chosen)
    share = Counter(v.stratum[0] for v in people)
    for band, n in share.items():
        assert abs(by_band[band] - 20 * n / len(people)) <= 1, (band, by_band, share)


def test_first_come_keeps_the_order_of_answers():
    people = [Volunteer(i, "") for i in (5, 3, 9)]
    got = draw(people, {"utvalg": 2}, Selection.FIRST_COME, 0)
    assert [(d.member_id, d.meeting) for d in got] == [(5, "utvalg"), (3, "utvalg"), (9, None)]
