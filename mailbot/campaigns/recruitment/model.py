"""A recruitment: an invitation to volunteer for sessions with limited seats, and how seats are given."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from mailbot.campaigns.questions import Audience


class Selection(StrEnum):
    FIRST_COME = "first-come"  # a seat at the moment of answering, while seats last
    LOTTERY = "lottery"  # volunteers drawn at the sign-up deadline (seeded: reproducible)
    STRATIFIED = "stratified"  # drawn so age bands and districts are represented in proportion


@dataclass(frozen=True)
class Meeting:
    """One workshop (or, for a committee, the one session-less group) with its seats."""

    id: str
    number: int  # 1-based: what residents type
    title: str
    capacity: int
    starts: datetime | None = None  # None: a committee, a group without a meeting time
    ends: datetime | None = None
    place: str = ""
    video_url: str = ""
    cancelled: bool = False
    sequence: int = 0  # raised by staff when the session moves: calendars update the event


@dataclass(frozen=True)
class Recruitment:
    """An invitation to volunteer for sessions with limited seats; selection, waitlist and calendar invites."""

    id: str
    title: str
    opens: datetime
    closes: datetime  # the sign-up deadline (lottery and stratified draw then)
    meetings: tuple[Meeting, ...]
    selection: Selection = Selection.FIRST_COME
    approval: bool = False  # the draw waits for `mailbot selection approve`
    seed: int = 0  # lottery seed: the same seed draws the same people
    audience: Audience = field(default_factory=Audience)
    reminder_before: timedelta = timedelta(days=1)
    offer_hours: int = 48
    language: str = "nb"
    intro: str = ""
    source: Path | None = None

    kind = "recruitment"

    @property
    def is_committee(self) -> bool:
        return len(self.meetings) == 1 and self.meetings[0].starts is None

    def meeting(self, meeting_id: str) -> Meeting | None:
        return next((x for x in self.meetings if x.id == meeting_id), None)

    def meeting_by_number(self, number: int) -> Meeting | None:
        return next((x for x in self.meetings if x.number == number), None)
