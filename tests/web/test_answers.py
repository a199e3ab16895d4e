"""One-click answers and the survey form, against the app served by uvicorn, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from mailbot.store import responses as response_store
from mailbot.store.models import Answer, Response
from tests.conftest import oslo
from tests.web.conftest import Web, guard_of


def answers(web: Web, member_id: int) -> dict[str, object]:
    with web.store.transaction() as s:
        return response_store.answers_of(s, web.survey, member_id)


def responses_count(web: Web) -> int:
    with web.store.transaction() as s:
        return s.scalar(select(func.count()).select_from(Response)) or 0


def test_get_of_a_one_click_link_shows_the_choice_and_records_nothing(web: Web) -> None:
    m = web.member()
    r = web.client.get(f"/svar/{web.answer_token(m)}/need/Ja")
    assert r.status_code == 200
    assert 'value="Ja" checked' in r.text
    assert 'type="submit" class="big"' in r.text
    assert responses_count(web) == 0


def test_post_records_the_click_and_shows_the_remaining_questions(web: Web) -> None:
    m = web.member()
    url = f"/svar/{web.answer_token(m)}/need/Ja"
    page = web.client.get(url)
    r = web.client.post(url, data={"guard": guard_of(page.text), "answer": "Ja"})
    assert r.status_code == 200
    assert answers(web, m) == {"need": "Ja"}
    assert "Hvilke varer" in r.text and "Hvor fornøyd" in r.text  # the rest, as a form
    assert "Vil du endre svaret?" in r.text
    with web.store.transaction() as s:
        assert s.scalar(select(Response.source)) == "click"


def test_a_second_click_changes_the_answer(web: Web) -> None:
    m = web.member()
    token = web.answer_token(m)
    guard = guard_of(web.client.get(f"/svar/{token}/need/Ja").text)
    web.client.post(f"/svar/{token}/need/Ja", data={"guard": guard})
    web.client.post(f"/svar/{token}/need/Nei", data={"guard": guard})
    assert answers(web, m) == {"need": "Nei"}
    assert responses_count(web) == 1


def test_scale_one_click_and_an_option_with_a_slash_in_it(web: Web) -> None:
    m = web.member()
    token = web.answer_token(m)
    guard = guard_of(web.client.get(f"/svar/{token}/satisfaction/4").text)
    assert web.client.post(f"/svar/{token}/satisfaction/4", data={"guard": guard}).status_code == 200
    assert answers(web, m) == {"satisfaction": 4}
    assert web.client.get(f"/svar/{token}/satisfaction/9").status_code == 400
    assert web.client.get(f"/svar/{token}/need/Kanskje").status_code == 400
    assert web.client.get(f"/svar/{token}/nosuch/Ja").status_code == 400


def test_the_whole_survey_form_records_every_answer(web: Web) -> None:
    m = web.member()
    token = web.answer_token(m)
    page = web.client.get(f"/svar/{token}")
    assert page.status_code == 200 and 'for="q-location"' in page.text
    r = web.client.post(f"/svar/{token}", data={
        "guard": guard_of(page.text), "q-need": "Vet ikke", "q-goods": ["Klær", "Bøker"],
        "q-satisfaction": "2", "q-location": "Sandvika sentrum"})
    assert r.status_code == 200
    assert answers(web, m) == {"need": "Vet ikke", "goods": ("Klær", "Bøker"), "satisfaction": 2,
                               "location": "Sandvika sentrum"}
    again = web.client.get(f"/svar/{token}")
    assert 'value="Vet ikke" checked' in again.text and "Sandvika sentrum" in again.text


def test_a_form_with_a_made_up_option_records_nothing_and_says_what_to_fix(web: Web) -> None:
    m = web.member()
    token = web.answer_token(m)
    guard = guard_of(web.client.get(f"/svar/{token}").text)
    r = web.client.post(f"/svar/{token}", data={"guard": guard, "q-need": "Ja", "q-satisfaction": "99"})
    assert r.status_code == 400 and "Noe må rettes" in r.text
    assert responses_count(web) == 0


def test_a_post_without_the_guard_or_from_another_site_records_nothing(web: Web) -> None:
    m = web.member()
    token = web.answer_token(m)
    guard = guard_of(web.client.get(f"/svar/{token}/need/Ja").text)
    assert web.client.post(f"/svar/{token}/need/Ja", data={}).status_code == 403
    assert web.client.post(f"/svar/{token}/need/Ja", data={"guard": "0" * 32}).status_code == 403
    other = web.answer_token(web.member("ola@example.no"))
    assert web.client.post(f"/svar/{other}/need/Ja", data={"guard": guard}).status_code == 403
    r = web.client.post(f"/svar/{token}/need/Ja", data={"guard": guard}, headers={"sec-fetch-site": "cross-site"})
    assert r.status_code == 403
    assert responses_count(web) == 0


def test_a_token_acts_only_for_its_own_member_and_campaign(web: Web) -> None:
    kari = web.member()
    ola = web.member("ola@example.no")
    token = web.answer_token(kari, "klima-2019")
    guard = guard_of(web.client.get(f"/svar/{token}/need/Ja").text)
    web.client.post(f"/svar/{token}/need/Ja", data={"guard": guard})
    with web.store.transaction() as s:
        rows = s.execute(select(Response.campaign_id, Response.member_id)).all()
    assert rows == [("klima-2019", kari)]
    assert answers(web, ola) == {} and answers(web, kari) == {}


def test_forged_and_tampered_tokens_get_the_bad_link_page_and_write_nothing(web: Web) -> None:
    m = web.member()
    token = web.answer_token(m)
    payload, stamp, mac = token.split(".")
    tampered = f"{payload[:-2]}xy.{stamp}.{mac}"
    forged = "eyJtIjoxLCJjIjoib21icnVrLTIwMjIifQ.ZZZZZZ.AAAAAAAAAAAAAAAAAAAAAAAAAAA"
    from mailbot.tokens import Keys
    foreign = Keys(("someone-elses-key",)).link_token("answer", {"m": m, "c": web.survey.id})
    for bad in (tampered, forged, foreign, "x", token + "a"):
        for method in ("GET", "POST"):
            r = web.client.request(method, f"/svar/{bad}/need/Ja", data={"guard": "x"} if method == "POST" else None)
            assert r.status_code == 400, bad
            assert "Lenken virker ikke" in r.text
    assert responses_count(web) == 0


def test_after_close_the_link_says_closed_and_after_the_grace_period_expired(web: Web) -> None:
    m = web.member()
    token = web.answer_token(m)
    guard = guard_of(web.client.get(f"/svar/{token}/need/Ja").text)
    web.clock.now = oslo(2022, 12, 16, 8)
    r = web.client.post(f"/svar/{token}/need/Ja", data={"guard": guard})
    assert r.status_code == 410 and "Undersøkelsen er avsluttet" in r.text
    web.clock.now = web.survey.closes + timedelta(days=8)
    r = web.client.get(f"/svar/{token}/need/Ja")
    assert r.status_code == 410 and "Lenken er for gammel" in r.text
    assert "Lenken virker ikke" not in r.text
    assert responses_count(web) == 0


def test_replaying_a_post_records_the_same_answer_once(web: Web) -> None:
    m = web.member()
    token = web.answer_token(m)
    guard = guard_of(web.client.get(f"/svar/{token}/need/Ja").text)
    for _ in range(3):
        web.client.post(f"/svar/{token}/need/Ja", data={"guard": guard})
    with web.store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Answer)) == 1
    assert responses_count(web) == 1


def test_an_erased_member_s_link_records_nothing(web: Web) -> None:
    from mailbot import membership

    m = web.member()
    token = web.answer_token(m)
    guard = guard_of(web.client.get(f"/svar/{token}/need/Ja").text)
    with web.store.transaction() as s:
        membership.erase(s, m, web.clock.now, actor="test")
    assert web.client.post(f"/svar/{token}/need/Ja", data={"guard": guard}).status_code == 410
    assert responses_count(web) == 0


def test_every_page_carries_the_security_headers(web: Web) -> None:
    m = web.member()
    for path in ("/", "/bli-med", f"/svar/{web.answer_token(m)}", "/svar/bad", "/nope",
                 f"/avmeld/{web.unsubscribe_token(m)}"):
        r = web.client.get(path)
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "<script" not in r.text
