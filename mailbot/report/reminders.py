"""An extra reminder, while a survey runs, to exactly the non-responders of under-represented groups.

`plan_extra_reminder` works out who (from `underrepresented_nonresponders`),
leaving out whoever already had an extra reminder for this survey unless
`again` is asked for, and names the step: "reminder-extra-N", one number more
than the last extra reminder, so every run is its own outbox step (the outbox
is unique per campaign, step and member) and nothing is queued twice.
`queue_extra_reminder` queues it; suppression (unsubscribed, paused, erased,
undeliverable) is applied again when the mail is sent, as for every campaign
email.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.campaigns import Survey
from mailbot.panel.settings import Settings
from mailbot.report.build import balance, underrepresented_nonresponders
from mailbot.report.population import Population
from mailbot.report.segments import dimensions_for, nonresponders_in
from mailbot.store import outbox as outbox_store
from mailbot.store.models import CampaignStep, Outbox

EXTRA_PREFIX = "reminder-extra-"


def extra_step(n: int) -> str:
    return f"{EXTRA_PREFIX}{n}"


@dataclass(frozen=True)
class GroupCount:
    dimension: str
    category: str
    members: int  # non-responders of this group who get the reminder (a member may be in several groups)


@dataclass(frozen=True)
class ExtraReminder:
    step: str  # reminder-extra-N
    member_ids: tuple[int, ...]  # sorted
    groups: tuple[GroupCount, ...]
    already_reminded: int  # in the groups, but left out: they had an extra reminder before


def plan_extra_reminder(session: Session, survey: Survey, settings: Settings, population: Population | None = None,
                        *, dimensions: Sequence[str] | None = None, tolerance: float | None = None,
                        again: bool = False) -> ExtraReminder:
    """Who an extra reminder goes to now, by group, and under which step name."""
    steps = list(session.scalars(
        select(Outbox.step).where(Outbox.campaign_id == survey.id, Outbox.step.like(f"{EXTRA_PREFIX}%"))
        .distinct()))
    done = session.scalars(select(CampaignStep.step).where(CampaignStep.campaign_id == survey.id,
                                                           CampaignStep.step.like(f"{EXTRA_PREFIX}%")))
    numbers = [int(s.removeprefix(EXTRA_PREFIX)) for s in {*steps, *done} if s.removeprefix(EXTRA_PREFIX).isdigit()]
    step = extra_step(max(numbers, default=0) + 1)
    reminded: set[int] = set()
    if not again and steps:
        reminded = {m for m in session.scalars(
            select(Outbox.member_id).where(Outbox.campaign_id == survey.id, Outbox.step.in_(steps))) if m}
    wanted = underrepresented_nonresponders(session, survey, settings, population, tolerance=tolerance,
                                            dimensions=dimensions)
    chosen = tuple(m for m in wanted if m not in reminded)
    dims = dimensions_for(survey, settings, population.gender_tags if population else {},
                          tuple(population.gender) if population else ())
    groups = []
    for b in balance(session, survey, settings, population, tolerance):
        if not b.under or (dimensions is not None and b.dimension not in dimensions):
            continue
        in_group = nonresponders_in(session, survey.id, [(dims.expressions[b.dimension], [b.category])])
        groups.append(GroupCount(b.dimension, b.category, sum(1 for m in in_group if m not in reminded)))
    return ExtraReminder(step, chosen, tuple(groups), len(wanted) - len(chosen))


def queue_extra_reminder(session: Session, survey: Survey, plan: ExtraReminder, now: datetime) -> int:
    """Queue the reminder planned by `plan_extra_reminder`; returns how many emails were queued."""
    if not plan.member_ids:
        return 0
    n = outbox_store.queue(session, survey.id, plan.step, plan.member_ids, now)
    groups = ", ".join(f"{g.dimension} {g.category}" for g in plan.groups)
    outbox_store.record_step(session, survey.id, plan.step, now, recipients=n,
                             note=f"extra reminder to under-represented groups: {groups}")
    return n
