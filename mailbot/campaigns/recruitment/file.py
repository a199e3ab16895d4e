"""A recruitment file in schedules/: its meetings (or one committee), selection, approval, seed and
sign-up deadline; checked in the same three layers as every staff file (`mailbot.panel.files`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from mailbot.campaigns.audience_file import audience_of
from mailbot.campaigns.file_values import URL, AudienceField, dst_gaps
from mailbot.campaigns.recruitment.model import Meeting, Recruitment, Selection
from mailbot.panel.files import ID_PATTERN, Duration, Finding, LocalDateTime, StrictModel, as_local


class MeetingFile(StrictModel):
    id: str = Field(pattern=ID_PATTERN, max_length=30)
    title: str = Field(min_length=1)
    capacity: int = Field(ge=1)
    starts: LocalDateTime | None = None
    ends: LocalDateTime | None = None
    place: str = ""
    video_url: str = ""
    cancelled: bool = False


class RecruitmentFile(StrictModel):
    id: str = Field(pattern=ID_PATTERN)
    kind: Literal["recruitment"]
    title: str = Field(min_length=1)
    audience: AudienceField = None
    opens: LocalDateTime
    closes: LocalDateTime  # the sign-up deadline
    selection: Selection = Selection.FIRST_COME
    approval: bool = False
    seed: int = 0
    seats: int | None = Field(default=None, ge=1)  # a committee: one group of N seats, no meetings
    reminder: Duration = timedelta(days=1)
    offer_hours: int = Field(default=48, ge=1, le=24 * 14)
    language: Literal["nb", "nn", "en"] = "nb"
    intro: str = ""
    sessions: list[MeetingFile] = Field(default_factory=list)


def check_recruitment(f: RecruitmentFile, tz: ZoneInfo) -> list[Finding]:
    out = dst_gaps((("opens",), f.opens), (("closes",), f.closes), tz=tz)
    opens, closes = as_local(f.opens, tz), as_local(f.closes, tz)
    if closes <= opens:
        out.append((("closes",), f"closes ({closes:%Y-%m-%d %H:%M}) is not after opens ({opens:%Y-%m-%d %H:%M})",
                    "write the sign-up deadline, after opens"))
    if not f.sessions and f.seats is None:
        out.append((("kind",), "a recruitment needs [[sessions]], or seats = N for a committee",
                    "add [[sessions]] with id, title, capacity and starts, or seats = 6"))
    if f.sessions and f.seats is not None:
        out.append((("seats",), "seats is for a committee without sessions; each session has its own capacity",
                    "remove seats"))
    seen: set[str] = set()
    for i, m in enumerate(f.sessions):
        at = ("sessions", i)
        if m.id in seen:
            out.append(((*at, "id"), f"session id {m.id!r} is used twice", "give each session its own id"))
        seen.add(m.id)
        out += dst_gaps(((*at, "starts"), m.starts), ((*at, "ends"), m.ends), tz=tz)
        if m.ends is not None and m.starts is None:
            out.append(((*at, "ends"), f"session {m.id}: ends without starts", "add starts = 2020-06-16T17:00"))
        if m.starts is not None and m.ends is not None and as_local(m.ends, tz) <= as_local(m.starts, tz):
            out.append(((*at, "ends"), f"session {m.id}: ends is not after starts", "write when it ends"))
        if m.video_url and not URL.fullmatch(m.video_url.strip()):
            out.append(((*at, "video_url"), f"session {m.id}: {m.video_url!r} is not a web address",
                        'write e.g. "https://teams.microsoft.com/l/…"'))
    return out


def recruitment(f: RecruitmentFile, file: Path, tz: ZoneInfo) -> Recruitment:
    if f.sessions:
        meetings = tuple(
            Meeting(id=m.id, number=i, title=m.title, capacity=m.capacity,
                    starts=as_local(m.starts, tz) if m.starts else None,
                    ends=as_local(m.ends, tz) if m.ends else (as_local(m.starts, tz) + timedelta(hours=2)
                                                           if m.starts else None),
                    place=m.place, video_url=m.video_url.strip(), cancelled=m.cancelled)
            for i, m in enumerate(f.sessions, start=1)
        )
    else:
        meetings = (Meeting(id="utvalg", number=1, title=f.title, capacity=f.seats or 1),)
    return Recruitment(
        id=f.id, title=f.title, opens=as_local(f.opens, tz), closes=as_local(f.closes, tz), meetings=meetings,
        selection=f.selection, approval=f.approval, seed=f.seed, audience=audience_of(f.audience),
        reminder_before=f.reminder, offer_hours=f.offer_hours, language=f.language, intro=f.intro, source=file,
    )


FILE = (RecruitmentFile, check_recruitment, recruitment)
