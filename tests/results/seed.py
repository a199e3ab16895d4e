"""A small survey with known answers, used by the results tests (numbers worked out in the tests)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from mailbot.campaigns import AnswerValue, Survey
from mailbot.store import outbox as outbox_store
from mailbot.store import responses
from mailbot.store.models import Outbox
from tests.factories import create_member

NOW = datetime(2022, 12, 5, 9, tzinfo=UTC)

# Twelve respondents (i = 0..11) of twenty invited (i = 0..19).
#  i  need      goods                            satisfaction  location     source  after
ANSWERS: list[dict[str, AnswerValue]] = [
    {"need": "Ja", "goods": ("Møbler", "Klær"), "satisfaction": 5, "location": "Sandvika"},         # 0
    {"need": "Ja", "goods": ("Møbler",), "satisfaction": 4},                                         # 1
    {"need": "Ja", "goods": ("Møbler", "Bøker"), "satisfaction": 4, "location": "Fornebu"},          # 2
    {"need": "Ja", "goods": ("Klær",), "satisfaction": 3},                                           # 3
    {"need": "Ja", "goods": ("Møbler", "Klær", "Sportsutstyr"), "satisfaction": 5,
     "location": "Bekkestua"},                                                                       # 4
    {"need": "Ja", "goods": ("Bøker",), "satisfaction": 2},                                          # 5
    {"need": "Ja", "goods": ("Møbler",), "satisfaction": 4},                                         # 6
    {"need": "Nei", "satisfaction": 1},                                                              # 7
    {"need": "Nei", "goods": ("Klær",), "satisfaction": 2},                                          # 8
    {"need": "Nei", "goods": ("Møbler",), "satisfaction": 3},                                        # 9
    {"need": "Nei", "satisfaction": 1},                                                              # 10
    {"need": "Vet ikke", "goods": ("Møbler", "Klær"), "satisfaction": 3},                            # 11
]


def source_of(i: int) -> str:
    return "reply" if i < 8 else "click"  # 8 by reply, 4 by click


def after_step_of(i: int) -> str:
    return "invitation" if i < 6 else "reminder-1" if i < 10 else "reminder-2"  # 6, 4, 2


def birth_year_of(i: int) -> int:
    # Ages on 1 Dec 2022: 27 (15-29), 42 (30-44), 57 (45-59), 72 (60-74)
    return (1995, 1980, 1965, 1950)[i % 4]


def postcode_of(i: int) -> str:
    return "1310" if i < 10 else "1356" if i < 17 else "1400"  # Sandvika 10, Bekkestua 7, no district 3


def gender_of(i: int) -> str:
    return "kvinne" if i % 2 == 0 else "mann"  # members.gender, as the roster's kjønn column gives it


def gender_tag_of(i: int) -> str:
    return gender_of(i)  # the same as a tag, for population files that still name [gender_tags]


def seed(session: Session, survey: Survey, invited: int = 20) -> list[int]:
    """Twenty members invited (invitation sent), the first twelve answered; returns member ids by i."""
    ids = []
    for i in range(invited):
        m = create_member(session, f"beboer{i}@example.no", name=f"Beboer {i}", birth_year=birth_year_of(i),
                          postcode=postcode_of(i), tags=(gender_tag_of(i),))
        m.gender = gender_of(i)
        ids.append(m.id)
    outbox_store.queue(session, survey.id, "invitation", ids, NOW)
    session.execute(update(Outbox).values(status="sent", sent_at=NOW))
    for i, answers in enumerate(ANSWERS):
        responses.record(session, survey, ids[i], answers, source=source_of(i), after_step=after_step_of(i),
                         now=NOW)
    return ids
