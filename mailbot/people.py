"""Residents as the core sees them: plain immutable data, no database rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from mailbot.campaigns import AnswerValue


class MemberStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # until paused_until
    UNSUBSCRIBED = "unsubscribed"
    UNDELIVERABLE = "undeliverable"  # hard bounces
    ERASED = "erased"  # personal data removed; answers kept anonymously


@dataclass(frozen=True)
class Recipient:
    """Who an email is addressed to."""

    member_id: int
    email: str
    name: str | None = None
    language: str = "nb"


@dataclass(frozen=True)
class MemberProfile:
    """What audience filters look at. `answers` maps (campaign id, question id) to earlier answers."""

    member_id: int
    language: str = "nb"
    birth_year: int | None = None
    postcode: str | None = None
    district: str | None = None
    tags: frozenset[str] = frozenset()
    answers: dict[tuple[str, str], AnswerValue] = field(default_factory=dict)
