"""Calendar invitations: RFC 5545 with VTIMEZONE, METHOD REQUEST or CANCEL, stable UIDs, round-trip."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar

from mailbot.calendar import CalendarEvent, invitation, uid
from tests.conftest import OSLO

NOW = datetime(2020, 6, 3, 12, tzinfo=OSLO)


def _event(sequence: int = 0, hour: int = 17) -> CalendarEvent:
    return CalendarEvent(uid("min-side-2020", "workshop-1", "baerum.example.no"),
                         datetime(2020, 6, 16, hour, tzinfo=OSLO), datetime(2020, 6, 16, hour + 2, tzinfo=OSLO),
                         "Brukertest av «Min side»: Workshop 1",
                         location="Bærum rådhus", sequence=sequence)


def _read(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def test_an_invitation_round_trips_with_its_zone_and_method():
    cal = _read(invitation([_event()], organizer="panel@baerum.example.no", organizer_name="Innbyggerpanelet",
                           attendee="kari@example.no", zone=OSLO, now=NOW))
    assert str(cal["METHOD"]) == "REQUEST"
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Oslo"]
    event = cal.walk("VEVENT")[0]
    start = event.decoded("DTSTART")
    assert (start.hour, start.tzinfo.key) == (17, "Europe/Oslo")
    assert event.decoded("DTSTART").utcoffset().total_seconds() == 7200
    assert str(event["UID"]) == "min-side-2020-workshop-1@baerum.example.no"
    assert str(event["SUMMARY"]) == "Brukertest av «Min side»: Workshop 1"
    assert str(event["ATTENDEE"]) == "mailto:kari@example.no"


def test_a_moved_session_keeps_its_uid_with_a_higher_sequence():
    first = _read(invitation([_event()], organizer="p@x.no", organizer_name="P", attendee="k@x.no", zone=OSLO,
                             now=NOW)).walk("VEVENT")[0]
    moved = _read(invitation([_event(sequence=1, hour=18)], organizer="p@x.no", organizer_name="P",
                             attendee="k@x.no", zone=OSLO, now=NOW)).walk("VEVENT")[0]
    assert moved["UID"] == first["UID"]
    assert int(moved["SEQUENCE"]) == int(first["SEQUENCE"]) + 1
    assert moved.decoded("DTSTART").hour == 18


def test_a_cancelled_session_is_sent_with_method_cancel():
    cal = _read(invitation([_event(sequence=2)], organizer="p@x.no", organizer_name="P", attendee="k@x.no",
                           zone=OSLO, now=NOW, cancel=True))
    assert str(cal["METHOD"]) == "CANCEL"
    assert str(cal.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


def test_a_winter_lesson_is_at_18_local_time_in_the_file():
    event = CalendarEvent("x@y", datetime(2020, 11, 3, 18, tzinfo=OSLO), datetime(2020, 11, 3, 19, tzinfo=OSLO), "L")
    data = invitation([event], organizer="p@x.no", organizer_name="P", attendee="k@x.no", zone=OSLO, now=NOW)
    assert b"DTSTART;TZID=Europe/Oslo:20201103T180000" in data
