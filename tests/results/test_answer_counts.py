"""The kept answer counts always equal a GROUP BY over the answers, on SQLite and PostgreSQL.

Random sequences of what happens to a survey (answer, change an answer,
answer part of it, clear a multi answer, erase the member) are replayed
through `responses.record` and `membership.erase`, and after every step the
kept counts (`answer_counts.read`) are compared with the truth
(`answer_counts.from_answers`) and with what `count_answers` gives.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from mailbot import membership
from mailbot.campaigns import AnswerValue, QuestionType, Survey
from mailbot.store import MIGRATIONS, Store, answer_counts, responses
from mailbot.store.answer_counts import count_answers
from tests.conftest import make_survey
from tests.factories import create_member

T0 = datetime(2022, 12, 2, 9, tzinfo=UTC)
SURVEY = make_survey()


def answer_for(survey: Survey, qid: str, rnd: random.Random) -> AnswerValue:
    q = survey.question(qid)
    assert q is not None
    if q.type == QuestionType.CHOICE:
        return rnd.choice(q.options)
    if q.type == QuestionType.MULTI:
        # Sometimes nothing (a cleared answer), sometimes an option twice (counted once).
        chosen = rnd.sample(q.options, rnd.randint(0, 3))
        return tuple(chosen + chosen[:1]) if chosen and rnd.random() < 0.2 else tuple(chosen)
    if q.type == QuestionType.SCALE:
        return rnd.choice(q.scale_values)
    return rnd.choice(("Sandvika", "Fornebu", "ved stasjonen"))


def assert_counts_are_true(s: Any, survey: Survey) -> None:
    kept = answer_counts.read(s, survey.id)
    truth = answer_counts.from_answers(s, survey.id)
    assert kept == truth
    counts = count_answers(s, survey, invited=0)
    assert counts.answered == truth.respondents
    assert dict(counts.per_value) == truth.per_value
    assert dict(counts.per_question) == truth.per_question


def replay(store: Store, survey: Survey, steps: list[tuple[str, int, int]], members: int = 6) -> None:
    """steps: (what, member index, seed) with what in record | erase."""
    qids = [q.id for q in survey.questions]
    other = replace(survey, id=survey.id + "-b")  # a second campaign's counts must not move
    with store.transaction() as s:
        ids = [create_member(s, f"m{i}-{uuid.uuid4().hex[:6]}@example.no").id for i in range(members)]
        responses.record(s, other, ids[0], {"need": "Ja"}, source="reply", after_step=None, now=T0)
    for n, (what, who, seed) in enumerate(steps):
        rnd = random.Random(seed)
        with store.transaction() as s:
            if what == "erase":
                membership.erase(s, ids[who % members], T0, actor="test")
            else:
                chosen = rnd.sample(qids, rnd.randint(0, len(qids)))
                answers: dict[str, AnswerValue] = {q: answer_for(survey, q, rnd) for q in chosen}
                if rnd.random() < 0.1:
                    answers["removed-question"] = "Ja"  # no longer in the schedule: ignored
                responses.record(s, survey, ids[who % members], answers, source="reply", after_step=None,
                                 now=T0 + timedelta(minutes=n))
            assert_counts_are_true(s, survey)
            assert answer_counts.read(s, other.id) == answer_counts.Tally({("need", "Ja"): 1}, {"need": 1}, 1)


step = st.tuples(st.sampled_from(["record"] * 5 + ["erase"]), st.integers(0, 5), st.integers(0, 2**32))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_kept_counts_equal_group_by_after_any_sequence(store: Store, steps: list[tuple[str, int, int]]) -> None:
    replay(store, replace(SURVEY, id=f"s-{uuid.uuid4().hex[:8]}"), steps)


def test_kept_counts_equal_group_by_after_a_long_random_run(store: Store) -> None:
    rnd = random.Random(7)
    steps = [("erase" if rnd.random() < 0.05 else "record", rnd.randrange(12), rnd.randrange(2**32))
             for _ in range(150)]
    replay(store, SURVEY, steps, members=12)


def test_erasing_a_member_leaves_the_counts_as_they_were(store: Store) -> None:
    with store.transaction() as s:
        m = create_member(s)
        responses.record(s, SURVEY, m.id, {"need": "Nei", "goods": ("Klær", "Bøker"), "satisfaction": 2},
                         source="reply", after_step=None, now=T0)
        before = answer_counts.read(s, SURVEY.id)
        membership.erase(s, m.id, T0, actor="test")
        assert answer_counts.read(s, SURVEY.id) == before == answer_counts.from_answers(s, SURVEY.id)
        assert before.respondents == 1 and before.per_value[("goods", "Bøker")] == 1


def test_rebuild_gives_the_kept_counts_back(store: Store) -> None:
    with store.transaction() as s:
        for i in range(5):
            m = create_member(s, f"r{i}@example.no")
            responses.record(s, SURVEY, m.id, {"need": "Ja", "satisfaction": i + 1, "location": "x"},
                             source="click", after_step=None, now=T0)
        kept = answer_counts.read(s, SURVEY.id)
        answer_counts.rebuild(s)
        assert answer_counts.read(s, SURVEY.id) == kept
        answer_counts.rebuild(s, SURVEY.id)
        assert answer_counts.read(s, SURVEY.id) == kept
        assert kept.per_question == {"need": 5, "satisfaction": 5, "location": 5}


def test_the_migration_counts_answers_stored_before_it(store: Store) -> None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    with store.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0004_seats")
    with store.engine.begin() as c:
        c.execute(text("INSERT INTO responses (id, campaign_id, source, first_at, updated_at) "
                       "VALUES (1, 'old', 'reply', :t, :t), (2, 'old', 'click', :t, :t), "
                       "(3, 'old', 'reply', :t, :t)"), {"t": T0.replace(tzinfo=None)})
        c.execute(text("INSERT INTO answers (response_id, campaign_id, question_id, choice, number, text) VALUES "
                       "(1, 'old', 'need', 'Ja', NULL, NULL), (2, 'old', 'need', 'Nei', NULL, NULL), "
                       "(1, 'old', 'goods', 'Klær', NULL, NULL), (1, 'old', 'goods', 'Bøker', NULL, NULL), "
                       "(2, 'old', 'satisfaction', NULL, 4, NULL), (2, 'old', 'location', NULL, NULL, 'Fornebu')"))
    store.upgrade()
    with store.transaction() as s:
        kept = answer_counts.read(s, "old")
        assert kept == answer_counts.from_answers(s, "old")
        # Response 3 has no answers: two respondents. Multi counts options (Klær, Bøker) for one person.
        assert kept == answer_counts.Tally(
            {("need", "Ja"): 1, ("need", "Nei"): 1, ("goods", "Klær"): 1, ("goods", "Bøker"): 1,
             ("satisfaction", "4"): 1},
            {"need": 2, "goods": 1, "satisfaction": 1, "location": 1}, 2)
