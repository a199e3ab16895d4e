"""The "Ja, det stemmer" link of a read-back, against the app served by uvicorn, on SQLite and PostgreSQL.

GET shows the reading and one button and records nothing (mail scanners follow links); POST records
the reading once, with its source, however often it is pressed.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from mailbot.replies import READ_BACK_LINK
from mailbot.store import read_backs as read_back_store
from mailbot.store import responses as response_store
from mailbot.store.models import Answer, Inbound, ReadBack, Response
from mailbot.store.read_backs import ReadBackState
from tests.conftest import oslo
from tests.web.conftest import Web, guard_of

READING = {"need": "Ja", "goods": ("Møbler", "Bøker"), "satisfaction": 2, "location": "Sandvika sentrum"}


def waiting_reading(web: Web, member_id: int, *, answers: dict | None = None,
                    unsure: dict[str, str] | None = None) -> tuple[int, str]:
    """A reading waiting for `member_id`'s confirmation, as replies.py keeps it; and its link token."""
    with web.store.transaction() as s:
        inbound = Inbound(received_at=oslo(2022, 12, 2, 10), via="smtp", digest=f"d{member_id}-{answers}",
                          raw=b"Subject: x\n\n1 A", status="done", reason="read back to the resident")
        s.add(inbound)
        s.flush()
        rid = read_back_store.add(s, web.survey, member_id, inbound.id, answers or READING, ("goods",),
                                  unsure or {}, oslo(2022, 12, 2, 10), after_step="invitation")
    return rid, web.keys.link_token(READ_BACK_LINK, {"m": member_id, "r": rid})


def answers(web: Web, member_id: int) -> dict[str, object]:
    with web.store.transaction() as s:
        return response_store.answers_of(s, web.survey, member_id)


def status(web: Web, rid: int) -> str:
    with web.store.transaction() as s:
        row = s.get(ReadBack, rid)
        assert row is not None
        return row.status


def test_get_shows_the_reading_with_one_button_and_records_nothing(web: Web) -> None:
    m = web.member()
    rid, token = waiting_reading(web, m, unsure={"satisfaction": "kunne ikke lese «veldig»"},
                                 answers={"need": "Ja", "goods": ("Møbler", "Bøker")})
    r = web.client.get(f"/stemmer/{token}")
    assert r.status_code == 200
    assert "Stemmer det?" in r.text
    assert "1. Er det behov for en ombruksbutikk i Bærum?" in r.text and "<strong>Møbler, Bøker</strong>" in r.text
    assert "3. Hvor fornøyd er du med dagens tilbud for gjenbruk?" in r.text  # could not be read: named
    assert 'type="submit" class="big">Ja, det stemmer</button>' in r.text
    assert f'action="/stemmer/{token}"' in r.text
    assert answers(web, m) == {} and status(web, rid) == "waiting"


def test_post_records_the_reading_once_however_often_it_is_pressed(web: Web) -> None:
    m = web.member()
    rid, token = waiting_reading(web, m)
    guard = guard_of(web.client.get(f"/stemmer/{token}").text)
    first = web.client.post(f"/stemmer/{token}", data={"guard": guard})
    assert first.status_code == 200 and "Takk for svaret!" in first.text
    assert answers(web, m) == READING
    with web.store.transaction() as s:
        response = s.scalars(select(Response)).one()
        assert (response.source, response.after_step) == ("read-back-confirmed", "invitation")
        stamp = response.updated_at
        rows = s.scalar(select(func.count()).select_from(Answer))
        note = s.scalars(select(Inbound.reason)).one()
    assert "confirmed by the resident (link)" in (note or "")
    again = web.client.post(f"/stemmer/{token}", data={"guard": guard})
    assert again.status_code == 200 and "allerede registrert" in again.text
    with web.store.transaction() as s:
        assert s.scalars(select(Response.updated_at)).one() == stamp
        assert s.scalar(select(func.count()).select_from(Answer)) == rows
    assert status(web, rid) == "confirmed"
    assert "allerede registrert" in web.client.get(f"/stemmer/{token}").text


def test_the_page_is_in_the_members_language(web: Web) -> None:
    m = web.member(language="en")
    _, token = waiting_reading(web, m)
    r = web.client.get(f"/stemmer/{token}")
    assert "Is this right?" in r.text and "Yes, that&#39;s right" in r.text


def test_a_post_without_the_form_guard_records_nothing(web: Web) -> None:
    m = web.member()
    rid, token = waiting_reading(web, m)
    assert web.client.post(f"/stemmer/{token}", data={}).status_code == 403
    assert answers(web, m) == {} and status(web, rid) == "waiting"


def test_a_forged_or_changed_link_is_refused(web: Web) -> None:
    m = web.member()
    other = web.member("ole@example.no")
    rid, token = waiting_reading(web, m)
    assert web.client.get(f"/stemmer/{token[:-3]}xyz").status_code == 400
    # A link signed for another member does not open this member's reading.
    stolen = web.keys.link_token(READ_BACK_LINK, {"m": other, "r": rid})
    assert web.client.get(f"/stemmer/{stolen}").status_code == 400
    # An answer link is not a read-back link.
    assert web.client.get(f"/stemmer/{web.answer_token(m)}").status_code == 400


def test_after_close_the_link_records_nothing(web: Web) -> None:
    m = web.member()
    rid, token = waiting_reading(web, m)
    guard = guard_of(web.client.get(f"/stemmer/{token}").text)
    web.clock.now = web.survey.closes + timedelta(minutes=1)
    assert web.client.get(f"/stemmer/{token}").status_code == 410
    assert web.client.post(f"/stemmer/{token}", data={"guard": guard}).status_code == 410
    assert answers(web, m) == {} and status(web, rid) == "waiting"


def test_a_reading_replaced_by_a_newer_reply_cannot_be_confirmed(web: Web) -> None:
    m = web.member()
    rid, token = waiting_reading(web, m)
    guard = guard_of(web.client.get(f"/stemmer/{token}").text)
    with web.store.transaction() as s:
        read_back_store.move(s, rid, ReadBackState.SUPERSEDED, oslo(2022, 12, 3, 9))
    r = web.client.post(f"/stemmer/{token}", data={"guard": guard})
    assert r.status_code == 200 and "Du har sendt et nyere svar" in r.text
    assert answers(web, m) == {}


def test_a_reading_of_an_erased_member_is_gone(web: Web) -> None:
    from mailbot import membership

    m = web.member()
    _, token = waiting_reading(web, m)
    with web.store.transaction() as s:
        membership.erase(s, m, oslo(2022, 12, 3, 9), actor="test")
    assert web.client.get(f"/stemmer/{token}").status_code == 410
