"""Prometheus metrics for the daemon, served at `/metrics`.

Counters count what this process did since it started (sent, deferred,
failed, received, parsed, needs a human); Prometheus turns them into rates.
Queue depth and outbox/inbound totals are read from the database at scrape
time, so they are right whichever process did the work (the daemon, a cron
`mailbot tick`, a second worker).

Each `Metrics` has its own registry: two daemons in one test run, or a test
beside a daemon, never share counters.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger("mailbot.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Reads {status: count} for outbox and inbound rows; may raise if the database is down.
StatusCounts = Callable[[], Mapping[str, Mapping[str, int]]]


class _DatabaseCollector(Collector):
    def __init__(self, counts: StatusCounts):
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            counts = self.counts()
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because the database is down
            log.warning("metrics: database not readable error=%s", type(exc).__name__)
            return
        outbox = counts.get("outbox", {})
        depth = GaugeMetricFamily("mailbot_queue_depth", "Emails waiting to be sent (queued or deferred).")
        depth.add_metric([], sum(outbox.get(s, 0) for s in ("queued", "deferred")))
        yield depth
        by_status = GaugeMetricFamily("mailbot_outbox", "Outbox rows by status.", labels=["status"])
        for status, n in sorted(outbox.items()):
            by_status.add_metric([status], n)
        yield by_status
        inbound = GaugeMetricFamily("mailbot_inbound", "Inbound messages by status.", labels=["status"])
        for status, n in sorted(counts.get("inbound", {}).items()):
            inbound.add_metric([status], n)
        yield inbound


class Metrics:
    """The daemon's counters and gauges, in a registry of its own."""

    def __init__(self, counts: StatusCounts | None = None):
        self.registry = CollectorRegistry()
        r = self.registry
        self.sent = Counter("mailbot_sent", "Emails accepted by the mail server.", registry=r)
        self.deferred = Counter("mailbot_deferred", "Sends put off after a temporary error.", registry=r)
        self.failed = Counter("mailbot_failed", "Sends that failed for good.", registry=r)
        self.received = Counter("mailbot_received", "Inbound messages stored by this process's servers.",
                                registry=r)
        self.read = Counter("mailbot_read", "Inbound messages read, by kind.", ["kind"], registry=r)
        self.parsed = Counter("mailbot_parsed", "Replies whose answers were recorded.", registry=r)
        self.needs_human = Counter("mailbot_needs_human", "Inbound messages set aside for staff.", registry=r)
        self.ticks = Counter("mailbot_ticks", "Ticks run, by outcome.", ["outcome"], registry=r)
        self.tick_seconds = Gauge("mailbot_last_tick_seconds", "How long the last tick took.", registry=r)
        self.last_tick = Gauge("mailbot_last_tick_timestamp_seconds", "When the last tick ended (Unix time).",
                               registry=r)
        self.started = Gauge("mailbot_start_time_seconds", "When this process started (Unix time).",
                             registry=r)
        self.started.set(time.time())
        if counts is not None:
            r.register(_DatabaseCollector(counts))

    def record_tick(self, report: object, seconds: float) -> None:
        """Add a `TickReport`'s figures (duck-typed: `sent` and `inbound` reports)."""
        sent = getattr(report, "sent", None)
        if sent is not None:
            self.sent.inc(sent.sent)
            self.deferred.inc(sent.deferred)
            self.failed.inc(sent.failed)
        inbound = getattr(report, "inbound", None)
        if inbound is not None:
            self.read.labels("reply").inc(inbound.replies)
            self.read.labels("command").inc(inbound.commands)
            self.read.labels("machine").inc(inbound.machines)
            self.parsed.inc(inbound.answered)
            self.needs_human.inc(inbound.needs_human)
        self.ticks.labels("ok").inc()
        self.tick_seconds.set(seconds)
        self.last_tick.set(time.time())

    def render(self) -> bytes:
        return generate_latest(self.registry)
