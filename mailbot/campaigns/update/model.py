"""A status update: one email to an audience at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from mailbot.campaigns.questions import Audience


@dataclass(frozen=True)
class UpdateAudience:
    """Who gets a status update, beyond the panel audience filters: participants or volunteers of campaigns."""

    participants: tuple[str, ...] = ()  # course ids: everyone enrolled (seated or paused)
    volunteers: tuple[str, ...] = ()  # recruitment or course ids: everyone who said yes, seated or not


@dataclass(frozen=True)
class Update:
    """A one-off email ("Oppdatering om Hverdagsgledeprosjektet") to an audience at a time."""

    id: str
    title: str
    opens: datetime  # when it is sent
    body: str
    audience: Audience = field(default_factory=Audience)
    among: UpdateAudience = field(default_factory=UpdateAudience)
    signature: str = ""
    language: str = "nb"
    source: Path | None = None

    kind = "update"

    @property
    def closes(self) -> datetime:
        return self.opens
