"""Drain the outbox: claim due rows, compose each email, send it, record the answer.

The only module that turns outbox rows into SMTP traffic. Rows are claimed in
one short transaction, sent outside any transaction, and their results
recorded in batches (every `record_every` messages or half a second), so a
slow server never holds database locks, and a crash leaves rows in "sending"
for the sweeper rather than losing them. What a crash can duplicate is what
was delivered but not yet recorded: at most `record_every` + 1 per sender.

Composing (templates, tokens, DKIM) overlaps the network without a thread:
the transport writes one email's content (`begin`) and the next email is
composed while the relay digests it, before its answer is read (`end`).

A stop request (`stopping`) is honoured between two emails: the one in hand
gets its answer and is recorded, the claimed rows not yet tried go back to
the queue at once (no attempt counted), so nothing waits for the sweeper.

Outcomes: 250 -> sent; 4xx or a dropped connection -> deferred with
exponential backoff and jitter (failed after `max_attempts`); 5xx -> failed,
the server's text kept; the relay unreachable -> that row deferred and the
rest of the batch handed back untouched, the round ends.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol, cast

from mailbot import campaign_mail, compose, links
from mailbot.campaigns import Campaign, Survey
from mailbot.dkim import DkimSigner
from mailbot.pacing import Limits, QuietHours, RateLimiter, allowance
from mailbot.panel.settings import Settings
from mailbot.results import Results
from mailbot.states import OutboxState
from mailbot.store import Store
from mailbot.store import outbox as outbox_store
from mailbot.tokens import Keys
from mailbot.transport import PermanentSendError, TemporarySendError
from mailbot.transport.smtp import RelayUnavailable

log = logging.getLogger("mailbot.sending")

MAX_ATTEMPTS = 12  # then the row fails: backoff 1, 2, 4 … min capped at 6 h is about a day and a half
SENDING_TIMEOUT = timedelta(minutes=15)
RELAY_PAUSE = timedelta(minutes=1)  # the relay unreachable: the rest of a batch waits this long


class Transport(Protocol):
    def send(self, message: bytes, envelope_from: str, recipient: str) -> str: ...
    def close(self) -> None: ...


class PipelinedTransport(Transport, Protocol):
    """A transport that can write one email and read the answer later (`SmtpSender`)."""

    def begin(self, message: bytes, envelope_from: str, recipient: str) -> None: ...
    def end(self) -> str: ...


@dataclass
class SendReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    skipped: int = 0
    by_step: dict[str, int] = field(default_factory=dict)
    claimed: int = 0
    relay_down: bool = False  # the round ended because the relay could not be reached
    rate_limited: bool = False  # the round ended because a rate limit was used up
    quiet: bool = False  # quiet hours: only receipts and notices were taken
    stopped: bool = False  # a stop request ended the round; untried rows were handed back

    def add(self, other: SendReport) -> None:
        self.sent += other.sent
        self.deferred += other.deferred
        self.failed += other.failed
        self.skipped += other.skipped
        self.claimed += other.claimed
        self.relay_down |= other.relay_down
        self.rate_limited |= other.rate_limited
        self.quiet |= other.quiet
        self.stopped |= other.stopped
        for k, v in other.by_step.items():
            self.by_step[k] = self.by_step.get(k, 0) + v


@dataclass(frozen=True)
class SendOptions:
    """How a sender paces itself; `from_settings` reads [sending] and [dkim]."""

    batch: int = 200
    limits: Limits = Limits()
    quiet: QuietHours | None = None
    zone_name: str = "Europe/Oslo"
    max_attempts: int = MAX_ATTEMPTS
    sending_timeout: timedelta = SENDING_TIMEOUT
    record_every: int = 50  # outcomes per recording transaction (and at least every `record_interval` s)
    record_interval: float = 0.5
    signer: DkimSigner | None = None

    @classmethod
    def from_settings(cls, settings: Settings, signer: DkimSigner | None = None) -> SendOptions:
        c = settings.config.sending
        return cls(batch=settings.config.transport.batch,
                   limits=Limits(c.per_minute, c.per_hour, c.per_day),
                   quiet=QuietHours.parse(c.quiet_hours), zone_name=settings.panel.timezone,
                   max_attempts=c.max_attempts, sending_timeout=timedelta(seconds=c.sending_timeout),
                   signer=signer)


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
        self._options: SendOptions | None = None

    @property
    def options(self) -> SendOptions:
        """[sending] and [dkim] from the settings in force (the DKIM key is read once)."""
        if self._options is None:
            self._options = SendOptions.from_settings(self.settings, DkimSigner.from_settings(self.settings))
        return self._options

    def __call__(self, row: outbox_store.Claimed, now: datetime) -> tuple[EmailMessage, str]:
        panel = self.settings.panel
        r = row.recipient
        assert r is not None
        a = links.addressing(self.keys, panel, row.outbox_id, r.member_id, row.campaign_id)
        campaign = self.campaigns.get(row.campaign_id)
        survey = campaign if isinstance(campaign, Survey) else None  # other kinds compose their own
        link_set = compose.Links(
            form_url=links.form_url(panel, a.answer_token),
            unsubscribe_url=links.unsubscribe_url(panel, a.unsubscribe_token),
            unsubscribe_mailto=links.unsubscribe_mailto(a),
            answer_urls=links.one_click_urls(panel, survey, a.answer_token) if isinstance(survey, Survey) else {},
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
        if campaign_mail.is_campaign_mail(kind):  # course-, recruitment-, update: mailbot.campaign_mail
            msg = campaign_mail.email(kind, row.payload, r, self.campaigns, link_set, sender, panel, t, now)
        elif not isinstance(survey, Survey):
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


def _answers(survey: Survey, recorded: dict[str, Any]) -> dict[str, Any]:
    # JSON turned tuples (multi answers) into lists; compose expects the parser's shape.
    return {k: tuple(v) if isinstance(v, list) else v for k, v in recorded.items()}


def send_due(store: Store, composer: Composer, transport: Transport, now: datetime, *, batch: int | None = None,
             max_rounds: int | None = None, rng: random.Random | None = None,
             clock: Callable[[], datetime] | None = None,
             on_progress: Callable[[int], None] | None = None, options: SendOptions | None = None,
             limiter: RateLimiter | None = None, sweep: bool = True,
             stopping: Callable[[], bool] | None = None) -> SendReport:
    """Send everything due at `now`, batch by batch, until nothing is due, a limit is used up, the relay is
    down or `stopping()` says so (checked between emails: claimed rows not yet tried go back to the queue)."""
    from zoneinfo import ZoneInfo

    opts = options or composer.options
    size = batch or opts.batch
    zone = ZoneInfo(opts.zone_name)
    rng = rng or random.Random()
    report = SendReport()
    rounds = 0
    if sweep:
        with store.transaction() as s:
            outbox_store.sweep(s, clock() if clock else now, opts.sending_timeout)
    windows = [w for w, _ in opts.limits.windows()]
    while (max_rounds is None or rounds < max_rounds) and not (stopping and stopping()):
        rounds += 1
        t = clock() if clock else now
        quiet = opts.quiet is not None and opts.quiet.contains(t.astimezone(zone))
        report.quiet |= quiet
        with store.transaction() as s:
            n = size
            limited = False
            if windows:
                outbox_store.hold_rate(s)
                free = allowance(opts.limits, outbox_store.used_in_windows(s, t, windows))
                if free is not None and free < n:
                    n, limited = free, True
            claimed = outbox_store.claim(s, t, n, transactional_only=quiet)
            if limited and len(claimed) == n:
                report.rate_limited = True  # the limit held mail back (not merely: fewer were due than it allows)
        if not claimed:
            break
        report.claimed += len(claimed)
        _send_batch(store, composer, transport, claimed, opts, rng, clock or (lambda: now), limiter, report,
                    stopping)
        if on_progress:
            on_progress(len(claimed))
        if report.relay_down or report.stopped:
            break
    return report


@dataclass
class _Prepared:
    row: outbox_store.Claimed
    data: bytes | None = None
    return_path: str = ""
    message_id: str = ""
    error: str | None = None


def _prepare(composer: Composer, signer: DkimSigner | None, row: outbox_store.Claimed, now: datetime) -> _Prepared:
    try:
        message, return_path = composer(row, now)
        data = message.as_bytes()
        if signer is not None:
            data = signer.sign(data)
        return _Prepared(row, data, return_path, str(message["Message-ID"]))
    except Exception as exc:  # a template or data problem: keep the row, tell staff, keep going
        log.error("compose failed outbox=%s campaign=%s step=%s error=%s", row.outbox_id, row.campaign_id,
                  row.step, exc)
        return _Prepared(row, error=f"compose: {type(exc).__name__}: {exc}")


class _OneStep:
    """A transport with `send` only, seen as begin/end: the whole exchange happens in `end`."""

    def __init__(self, inner: Transport):
        self.inner = inner
        self._args: tuple[bytes, str, str] | None = None

    def begin(self, message: bytes, envelope_from: str, recipient: str) -> None:
        self._args = (message, envelope_from, recipient)

    def end(self) -> str:
        assert self._args is not None
        args, self._args = self._args, None
        return self.inner.send(*args)


def _pipelined(transport: Transport) -> PipelinedTransport | _OneStep:
    if hasattr(transport, "begin") and hasattr(transport, "end"):
        return cast(PipelinedTransport, transport)
    return _OneStep(transport)


def _send_batch(store: Store, composer: Composer, transport: Transport, claimed: list[outbox_store.Claimed],
                opts: SendOptions, rng: random.Random, clock: Callable[[], datetime], limiter: RateLimiter | None,
                report: SendReport, stopping: Callable[[], bool] | None = None) -> None:
    """Send the claimed rows, composing each while the relay digests the one before; record in batches."""
    outcomes: list[outbox_store.Outcome] = []
    last_record = time.monotonic()
    done: set[int] = set()
    wire = _pipelined(transport)
    in_hand: tuple[_Prepared, datetime] | None = None  # content written, answer not read yet

    def flush() -> None:
        nonlocal last_record
        if outcomes:
            with store.transaction() as s:
                outbox_store.record(s, outcomes)
            outcomes.clear()
        last_record = time.monotonic()

    def settle(p: _Prepared, outcome: outbox_store.Outcome, relay_down: bool) -> None:
        outcomes.append(outcome)
        done.add(p.row.outbox_id)
        report.relay_down |= relay_down
        if outcome.state == OutboxState.SENT:
            report.sent += 1
            report.by_step[p.row.step] = report.by_step.get(p.row.step, 0) + 1
        elif outcome.state == OutboxState.DEFERRED:
            report.deferred += 1
        else:
            report.failed += 1

    def finish() -> None:
        nonlocal in_hand
        if in_hand is not None:
            p, at = in_hand
            in_hand = None
            settle(p, *_outcome(wire.end, p, at, opts, rng))

    try:
        for row in claimed:
            if stopping is not None and stopping():
                report.stopped = True
                break
            p = _prepare(composer, opts.signer, row, clock())  # the relay is busy with the one in hand
            finish()
            if report.relay_down:
                break
            now = clock()
            if p.data is None:
                settle(p, outbox_store.Outcome(row.outbox_id, OutboxState.FAILED, now, p.error or "compose"),
                       False)
            else:
                if limiter is not None and outcomes:
                    # Recorded before waiting for the next slot: a crash in the wait must not resend what
                    # the relay has already accepted (spaced sends leave nothing to batch anyway).
                    flush()
                if limiter is not None and not limiter.acquire(stopping):
                    report.stopped = True  # stopped while waiting for the rate limit: this one goes back
                    break
                assert row.recipient is not None
                write = functools.partial(wire.begin, p.data, p.return_path, row.recipient.email)
                outcome, down = _outcome(write, p, now, opts, rng)
                if outcome.state == OutboxState.SENT:  # written, not yet answered
                    in_hand = (p, now)
                else:
                    settle(p, outcome, down)
                    if down:
                        break
            if len(outcomes) >= opts.record_every or time.monotonic() - last_record >= opts.record_interval:
                flush()
        finish()
    finally:
        if in_hand is not None:  # an error while composing the next one: the one in hand still gets its answer
            finish()
        flush()
        rest = [r.outbox_id for r in claimed if r.outbox_id not in done]
        if rest:  # the relay is down, or we are stopping: hand the rest back, no attempt counted
            retry_at = clock() + (RELAY_PAUSE if report.relay_down else timedelta(0))
            with store.transaction() as s:
                outbox_store.release(s, rest, retry_at)


def _outcome(call: Callable[[], object], p: _Prepared, now: datetime, opts: SendOptions,
             rng: random.Random) -> tuple[outbox_store.Outcome, bool]:
    """What `call` (writing the email, or reading its answer) means for the row, and whether the relay is down.

    A call that returns is SENT (for `begin`: so far); its return value, when a
    string, is the server's answer kept in the ledger.
    """
    row = p.row
    assert row.recipient is not None
    try:
        response = call()
    except PermanentSendError as exc:
        log.info("send failed outbox=%s campaign=%s step=%s member=%s response=%s", row.outbox_id,
                 row.campaign_id, row.step, row.recipient.member_id, exc.response)
        return outbox_store.Outcome(row.outbox_id, OutboxState.FAILED, now, exc.response), False
    except TemporarySendError as exc:
        down = isinstance(exc, RelayUnavailable)
        if row.attempts + 1 >= opts.max_attempts:
            return outbox_store.Outcome(row.outbox_id, OutboxState.FAILED, now,
                                        f"gave up after {opts.max_attempts} tries: {exc.response}"), down
        return outbox_store.Outcome(row.outbox_id, OutboxState.DEFERRED, now + backoff(row.attempts, rng),
                                    exc.response), down
    log.debug("sent outbox=%s campaign=%s step=%s member=%s", row.outbox_id, row.campaign_id, row.step,
              row.recipient.member_id)
    return outbox_store.Outcome(row.outbox_id, OutboxState.SENT, now, str(response or ""), p.message_id), False


def send_concurrently(store: Store, composer: Composer, transports: list[Transport], now: datetime,
                      **kwargs: object) -> SendReport:
    """`send_due` in one thread per transport (one SMTP connection each); claims keep them apart."""
    if len(transports) == 1:
        return send_due(store, composer, transports[0], now, **kwargs)  # type: ignore[arg-type]
    reports = [SendReport() for _ in transports]
    with store.transaction() as s:
        opts = kwargs.get("options")
        timeout = opts.sending_timeout if isinstance(opts, SendOptions) else SENDING_TIMEOUT
        outbox_store.sweep(s, now, timeout)

    def run(i: int) -> None:
        reports[i] = send_due(store, composer, transports[i], now, sweep=False, **kwargs)  # type: ignore[arg-type]

    threads = [threading.Thread(target=run, args=(i,), name=f"mailbot-send-{i}") for i in range(len(transports))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = SendReport()
    for r in reports:
        total.add(r)
    return total
