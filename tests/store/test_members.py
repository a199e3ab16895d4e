"""The member store on SQLite and PostgreSQL: import, update, status, and streaming audiences."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from mailbot.panel.settings import Settings
from mailbot.people import MemberStatus
from mailbot.roster import RosterRow
from mailbot.store import Store
from mailbot.store import members as member_store
from mailbot.store.models import Answer, Member, MemberTag, Response

NOW = datetime(2022, 11, 20, 12, 0, tzinfo=UTC)


def row(email: str, **kw: object) -> RosterRow:
    return RosterRow(line=kw.pop("line", 2), email=email, **kw)  # type: ignore[arg-type]


def add(store: Store, *rows: RosterRow, now: datetime = NOW) -> tuple[int, int]:
    with store.transaction() as s:
        return member_store.upsert_members(s, rows, now)


def answer(
    store: Store,
    member_id: int,
    campaign: str,
    question: str,
    *choices: str,
    number: int | None = None,
) -> None:
    with store.transaction() as s:
        r = Response(campaign_id=campaign, member_id=member_id, source="reply", first_at=NOW, updated_at=NOW)
        s.add(r)
        s.flush()
        if number is not None:
            s.add(Answer(response_id=r.id, campaign_id=campaign, question_id=question, number=number))
        for c in choices:
            s.add(Answer(response_id=r.id, campaign_id=campaign, question_id=question, choice=c))


def profiles(
    store: Store,
    settings: Settings,
    campaigns: list[str] | None = None,
    today: date = date(2022, 12, 1),
    batch: int = 1000,
) -> list[list]:
    with store.transaction() as s:
        return list(member_store.active_member_profiles(s, campaigns or [], settings, today, batch=batch))


def test_import_adds_members_with_tags(store: Store) -> None:
    assert add(
        store,
        row(
            "ola@example.no",
            name="Ola",
            language="nn",
            birth_year=1956,
            postcode="1338",
            tags=("frivillig", "innspillkart"),
        ),
        row("kari@example.no"),
    ) == (2, 0)
    with store.transaction() as s:
        ola = member_store.member_by_email(s, " OLA@Example.no ")
        assert ola is not None
        assert (ola.name, ola.language, ola.birth_year, ola.postcode, ola.status, ola.tags) == (
            "Ola",
            "nn",
            1956,
            "1338",
            MemberStatus.ACTIVE,
            ("frivillig", "innspillkart"),
        )
        kari = member_store.member_by_email(s, "kari@example.no")
        assert kari is not None and kari.language == "nb" and kari.joined_at == NOW
        assert member_store.get_member(s, ola.id) == ola
        assert member_store.get_member(s, 999_999) is None
        assert member_store.member_by_email(s, "nobody@example.no") is None


def test_importing_again_updates_instead_of_doubling(store: Store) -> None:
    add(
        store, row("ola@example.no", name="Ola", postcode="1338", tags=("frivillig",)), row("kari@example.no")
    )
    later = NOW + timedelta(days=1)
    added, updated = add(
        store,
        row("OLA@example.no", name="Ola Nordmann", tags=("innspillkart",)),
        row("kari@example.no"),
        row("per@example.no"),
        now=later,
    )
    assert (added, updated) == (1, 1)
    with store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 3
        ola = member_store.member_by_email(s, "ola@example.no")
        assert ola is not None
        assert (ola.name, ola.postcode, ola.tags, ola.changed_at) == (
            "Ola Nordmann",
            "1338",
            ("frivillig", "innspillkart"),
            later,
        )  # empty postcode keeps the old one
        kari = member_store.member_by_email(s, "kari@example.no")
        assert kari is not None and kari.changed_at == NOW


def test_a_new_tag_alone_counts_as_an_update(store: Store) -> None:
    add(store, row("ola@example.no", tags=("a",)))
    assert add(store, row("ola@example.no", tags=("a", "b"))) == (0, 1)
    assert add(store, row("ola@example.no", tags=("b",))) == (0, 0)


def test_an_import_never_resubscribes_a_member_who_left(store: Store) -> None:
    add(store, row("ola@example.no"))
    with store.transaction() as s:
        ola = member_store.member_by_email(s, "ola@example.no")
        assert ola is not None
        assert member_store.set_status(s, ola.id, MemberStatus.UNSUBSCRIBED, "asked by email", NOW)
    add(store, row("ola@example.no", name="Ola"))
    with store.transaction() as s:
        again = member_store.member_by_email(s, "ola@example.no")
        assert again is not None and again.status == MemberStatus.UNSUBSCRIBED and again.name == "Ola"


def test_status_changes_and_erased_is_final(store: Store) -> None:
    add(store, row("ola@example.no"))
    with store.transaction() as s:
        ola = member_store.member_by_email(s, "ola@example.no")
        assert ola is not None
        assert member_store.set_status(
            s, ola.id, "paused", "ferie", NOW, paused_until=NOW + timedelta(days=7)
        )
        assert not member_store.set_status(
            s, ola.id, "paused", "ferie", NOW, paused_until=NOW + timedelta(days=7)
        )
        paused = member_store.get_member(s, ola.id)
        assert paused is not None and paused.status == MemberStatus.PAUSED and paused.status_reason == "ferie"
        assert paused.paused_until == NOW + timedelta(days=7)
        assert member_store.set_status(s, ola.id, MemberStatus.ERASED, "asked", NOW)
        assert not member_store.set_status(s, ola.id, MemberStatus.ACTIVE, "again", NOW)
        with pytest.raises(member_store.UnknownMember):
            member_store.set_status(s, 999_999, MemberStatus.ACTIVE, None, NOW)


def test_active_profiles_skip_those_who_left_and_wake_paused_ones(store: Store, settings: Settings) -> None:
    add(
        store,
        *(
            row(f"m{i}@example.no", postcode="1310", birth_year=1980, tags=("t",) if i == 0 else ())
            for i in range(6)
        ),
    )
    with store.transaction() as s:
        ids = [m.id for m in member_store.list_members(s)]
        member_store.set_status(s, ids[1], MemberStatus.UNSUBSCRIBED, None, NOW)
        member_store.set_status(s, ids[2], MemberStatus.UNDELIVERABLE, "hard bounce", NOW)
        member_store.set_status(s, ids[3], MemberStatus.PAUSED, None, NOW)  # until they resume
        member_store.set_status(
            s, ids[4], MemberStatus.PAUSED, None, NOW, paused_until=datetime(2022, 11, 30, 23, 0, tzinfo=UTC)
        )  # 1 Dec 00:00 in Oslo
    (batch,) = profiles(store, settings, today=date(2022, 12, 1))
    assert [p.member_id for p in batch] == [ids[0], ids[4], ids[5]]
    first = batch[0]
    assert (first.district, first.birth_year, first.tags, first.language) == (
        "Sandvika",
        1980,
        frozenset({"t"}),
        "nb",
    )
    (day_before,) = profiles(store, settings, today=date(2022, 11, 30))
    assert [p.member_id for p in day_before] == [ids[0], ids[5]]
    exact = profiles(store, settings, today=datetime(2022, 11, 30, 23, 30, tzinfo=UTC))
    assert [p.member_id for b in exact for p in b] == [ids[0], ids[4], ids[5]]


def test_active_profiles_come_in_batches_in_id_order(store: Store, settings: Settings) -> None:
    add(store, *(row(f"m{i:02}@example.no") for i in range(25)))
    batches = profiles(store, settings, batch=10)
    assert [len(b) for b in batches] == [10, 10, 5]
    ids = [p.member_id for b in batches for p in b]
    assert ids == sorted(ids) and len(set(ids)) == 25


def test_active_profiles_carry_the_earlier_answers_asked_for(store: Store, settings: Settings) -> None:
    add(store, row("ola@example.no"), row("kari@example.no"), row("per@example.no"))
    with store.transaction() as s:
        ola, kari, per = (m.id for m in member_store.list_members(s))
    answer(store, ola, "sandvika-byrom-2020", "used_map", "Ja")
    answer(store, kari, "sandvika-byrom-2020", "used_map", "Nei")
    answer(store, ola, "ombruk-2022", "goods", "Møbler", "Bøker")
    answer(store, kari, "ombruk-2022", "satisfaction", number=4)
    answer(store, per, "klima-2019", "known", "Nei")
    (batch,) = profiles(store, settings, ["sandvika-byrom-2020", "ombruk-2022"])
    by_id = {p.member_id: p.answers for p in batch}
    assert by_id[ola] == {
        ("sandvika-byrom-2020", "used_map"): "Ja",
        ("ombruk-2022", "goods"): ("Møbler", "Bøker"),
    }
    assert by_id[kari] == {("sandvika-byrom-2020", "used_map"): "Nei", ("ombruk-2022", "satisfaction"): 4}
    assert by_id[per] == {}  # klima-2019 was not asked for


def test_tags_of_many_members_are_loaded_with_the_batch(store: Store) -> None:
    add(store, *(row(f"m{i}@example.no", tags=("a", "b")) for i in range(1200)))
    with store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(MemberTag)) == 2400
        listed = member_store.list_members(s)
    assert len(listed) == 1200 and all(m.tags == ("a", "b") for m in listed)


@pytest.mark.slow
def test_a_hundred_thousand_residents_import_in_seconds(sqlite_store: Store) -> None:
    rows = [
        row(
            f"innbygger{i}@example.no",
            name=f"Innbygger {i}",
            birth_year=1940 + i % 60,
            postcode=str(1300 + i % 70),
            tags=("frivillig",) if i % 10 == 0 else (),
        )
        for i in range(100_000)
    ]
    started = time.perf_counter()
    assert add(sqlite_store, *rows) == (100_000, 0)
    first = time.perf_counter() - started
    started = time.perf_counter()
    assert add(sqlite_store, *rows) == (0, 0)
    again = time.perf_counter() - started
    assert first < 30 and again < 30, (first, again)
