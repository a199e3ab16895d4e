"""Calendar invitations (.ics, RFC 5545) for lessons and workshops, made with the icalendar library.

Every event has a stable UID (campaign, group, lesson) so a calendar updates
the event it already has instead of adding a second one: a moved workshop is
sent again with a higher SEQUENCE (METHOD:REQUEST), a cancelled one with
METHOD:CANCEL. Times carry their TZID and the file its VTIMEZONE, so 18:00 in
Oslo is 18:00 in every client, in summer and winter time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//mailbot//innbyggerpanel//NO"


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    starts: datetime
    ends: datetime
    summary: str
    description: str = ""
    location: str = ""
    url: str = ""
    sequence: int = 0


def uid(campaign_id: str, group_id: str, domain: str, lesson: int | None = None) -> str:
    """The same workshop or lesson always has the same UID."""
    tail = f"-{lesson}" if lesson is not None else ""
    return f"{campaign_id}-{group_id}{tail}@{domain}"


def invitation(events: Sequence[CalendarEvent], *, organizer: str, organizer_name: str, attendee: str,
               zone: ZoneInfo, now: datetime, cancel: bool = False) -> bytes:
    """An iTIP message: METHOD:REQUEST (add or update the events) or METHOD:CANCEL (remove them)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if cancel else "REQUEST")
    for e in events:
        ev = Event()
        ev.add("uid", e.uid)
        ev.add("dtstamp", now.astimezone(ZoneInfo("UTC")))
        ev.add("dtstart", e.starts.astimezone(zone))
        ev.add("dtend", e.ends.astimezone(zone))
        ev.add("summary", e.summary)
        if e.description:
            ev.add("description", e.description)
        if e.location:
            ev.add("location", e.location)
        if e.url:
            ev.add("url", e.url)
        ev.add("sequence", e.sequence)
        ev.add("status", "CANCELLED" if cancel else "CONFIRMED")
        ev.add("transp", "OPAQUE")
        org = vCalAddress(f"mailto:{organizer}")
        org.params["cn"] = vText(organizer_name)
        ev.add("organizer", org)
        who = vCalAddress(f"mailto:{attendee}")
        who.params["role"] = vText("REQ-PARTICIPANT")
        who.params["partstat"] = vText("ACCEPTED")
        who.params["rsvp"] = vText("FALSE")
        ev.add("attendee", who)
        cal.add_component(ev)
    if events:
        # The VTIMEZONE covers the years of these events: the same offsets to every client, a file a
        # tenth of the size (and time) of one spanning 1970-2038.
        first = min(e.starts for e in events).astimezone(zone).date()
        last = max(e.ends for e in events).astimezone(zone).date()
        cal.add_missing_timezones(first_date=date(first.year - 1, 1, 1), last_date=date(last.year + 2, 1, 1))
    return cal.to_ical()
