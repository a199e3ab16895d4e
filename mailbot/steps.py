"""Carry out due campaign steps: turn each into outbox rows, once.

A step and all its outbox rows are written in one transaction together with
the step's record, so a step is either fully queued or not at all; a second
tick (or a second process) doing the same step fails on the unique key and
rolls back without sending anything twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from mailbot.campaign_steps import keep_seats, queue_step
from mailbot.campaigns import Campaign, Survey
from mailbot.pacing import pacing_of
from mailbot.panel.settings import Settings
from mailbot.plan import CLOSE, INVITATION, RESULTS, DueStep, StepKind, due_steps
from mailbot.store import Store
from mailbot.store import members as member_store
from mailbot.store import outbox as outbox_store

log = logging.getLogger("mailbot.steps")


@dataclass(frozen=True)
class StepDone:
    campaign_id: str
    step: str
    queued: int
    note: str | None = None


def carry_out_due(settings: Settings, store: Store, campaigns: Iterable[Campaign], now: datetime) -> list[StepDone]:
    campaigns = list(campaigns)
    with store.transaction() as s:
        done = outbox_store.done_steps(s)
    out: list[StepDone] = []
    keep_seats(store, campaigns, now)  # courses and recruitments: offers, waitlists, clicked answers
    for due in due_steps(campaigns, done, now):
        try:
            with store.transaction() as s:
                if outbox_store.step_is_done(s, due.campaign.id, due.step):
                    continue  # another process was faster
                queued = _queue_step(settings, s, due, campaigns, now)
                outbox_store.record_step(s, due.campaign.id, due.step, now, queued, due.skip_reason)
        except IntegrityError:
            log.info("step already done elsewhere campaign=%s step=%s", due.campaign.id, due.step)
            continue
        log.info("step done campaign=%s step=%s queued=%s note=%s", due.campaign.id, due.step, queued,
                 due.skip_reason)
        out.append(StepDone(due.campaign.id, due.step, queued, due.skip_reason))
    return out


def _queue_step(settings: Settings, s: object, due: DueStep, campaigns: list[Campaign], now: datetime) -> int:
    from sqlalchemy.orm import Session

    assert isinstance(s, Session)
    if due.kind == StepKind.MARK or due.skip_reason or due.step == CLOSE:
        return 0
    c = due.campaign
    if not isinstance(c, Survey):
        return queue_step(settings, s, due, campaigns, now)
    if due.step == INVITATION:
        batches: Iterator[list[int]] = member_store.audience_ids(settings, s, c, now)
    elif due.step == RESULTS:
        batches = outbox_store.invited_members(s, c.id)
    else:  # a reminder: only to those invited who have not answered
        batches = outbox_store.invited_without_response(s, c.id)
    total = 0
    for ids in batches:
        total += outbox_store.queue(s, c.id, due.step, ids, now, pacing=pacing_of(settings))
    return total
