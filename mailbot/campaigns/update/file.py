"""An update file in schedules/: when it is sent, its body, and who gets it; checked in the same three
layers as every staff file (`mailbot.panel.files`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from mailbot.campaigns.audience_file import audience_of
from mailbot.campaigns.file_values import AudienceField, dst_gaps
from mailbot.campaigns.update.model import Update, UpdateAudience
from mailbot.panel.files import ID_PATTERN, Finding, LocalDateTime, StrictModel, as_local


class UpdateFile(StrictModel):
    id: str = Field(pattern=ID_PATTERN)
    kind: Literal["update"]
    title: str = Field(min_length=1)
    audience: AudienceField = None
    participants: list[str] = Field(default_factory=list)  # course ids
    volunteers: list[str] = Field(default_factory=list)  # recruitment or course ids
    at: LocalDateTime
    body: str = Field(min_length=1)
    signature: str = ""
    language: Literal["nb", "nn", "en"] = "nb"


def check_update(f: UpdateFile, tz: ZoneInfo) -> list[Finding]:
    return dst_gaps((("at",), f.at), tz=tz)


def update(f: UpdateFile, file: Path, tz: ZoneInfo) -> Update:
    return Update(id=f.id, title=f.title, opens=as_local(f.at, tz), body=f.body.strip(),
                  audience=audience_of(f.audience),
                  among=UpdateAudience(tuple(f.participants), tuple(f.volunteers)), signature=f.signature.strip(),
                  language=f.language, source=file)


FILE = (UpdateFile, check_update, update)
