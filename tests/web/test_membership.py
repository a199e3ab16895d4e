"""Leaving, pausing, joining, profile, address change, export and erasure, through the served app."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import func, select

from mailbot import membership
from mailbot.membership_models import Consent, Signup, StaffAudit
from mailbot.people import MemberStatus
from mailbot.store import responses as response_store
from mailbot.store.members import get_member
from mailbot.store.models import Inbound, Member, MemberTag, Outbox, Response
from tests.web.conftest import Web, guard_of


def status(web: Web, member_id: int) -> MemberStatus:
    with web.store.transaction() as s:
        m = get_member(s, member_id)
        assert m is not None
        return m.status


def queued(web: Web, kind: str) -> list[dict[str, object]]:
    with web.store.transaction() as s:
        rows = s.scalars(select(Outbox.payload).where(Outbox.step.like(f"notice-membership-{kind}-%"))).all()
    return [json.loads(p) for p in rows if p]


def link_in(payload: dict[str, object], key: str) -> str:
    context = payload["context"]
    assert isinstance(context, dict)
    url = str(context[key])
    return re.sub(r"^https?://[^/]+", "", url)


# ---------------------------------------------------------------- leaving


def test_rfc8058_one_click_post_unsubscribes_at_once(web: Web) -> None:
    m = web.member()
    r = web.client.post(f"/avmeld/{web.unsubscribe_token(m)}", data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200
    assert status(web, m) == MemberStatus.UNSUBSCRIBED


def test_get_of_the_unsubscribe_link_only_shows_a_button(web: Web) -> None:
    m = web.member()
    r = web.client.get(f"/avmeld/{web.unsubscribe_token(m)}")
    assert r.status_code == 200 and "Meld meg av" in r.text
    assert status(web, m) == MemberStatus.ACTIVE


def test_the_button_unsubscribes_and_the_member_can_join_again(web: Web) -> None:
    m = web.member()
    url = f"/avmeld/{web.unsubscribe_token(m)}"
    guard = guard_of(web.client.get(url).text)
    r = web.client.post(url, data={"guard": guard, "action": "leave"})
    assert "Du er meldt av" in r.text and status(web, m) == MemberStatus.UNSUBSCRIBED
    r = web.client.post(url, data={"guard": guard, "action": "rejoin"})
    assert "Velkommen tilbake" in r.text and status(web, m) == MemberStatus.ACTIVE
    with web.store.transaction() as s:
        assert s.scalar(select(Consent.via).where(Consent.member_id == m)) == "web-rejoin"


def test_a_leave_form_without_its_guard_changes_nothing(web: Web) -> None:
    m = web.member()
    r = web.client.post(f"/avmeld/{web.unsubscribe_token(m)}", data={"action": "leave"})
    assert r.status_code == 403 and status(web, m) == MemberStatus.ACTIVE


def test_pause_until_a_date_then_resume(web: Web) -> None:
    m = web.member()
    url = f"/avmeld/{web.unsubscribe_token(m)}"
    guard = guard_of(web.client.get(url).text)
    r = web.client.post(url, data={"guard": guard, "action": "pause", "until": "2023-03-01"})
    assert r.status_code == 200 and "Du har pause" in r.text
    with web.store.transaction() as s:
        member = get_member(s, m)
        assert member is not None and member.status == MemberStatus.PAUSED
        assert member.paused_until is not None
        assert member.paused_until.date().isoformat() in ("2023-02-28", "2023-03-01")
    bad = web.client.post(url, data={"guard": guard, "action": "pause", "until": "2021-01-01"})
    assert bad.status_code == 400
    web.client.post(url, data={"guard": guard, "action": "resume"})
    assert status(web, m) == MemberStatus.ACTIVE


# ---------------------------------------------------------------- joining


def join_form(web: Web, **values: str) -> dict[str, str]:
    page = web.client.get("/bli-med")
    data = {"guard": guard_of(page.text), "language": "nb", "email": "ny@example.no", "birth_year": "1990",
            "postcode": "1338", "consent": "yes"}
    data.update(values)
    return data


def test_join_by_form_then_confirm_by_link_makes_a_member_with_consent_and_a_welcome(web: Web) -> None:
    r = web.client.post("/bli-med", data=join_form(web))
    assert r.status_code == 200 and "Sjekk e-posten din" in r.text
    with web.store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 0  # not before confirmation
    [confirm] = queued(web, "confirm")
    assert confirm["to"] == {"email": "ny@example.no", "language": "nb"}
    url = link_in(confirm, "confirm_url")
    page = web.client.get(url)
    assert page.status_code == 200 and "Bekreft og bli med" in page.text
    with web.store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 0  # GET confirms nothing
    r = web.client.post(url, data={"guard": guard_of(page.text)})
    assert r.status_code == 200 and "Velkommen i innbyggerpanelet" in r.text
    with web.store.transaction() as s:
        member = s.scalars(select(Member)).one()
        consent = s.scalars(select(Consent)).one()
    assert (member.email, member.birth_year, member.postcode, member.status) == ("ny@example.no", 1990, "1338",
                                                                                   "active")
    assert consent.via == "web" and consent.wording_version.startswith("nb-") and "samtykker" in consent.wording
    assert len(queued(web, "welcome")) == 1


def test_join_page_is_the_same_for_members_and_strangers(web: Web) -> None:
    web.member("kari.nordmann@example.no")
    known = web.client.post("/bli-med", data=join_form(web, email="Kari.Nordmann@example.no"))
    unknown = web.client.post("/bli-med", data=join_form(web, email="fremmed@example.no"))
    strip = re.compile(r'value="[^"]*"')
    assert known.status_code == unknown.status_code == 200
    assert strip.sub("", known.text) == strip.sub("", unknown.text)
    assert len(queued(web, "already")) == 1 and len(queued(web, "confirm")) == 1


def test_join_checks_age_postcode_consent_and_address(web: Web) -> None:
    too_young = web.client.post("/bli-med", data=join_form(web, birth_year="2015"))
    assert too_young.status_code == 400 and "over 15" in too_young.text
    elsewhere = web.client.post("/bli-med", data=join_form(web, postcode="0150"))
    assert elsewhere.status_code == 400 and 'id="postcode-error"' in elsewhere.text
    no_consent = join_form(web)
    del no_consent["consent"]
    assert web.client.post("/bli-med", data=no_consent).status_code == 400
    assert web.client.post("/bli-med", data=join_form(web, email="ikke-en-adresse")).status_code == 400
    assert web.client.post("/bli-med", data=join_form(web, guard="forged")).status_code == 400
    assert queued(web, "confirm") == []


def test_join_by_email_asks_birth_year_postcode_and_consent_on_the_confirmation_page(web: Web) -> None:
    with web.store.transaction() as s:
        result = membership.request_join(s, web.settings, web.keys, "Epost@Example.no", web.clock.now)
    assert result.outcome == membership.JoinOutcome.CONFIRMATION_SENT
    url = link_in(queued(web, "confirm")[0], "confirm_url")
    page = web.client.get(url)
    assert 'id="birth_year"' in page.text and 'id="consent"' in page.text
    missing = web.client.post(url, data={"guard": guard_of(page.text), "birth_year": "1960", "postcode": "1338"})
    assert missing.status_code == 400
    done = web.client.post(url, data={"guard": guard_of(page.text), "birth_year": "1960", "postcode": "1338",
                                      "consent": "yes"})
    assert done.status_code == 200
    with web.store.transaction() as s:
        assert s.scalar(select(Member.email)) == "epost@example.no"
        assert s.scalar(select(Consent.via)) == "email"


def test_an_expired_confirmation_link_gets_its_own_page_and_makes_no_member(web: Web) -> None:
    web.client.post("/bli-med", data=join_form(web))
    url = link_in(queued(web, "confirm")[0], "confirm_url")
    web.clock.now += timedelta(days=8)
    r = web.client.get(url)
    assert r.status_code == 410 and "Meld deg på igjen" in r.text
    with web.store.transaction() as s:
        assert membership.purge_expired(s, web.clock.now) == 1
        assert s.scalar(select(func.count()).select_from(Signup)) == 0
        assert s.scalar(select(func.count()).select_from(Member)) == 0


def test_at_most_three_confirmation_emails_a_day_to_one_address(web: Web) -> None:
    for _ in range(5):
        web.client.post("/bli-med", data=join_form(web))
    assert len(queued(web, "confirm")) == 3


# ---------------------------------------------------------------- profile and address


def test_profile_changes_language_postcode_and_topics_but_keeps_staff_tags(web: Web) -> None:
    m = web.member(tags=("innspillkart",))
    url = "/profil/" + web.keys.link_token("profile", {"m": m})
    page = web.client.get(url)
    assert page.status_code == 200
    r = web.client.post(url, data={"guard": guard_of(page.text), "action": "save", "language": "nn",
                                   "birth_year": "1971", "postcode": "1310", "topics": ["klima", "avfall"]})
    assert r.status_code == 200 and 'lang="nn"' in r.text and "Sandvika" in r.text
    with web.store.transaction() as s:
        member = get_member(s, m)
    assert member is not None
    assert (member.language, member.birth_year, member.postcode) == ("nn", 1971, "1310")
    assert set(member.tags) == {"innspillkart", "klima", "avfall"}


def test_change_of_address_takes_effect_only_when_confirmed_from_the_new_address(web: Web) -> None:
    m = web.member()
    url = "/profil/" + web.keys.link_token("profile", {"m": m})
    page = web.client.get(url)
    web.client.post(url, data={"guard": guard_of(page.text), "action": "email", "new_email": "ny@example.no"})
    [request] = queued(web, "email-confirm")
    assert request["to"] == {"email": "ny@example.no", "language": "nb"}
    confirm = link_in(request, "confirm_url")
    assert get_email(web, m) == "kari.nordmann@example.no"
    page = web.client.get(confirm)
    assert get_email(web, m) == "kari.nordmann@example.no"
    web.client.post(confirm, data={"guard": guard_of(page.text)})
    assert get_email(web, m) == "ny@example.no"
    [notice] = queued(web, "email-changed")
    assert notice["to"] == {"email": "kari.nordmann@example.no", "language": "nb"}


def get_email(web: Web, member_id: int) -> str | None:
    with web.store.transaction() as s:
        return s.get(Member, member_id).email  # type: ignore[union-attr]


# ---------------------------------------------------------------- export and erasure


def test_export_by_link_gives_everything_as_json_and_is_audited(web: Web) -> None:
    m = web.member(tags=("klima",))
    with web.store.transaction() as s:
        response_store.record(s, web.survey, m, {"need": "Ja"}, source="click", after_step=None, now=web.clock.now)
        assert membership.request_export(s, web.settings, web.keys, m, web.clock.now)
    url = link_in(queued(web, "export")[0], "export_url")
    page = web.client.get(url)
    r = web.client.post(url, data={"guard": guard_of(page.text)})
    assert r.headers["content-type"].startswith("application/json")
    data = r.json()
    assert data["member"]["email"] == "kari.nordmann@example.no" and data["member"]["tags"] == ["klima"]
    assert data["responses"][0]["answers"][0]["choice"] == "Ja"
    with web.store.transaction() as s:
        assert s.scalar(select(StaffAudit.action)) == "export"


def test_erasure_by_link_keeps_answers_anonymously_and_forgets_the_person(web: Web) -> None:
    m = web.member(tags=("klima",))
    other = web.member("ola@example.no")
    now = web.clock.now
    with web.store.transaction() as s:
        response_store.record(s, web.survey, m, {"need": "Ja"}, source="reply", after_step=None, now=now)
        response_store.record(s, web.survey, other, {"need": "Nei"}, source="reply", after_step=None, now=now)
        s.add(Inbound(received_at=now, via="smtp", envelope_from="kari.nordmann@example.no", digest="d1",
                      raw=b"From: kari.nordmann@example.no\r\n\r\n1 A", status="done", member_id=m))
        from mailbot.store import outbox
        outbox.queue_one(s, web.survey.id, "invitation", m, now)
        assert membership.request_erasure(s, web.settings, web.keys, m, now)
    url = link_in(queued(web, "erase-confirm")[0], "confirm_url")
    page = web.client.get(url)
    assert status(web, m) == MemberStatus.ACTIVE  # GET erases nothing
    r = web.client.post(url, data={"guard": guard_of(page.text)})
    assert r.status_code == 200
    with web.store.transaction() as s:
        member = s.get(Member, m)
        assert member is not None
        assert (member.email, member.name, member.birth_year, member.postcode) == (None, None, None, None)
        assert member.status == "erased"
        assert s.scalar(select(func.count()).select_from(MemberTag)) == 0
        assert sorted(s.execute(select(Response.member_id)).scalars(), key=str) == sorted([None, other], key=str)
        assert s.scalar(select(func.count()).select_from(Response)) == 2  # both answers still count
        inbound = s.scalars(select(Inbound)).one()
        assert inbound.raw is None and inbound.envelope_from is None and inbound.member_id is None
        assert s.scalar(select(func.count()).select_from(Outbox).where(Outbox.member_id == m)) == 0
        assert all(p is None or "kari" not in p for p in s.scalars(select(Outbox.payload)))
        audit = s.scalars(select(StaffAudit)).one()
        assert audit.action == "erase" and "kari" not in (audit.detail or "")
    assert web.client.get(url).status_code == 410  # the link names nobody any more
