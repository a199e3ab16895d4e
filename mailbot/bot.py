"""The bot: the steps of one tick, wired to the configured store, transport and templates.

`tick(now)` reads what arrived, carries out what is due, and sends what is
queued — the same for `mailbot tick` (cron), the daemon and the demo. It is
idempotent: two ticks at once, or a crash and a restart, send nothing twice.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from mailbot import compose
from mailbot.campaigns import Campaign, Survey
from mailbot.pacing import RateLimiter
from mailbot.panel.secrets import secret
from mailbot.panel.settings import Settings
from mailbot.replies import InboundReport, read_inbound
from mailbot.results import Results, summarise
from mailbot.schedules import load_campaigns
from mailbot.sending import Composer, SendOptions, SendReport, Transport, send_due
from mailbot.steps import StepDone, carry_out_due
from mailbot.store import Store
from mailbot.store import inbound as inbound_store
from mailbot.store import outbox as outbox_store
from mailbot.store.answer_counts import count_answers
from mailbot.tokens import Keys
from mailbot.transport.imap import ImapSettings, poll_once
from mailbot.transport.local import LocalPostOffice, PostOfficeHandler, port_is_listening
from mailbot.transport.smtp import SmtpSender, SmtpSettings

log = logging.getLogger("mailbot")


@dataclass
class TickReport:
    steps: list[StepDone] = field(default_factory=list)
    inbound: InboundReport = field(default_factory=InboundReport)
    sent: SendReport = field(default_factory=SendReport)


def keys_from_env() -> Keys:
    return Keys.from_env_values(secret("MAILBOT_TOKEN_KEY"), os.environ.get("MAILBOT_TOKEN_KEYS_OLD", ""))


class Bot:
    def __init__(self, settings: Settings, *, campaigns: Sequence[Campaign] | None = None, store: Store | None = None,
                 keys: Keys | None = None):
        self.settings = settings
        self.campaigns = list(campaigns) if campaigns is not None else load_campaigns(settings)
        self.by_id = {c.id: c for c in self.campaigns}
        self.store = store or Store(settings.database_url)
        self.keys = keys or keys_from_env()
        self.templates = compose.Templates(settings.templates_dir)
        self.composer = Composer(settings, self.keys, self.templates, self.by_id, self.results_of)

    def prepare(self) -> Bot:
        self.store.upgrade()
        return self

    # ---- the parts of a tick

    def read_inbound(self, now: datetime) -> InboundReport:
        return read_inbound(self.settings, self.store, self.keys, self.by_id, now)

    def carry_out_due(self, now: datetime) -> list[StepDone]:
        return carry_out_due(self.settings, self.store, self.campaigns, now)

    def send_due(self, transport: Transport, now: datetime, *, stopping: Callable[[], bool] | None = None,
                 **kwargs: object) -> SendReport:
        """Send what is due. With `stopping` (the daemon), claims stay batched: a stop request ends the
        send in hand and hands the claimed-but-untried rows back to the queue."""
        return send_due(self.store, self.composer, transport, now, batch=self.settings.config.transport.batch,
                        stopping=stopping, **kwargs)  # type: ignore[arg-type]

    def tick(self, now: datetime, transport: Transport, *, stopping: Callable[[], bool] | None = None,
             plan: bool = True, limiter: RateLimiter | None = None,
             options: SendOptions | None = None) -> TickReport:
        """One round of everything due. With `stopping`, sending ends early once it returns True.

        `plan=False` (another process holds the planner lock, `mailbot.workers.Leadership`) only sends.
        """
        report = TickReport()
        if not plan:
            report.sent = self.send_due(transport, now, stopping=stopping, limiter=limiter, options=options)
            return report
        if not stopping:  # the daemon reads the mailbox continuously in its own thread
            self.poll_mailbox(now)
        report.inbound = self.read_inbound(now)
        report.steps = self.carry_out_due(now)
        report.sent = self.send_due(transport, now, stopping=stopping, limiter=limiter, options=options)
        # Receipts to replies that arrived while sending go out in the same tick.
        more = self.read_inbound(now)
        if (more.replies or more.commands) and not (stopping and stopping()):
            report.sent.add(self.send_due(transport, now, stopping=stopping, limiter=limiter, options=options))
        report.inbound.add(more)
        self.forget_old_raw(now)
        self.purge_expired_signups(now)
        return report

    def forget_old_raw(self, now: datetime) -> int:
        with self.store.transaction() as s:
            return inbound_store.forget_raw_before(
                s, now - timedelta(days=self.settings.config.privacy.raw_retention_days))

    def purge_expired_signups(self, now: datetime) -> int:
        """Unconfirmed sign-ups are personal data too: gone once their link has expired."""
        from mailbot import membership

        with self.store.transaction() as s:
            return membership.purge_expired(s, now)

    def imap_settings(self) -> ImapSettings | None:
        """The mailbox to read replies from, when `[inbound] kind = "imap"`."""
        inbound = self.settings.config.inbound
        if inbound.kind != "imap":
            return None
        i = inbound.imap
        return ImapSettings(
            host=i.host, port=i.port, security=i.security, username=i.username,
            password="" if i.oauth2_token_command else os.environ.get("MAILBOT_IMAP_PASSWORD", ""),
            oauth2_token_command=i.oauth2_token_command, folder=i.folder,
            processed_folder=i.processed_folder or None, batch=i.batch, idle=i.idle,
            state_path=str(self.settings.path(i.state_file)),
        )

    def poll_mailbox(self, now: datetime) -> int:
        """Fetch new replies from the IMAP mailbox, if one is configured; stored before anything reads them."""
        imap = self.imap_settings()
        return poll_once(self.store, imap, now) if imap is not None else 0

    def results_of(self, survey: Survey) -> Results:
        with self.store.transaction() as s:
            invited = outbox_store.count_sent(s, survey.id, "invitation")
            counts = count_answers(s, survey, invited)
        return summarise(survey, counts, self.settings.config.privacy.min_group_size)

    # ---- transports

    def store_inbound(self, raw: bytes, mail_from: str, rcpt_tos: Sequence[str]) -> None:
        from mailbot.store import utcnow

        with self.store.transaction() as s:
            inbound_store.store_raw(s, raw, via="smtp", now=utcnow(), envelope_from=mail_from,
                                    envelope_to=rcpt_tos)

    def local_post_office(self, port: int | None = None) -> LocalPostOffice:
        t = self.settings.config.transport
        handler = PostOfficeHandler(self.settings.path(t.mailboxes), [self.settings.panel.reply_domain],
                                    self.store_inbound)
        return LocalPostOffice(handler, t.host, t.port if port is None else port)

    @contextmanager
    def transport(self) -> Iterator[Transport]:
        """The configured outgoing transport; for "local", the embedded server runs meanwhile."""
        t = self.settings.config.transport
        office: LocalPostOffice | None = None
        if t.kind == "local" and not port_is_listening(t.host, t.port):
            office = self.local_post_office().start()
        password = os.environ.get("MAILBOT_SMTP_PASSWORD", "") if t.username else ""
        sender = SmtpSender(SmtpSettings(t.host, t.port, t.security, t.username, password, t.timeout))
        try:
            yield sender
        finally:
            sender.close()
            if office is not None:
                office.stop()

    def mailbox_root(self) -> Path:
        return self.settings.path(self.settings.config.transport.mailboxes)

