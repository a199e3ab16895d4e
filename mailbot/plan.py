"""What is due now: a pure function of the campaigns, what has happened, and `now`.

The configuration says what should happen; the store says which steps were
carried out. The plan is recomputed from both on every tick, so editing a
campaign file and restarting is safe, and a tick that runs twice finds
nothing left to do the second time.

Survey steps, in order: "invitation" at opening; "reminder-N" N-th reminder
(to those who have not answered); "close" at closing; "results" after close.

Course steps: "invitation" when enrolment opens; per cohort and lesson
"lesson-<cohort>-<n>" (the lesson email), "reminder-<cohort>-<n>" (the day
before) and "feedback-<cohort>-<n>" (after it). Recruitment steps:
"invitation"; "draw" at the sign-up deadline (lottery, stratified; after
"approved" when staff must approve); "reminder-<meeting>" the day before;
"cancel-<meeting>" when staff cancel one. Update: "update" at its time.
A step whose moment has passed (a lesson already given) is recorded as missed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from mailbot.campaigns import Campaign, CampaignForm, Course, Recruitment, ResultsPolicy, Selection, Survey, Update
from mailbot.campaigns.course.lessons import lesson_steps

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
        if isinstance(c, CampaignForm):
            continue  # answered through its course or recruitment, which plans the emails
        if isinstance(c, Survey):
            out.extend(_survey_due(c, done.get(c.id, ()), now))
        else:
            out.extend(_other_due(c, done.get(c.id, ()), now))
    return out


DRAW = "draw"
APPROVED = "approved"
UPDATE = "update"


def meeting_reminder_step(meeting: str) -> str:
    return f"reminder-{meeting}"


def cancel_step(meeting: str) -> str:
    return f"cancel-{meeting}"


@dataclass(frozen=True)
class _Step:
    step: str
    at: datetime
    latest: datetime | None  # after this: recorded as missed, not sent
    sends: bool = True
    waits_for: str | None = None  # another step that must be done first (staff approval)
    what: str = ""  # who gets it, for `mailbot plan`


def steps_of(c: Course | Recruitment | Update) -> list[_Step]:
    """Every step of a course, recruitment or update, with its time and its last chance."""
    if isinstance(c, Update):
        # News a week late is still news; months late it is noise: then it is recorded as missed.
        return [_Step(UPDATE, c.opens, c.opens + timedelta(days=7), what="audience")]
    if isinstance(c, Course):
        out = [_Step(INVITATION, c.opens, c.enrolment_closes, what="audience")]
        for ls in lesson_steps(c):
            who = {"lesson": "enrolled", "reminder": "enrolled", "feedback": "sent the lesson"}[ls.what]
            out.append(_Step(ls.step, ls.at, ls.latest, what=f"{who} ({ls.cohort.id})"))
        return out
    out = [_Step(INVITATION, c.opens, c.closes, what="audience")]
    if c.selection != Selection.FIRST_COME:
        out.append(_Step(DRAW, c.closes, None, sends=True, waits_for=APPROVED if c.approval else None,
                         what="volunteers (seated or waitlisted)"))
    for m in c.meetings:
        if m.cancelled:
            out.append(_Step(cancel_step(m.id), c.opens, m.starts, what=f"seated ({m.id})"))
        elif m.starts is not None:
            out.append(_Step(meeting_reminder_step(m.id), m.starts - c.reminder_before, m.starts,
                             what=f"seated ({m.id})"))
    return out


def _other_due(c: Course | Recruitment | Update, done: Collection[str], now: datetime) -> list[DueStep]:
    due: list[DueStep] = []
    for st in sorted(steps_of(c), key=lambda x: x.at):
        if st.step in done or now < st.at:
            continue
        if st.waits_for is not None and st.waits_for not in done:
            continue
        if st.latest is not None and now >= st.latest:
            due.append(DueStep(c, st.step, st.at, StepKind.MARK, "missed: its time had passed"))
        else:
            due.append(DueStep(c, st.step, st.at))
    return due


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
    to: str = ""  # who gets it: "audience", "enrolled (host-2020)", …
    recipients: int | None = None  # how many, when known (`sizes`)
    waits_for: str | None = None


def timeline(campaigns: Iterable[Campaign], done: Mapping[str, Collection[str]], now: datetime,
             sizes: Mapping[tuple[str, str], int] | None = None) -> list[PlannedStep]:
    """Steps still to come (due now or later), sorted by time: what `mailbot plan` shows.

    `sizes` maps (campaign id, step) to how many it would go to now (see `mailbot.steps.recipient_counts`).
    """
    out: list[PlannedStep] = []
    sizes = sizes or {}
    for s in campaigns:
        if isinstance(s, CampaignForm):
            continue
        d = done.get(s.id, ())
        if not isinstance(s, Survey):
            for st in steps_of(s):
                if st.step in d or (st.latest is not None and st.latest <= now):
                    continue
                out.append(PlannedStep(s, st.step, st.at, st.sends, st.what, sizes.get((s.id, st.step)),
                                       st.waits_for if st.waits_for and st.waits_for not in d else None))
            continue
        if now >= s.closes and INVITATION not in d:
            continue
        steps = [(INVITATION, s.opens, True)]
        steps += [(reminder_step(i), s.opens + r, True) for i, r in enumerate(s.reminders, 1)]
        steps += [(CLOSE, s.closes, False), (RESULTS, s.closes, s.results == ResultsPolicy.AFTER_CLOSE)]
        for step, at, sends in steps:
            if step not in d and not (step.startswith("reminder") and at < now):
                to = "audience" if step == INVITATION else "invited" if step == RESULTS else "not answered"
                out.append(PlannedStep(s, step, at, sends, to if sends else "", sizes.get((s.id, step))))
    return sorted(out, key=lambda p: (p.at, p.campaign.id))
