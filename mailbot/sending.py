"""Drain the outbox: claim due rows, compose each email, send it, record the answer.

The only module that turns outbox rows into SMTP traffic. A row is claimed in
one short transaction, sent outside any transaction, and its result recorded
in another, so a slow server never holds database locks, and a crash leaves
rows in "sending" for the sweeper rather than losing them.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from mailbot import compose, links
from mailbot.campaigns import Campaign, Survey
from mailbot.config import Settings
from mailbot.results import Results
from mailbot.store import Store
from mailbot.store import outbox as outbox_store
from mailbot.tokens import Keys
from mailbot.transport import PermanentSendError, TemporarySendError

log = logging.getLogger("mailbot.sending")

MAX_ATTEMPTS = 8  # then the row fails: about a day and a half of backoff
SENDING_TIMEOUT = timedelta(minutes=15)


class Transport(Protocol):
    def send(self, message: bytes, envelope_from: str, recipient: str) -> str: ...
    def close(self) -> None: ...


@dataclass
class SendReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    skipped: int = 0
    by_step: dict[str, int] = field(default_factory=dict)

    def add(self, other: SendReport) -> None:
        self.sent += other.sent
        self.deferred += other.deferred
        self.failed += other.failed
        self.skipped += other.skipped
        for k, v in other.by_step.items():
            self.by_step[k] = self.by_step.get(k, 0) + v


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """Exponential backoff with jitter: ~1, 2, 4 … minutes, capped at 6 hours."""
    base = min(60 * 2 ** max(0, attempts), 6 * 3600)
    return timedelta(seconds=base * (0.5 + rng.random()))


class Composer:
    """Turns a claimed outbox row into an email, using the campaigns and templates in force."""

    def __init__(self, settings: Settings, keys: Keys, templates: compose.Templates,
                 campaigns: dict[str, Campaign], results_for: Callable[[Survey], Results]):
        self.settings = settings
        self.keys = keys
        self.templates = templates
        self.campaigns = campaigns
        self.results_for = results_for
        self._results: dict[str, Results] = {}

    def __call__(self, row: outbox_store.Claimed, now: datetime) -> tuple[EmailMessage, str]:
        panel = self.settings.panel
        r = row.recipient
        assert r is not None
        a = links.addressing(self.keys, panel, row.outbox_id, r.member_id, row.campaign_id)
        survey = self.campaigns.get(row.campaign_id)
        link_set = compose.Links(
            form_url=links.form_url(panel, a.answer_token),
            unsubscribe_url=links.unsubscribe_url(panel, a.unsubscribe_token),
            unsubscribe_mailto=links.unsubscribe_mailto(a),
            answer_urls=links.one_click_urls(panel, survey, a.answer_token) if survey else {},
            report_url=f"{links.base_url(panel)}/resultater/{row.campaign_id}",
        )
        sender = compose.Sender(
            from_addr=f"{panel.name} <{panel.address}>",
            reply_to=a.reply_to,
            message_id=a.message_id,
            list_id=f"{panel.name} <{panel.local_part}.{panel.address.rsplit('@', 1)[1]}>",
            in_reply_to=row.payload.get("in_reply_to"),
        )
        kind = row.payload.get("kind") or ("results" if row.step == "results" else "survey")
        t = self.templates
        if survey is None:
            msg = compose.notice_email(kind, r, row.payload.get("context", {}), sender, panel, t, now)
        elif kind == "survey":
            msg = compose.survey_email(survey, row.step, r, link_set, sender, panel, t, now)
        elif kind == "results":
            if survey.id not in self._results:
                self._results[survey.id] = self.results_for(survey)
            msg = compose.results_email(survey, self._results[survey.id], r, link_set, sender, panel, t, now)
        elif kind == "receipt":
            msg = compose.receipt_email(survey, r, _answers(survey, row.payload.get("recorded", {})),
                                        row.payload.get("missing", []), row.payload.get("unsure", {}),
                                        link_set, sender, panel, t, now)
        elif kind == "closed":
            msg = compose.closed_email(survey, r, link_set, sender, panel, t, now)
        elif kind == "not-understood":
            msg = compose.not_understood_email(survey, r, link_set, sender, panel, t, now)
        else:
            msg = compose.notice_email(kind, r, row.payload.get("context", {}), sender, panel, t, now)
        return msg, a.return_path


def _answers(survey: Survey, recorded: dict[str, object]) -> dict[str, object]:
    # JSON turned tuples (multi answers) into lists; compose expects the parser's shape.
    return {k: tuple(v) if isinstance(v, list) else v for k, v in recorded.items()}


def send_due(store: Store, composer: Composer, transport: Transport, now: datetime, *, batch: int = 200,
             max_rounds: int | None = None, rng: random.Random | None = None,
             clock: Callable[[], datetime] | None = None,
             on_progress: Callable[[int], None] | None = None) -> SendReport:
    """Send everything due at `now`, batch by batch, until the outbox has nothing due."""
    rng = rng or random.Random()
    report = SendReport()
    rounds = 0
    with store.transaction() as s:
        outbox_store.sweep(s, now, SENDING_TIMEOUT)
    while max_rounds is None or rounds < max_rounds:
        rounds += 1
        t = clock() if clock else now
        with store.transaction() as s:
            claimed = outbox_store.claim(s, t, batch)
        if not claimed:
            break
        for row in claimed:
            result = _send_one(store, composer, transport, row, clock() if clock else now, rng)
            setattr(report, result, getattr(report, result) + 1)
            if result == "sent":
                report.by_step[row.step] = report.by_step.get(row.step, 0) + 1
        if on_progress:
            on_progress(len(claimed))
    return report


def _send_one(store: Store, composer: Composer, transport: Transport, row: outbox_store.Claimed, now: datetime,
              rng: random.Random) -> str:
    assert row.recipient is not None
    try:
        message, return_path = composer(row, now)
        data = message.as_bytes()
    except Exception as exc:  # a template or data problem: keep the row, tell staff, keep going
        log.error("compose failed outbox=%s campaign=%s step=%s error=%s", row.outbox_id, row.campaign_id,
                  row.step, exc)
        with store.transaction() as s:
            outbox_store.mark_failed(s, row.outbox_id, now, f"compose: {type(exc).__name__}: {exc}")
        return "failed"
    try:
        response = transport.send(data, return_path, row.recipient.email)
    except PermanentSendError as exc:
        with store.transaction() as s:
            outbox_store.mark_failed(s, row.outbox_id, now, exc.response)
        log.info("send failed outbox=%s campaign=%s step=%s member=%s", row.outbox_id, row.campaign_id,
                 row.step, row.recipient.member_id)
        return "failed"
    except TemporarySendError as exc:
        with store.transaction() as s:
            if row.attempts + 1 >= MAX_ATTEMPTS:
                outbox_store.mark_failed(s, row.outbox_id, now, f"gave up after {MAX_ATTEMPTS} tries: {exc.response}")
                return "failed"
            outbox_store.mark_deferred(s, row.outbox_id, now + backoff(row.attempts, rng), exc.response)
        return "deferred"
    with store.transaction() as s:
        outbox_store.mark_sent(s, row.outbox_id, now, str(message["Message-ID"]), response)
    log.info("sent outbox=%s campaign=%s step=%s member=%s", row.outbox_id, row.campaign_id, row.step,
             row.recipient.member_id)
    return "sent"
