"""The read-back store: a reading leaves "waiting" once, and at most one waits per member and survey."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from mailbot.store import Store
from mailbot.store import read_backs as read_back_store
from mailbot.store.models import ReadBack
from mailbot.store.read_backs import ReadBackState
from tests.conftest import make_survey, oslo
from tests.factories import create_member

SURVEY = make_survey()
NOW = oslo(2022, 12, 2, 10)


def test_a_reading_keeps_its_answers_in_the_parsers_shape(store: Store) -> None:
    with store.transaction() as s:
        m = create_member(s).id
        rid = read_back_store.add(s, SURVEY, m, 1, {"need": "Ja", "goods": ("Møbler", "Bøker"), "satisfaction": 2,
                                                    "location": "Sandvika «sentrum»"}, ("goods",),
                                  {"satisfaction": "uklart"}, NOW, after_step="invitation")
    with store.transaction() as s:
        got = read_back_store.waiting(s, SURVEY, m)
    assert got is not None and got.id == rid and got.status == ReadBackState.WAITING
    assert got.answers == {"need": "Ja", "goods": ("Møbler", "Bøker"), "satisfaction": 2,
                           "location": "Sandvika «sentrum»"}
    assert got.confirm == ("goods",) and got.unsure == {"satisfaction": "uklart"}


def test_a_reading_leaves_waiting_once(store: Store) -> None:
    with store.transaction() as s:
        m = create_member(s).id
        rid = read_back_store.add(s, SURVEY, m, 1, {"need": "Ja"}, ("need",), {}, NOW, after_step=None)
    with store.transaction() as s:
        assert read_back_store.move(s, rid, ReadBackState.CONFIRMED, NOW)
    with store.transaction() as s:
        assert not read_back_store.move(s, rid, ReadBackState.CONFIRMED, NOW)
        assert not read_back_store.move(s, rid, ReadBackState.SUPERSEDED, NOW)
        assert read_back_store.waiting(s, SURVEY, m) is None
    assert not ReadBackState.CONFIRMED.can_move(ReadBackState.WAITING)


def test_a_newer_reading_supersedes_the_one_that_waits_and_two_cannot_wait_at_once(store: Store) -> None:
    with store.transaction() as s:
        m = create_member(s).id
        first = read_back_store.add(s, SURVEY, m, 1, {"need": "Ja"}, ("need",), {}, NOW, after_step=None)
        second = read_back_store.add(s, SURVEY, m, 2, {"need": "Nei"}, ("need",), {}, NOW, after_step=None)
    with store.transaction() as s:
        assert read_back_store.get(s, first) is not None
        assert read_back_store.get(s, first).status == ReadBackState.SUPERSEDED  # type: ignore[union-attr]
        assert read_back_store.waiting(s, SURVEY, m).id == second  # type: ignore[union-attr]
    with pytest.raises(IntegrityError), store.transaction() as s:
        # Two workers adding at once without seeing each other: the database keeps one.
        s.add(ReadBack(campaign_id=SURVEY.id, member_id=m, inbound_id=3, source="read-back-confirmed",
                       answers="{}", confirm="[]", unsure="{}", status="waiting", created_at=NOW))
        s.flush()
