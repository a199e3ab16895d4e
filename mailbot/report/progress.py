"""How a running campaign is doing: invited, delivered, bounced, answered, and answers per day.

Counts come from the outbox (a row per member and step; status "sent" means
the mail server took it), inbound mail classified as "bounce", and responses.
Answers per day are grouped by the hour in the database (UTC) and then put on
the panel's local calendar, so a day runs midnight to midnight in Oslo across
DST changes without any per-database time-zone arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from mailbot.campaigns import Survey
from mailbot.states import OutboxState
from mailbot.store.models import Answer, Inbound, Outbox, Response

SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Progress:
    campaign_id: str
    invited: int  # invitations queued or sent
    delivered: dict[str, int]  # step -> emails the mail server accepted
    bounced: int
    answered: int
    per_day: tuple[tuple[date, int], ...]  # new respondents per local day, from opening to today

    @property
    def rate(self) -> float:
        sent = self.delivered.get("invitation", 0)
        return self.answered / sent if sent else 0.0

    def cumulative_rates(self) -> list[float]:
        sent = self.delivered.get("invitation", 0)
        total, out = 0, []
        for _, n in self.per_day:
            total += n
            out.append(total / sent if sent else 0.0)
        return out


def progress(session: Session, survey: Survey, zone: ZoneInfo, today: date) -> Progress:
    invited = session.scalar(
        select(func.count()).select_from(Outbox)
        .where(Outbox.campaign_id == survey.id, Outbox.step == "invitation")
    ) or 0
    delivered = {step: n for step, n in session.execute(
        select(Outbox.step, func.count()).where(Outbox.campaign_id == survey.id,
                                                Outbox.status == OutboxState.SENT.value)
        .group_by(Outbox.step))}
    bounced = session.scalar(
        select(func.count()).select_from(Inbound)
        .where(Inbound.campaign_id == survey.id, Inbound.kind == "bounce")
    ) or 0
    hour = _hour_bucket(session, Response.first_at)
    per_hour = session.execute(
        select(hour, func.count()).where(Response.campaign_id == survey.id,
                                         exists().where(Answer.response_id == Response.id))
        .group_by(hour)
    ).all()
    by_day: dict[date, int] = {}
    for bucket, n in per_hour:
        at = datetime.strptime(str(bucket)[:13], "%Y-%m-%d %H").replace(tzinfo=UTC)
        d = at.astimezone(zone).date()
        by_day[d] = by_day.get(d, 0) + n
    first = survey.opens.astimezone(zone).date()
    last = min(today, survey.closes.astimezone(zone).date())
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)] if last >= first else []
    extra = sorted(d for d in by_day if d not in days)  # answers outside the window (staff entries)
    per_day = tuple((d, by_day.get(d, 0)) for d in [*days, *extra])
    return Progress(survey.id, invited, delivered, bounced, sum(by_day.values()), per_day)


def _hour_bucket(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d %H", column)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")


def sparkline(values: Sequence[float]) -> str:
    """▁▃▅█: one character per value, scaled to the largest."""
    top = max(values, default=0)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[min(len(SPARKS) - 1, int(v / top * (len(SPARKS) - 1) + 0.5))] for v in values)
