"""What is due now: a pure function of the campaigns, what has happened, and `now`.

The configuration says what should happen; the store says which steps were
carried out. The plan is recomputed from both on every tick, so editing a
campaign file and restarting is safe, and a tick that runs twice finds
nothing left to do the second time.

Survey steps, in order: "invitation" at opening; "reminder-N" N-th reminder
(to those who have not answered); "close" at closing; "results" after close.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mailbot.campaigns import Campaign, ResultsPolicy, Survey

INVITATION = "invitation"
CLOSE = "close"
RESULTS = "results"


def reminder_step(n: int) -> str:
    return f"reminder-{n}"


class StepKind(StrEnum):
    SEND = "send"  # creates one outbox row per recipient
    MARK = "mark"  # only recorded (close), or recorded as skipped


@dataclass(frozen=True)
class DueStep:
    campaign: Campaign
    step: str
    at: datetime  # when it was due
    kind: StepKind = StepKind.SEND
    skip_reason: str | None = None  # set: record the step as done without sending


def due_steps(campaigns: Iterable[Campaign], done: Mapping[str, Collection[str]], now: datetime) -> list[DueStep]:
    """Steps whose time has come and which are not recorded as done, in the order to carry them out."""
    out: list[DueStep] = []
    for c in campaigns:
        out.extend(_survey_due(c, done.get(c.id, ()), now))
    return out


def _survey_due(s: Survey, done: Collection[str], now: datetime) -> list[DueStep]:
    if now < s.opens:
        return []
    due: list[DueStep] = []
    invited = INVITATION in done
    if not invited:
        if now >= s.closes:
            # Never opened while it was open (the bot was down, or the file was added late):
            # record that, and send neither invitations nor results for it.
            return [] if CLOSE in done else [DueStep(s, CLOSE, s.closes, StepKind.MARK, "never opened")]
        due.append(DueStep(s, INVITATION, s.opens))
    if now < s.closes:
        passed = [i for i, r in enumerate(s.reminders, 1) if s.opens + r <= now and reminder_step(i) not in done]
        # After downtime several reminders may be due at once: send only the latest, record the rest.
        for i in passed[:-1]:
            due.append(DueStep(s, reminder_step(i), s.opens + s.reminders[i - 1], StepKind.MARK, "superseded"))
        if passed:
            due.append(DueStep(s, reminder_step(passed[-1]), s.opens + s.reminders[passed[-1] - 1]))
        return due
    for i, r in enumerate(s.reminders, 1):
        if reminder_step(i) not in done:
            due.append(DueStep(s, reminder_step(i), s.opens + r, StepKind.MARK, "closed before it was sent"))
    if CLOSE not in done:
        due.append(DueStep(s, CLOSE, s.closes, StepKind.MARK))
    if RESULTS not in done:
        if s.results == ResultsPolicy.AFTER_CLOSE:
            due.append(DueStep(s, RESULTS, s.closes))
        else:
            due.append(DueStep(s, RESULTS, s.closes, StepKind.MARK, "results = none"))
    return due


@dataclass(frozen=True)
class PlannedStep:
    campaign: Campaign
    step: str
    at: datetime
    sends: bool


def timeline(campaigns: Iterable[Campaign], done: Mapping[str, Collection[str]], now: datetime) -> list[PlannedStep]:
    """Steps still to come (due now or later), sorted by time: what `mailbot plan` shows."""
    out: list[PlannedStep] = []
    for s in campaigns:
        d = done.get(s.id, ())
        if now >= s.closes and INVITATION not in d:
            continue
        steps = [(INVITATION, s.opens, True)]
        steps += [(reminder_step(i), s.opens + r, True) for i, r in enumerate(s.reminders, 1)]
        steps += [(CLOSE, s.closes, False), (RESULTS, s.closes, s.results == ResultsPolicy.AFTER_CLOSE)]
        for step, at, sends in steps:
            if step not in d and not (step.startswith("reminder") and at < now):
                out.append(PlannedStep(s, step, at, sends))
    return sorted(out, key=lambda p: (p.at, p.campaign.id))
