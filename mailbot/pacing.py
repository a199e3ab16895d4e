"""Respect for inboxes and relays: quiet hours, a weekly budget per member, rate limits.

Pure decisions over plain values; the clock is an argument.

- Quiet hours: no campaign email in a local-time window ("21:00-08:00"). The
  planner holds such an email until the window ends; it is never dropped.
- Weekly budget: at most N campaign emails to one member in any 7 days, across
  all campaigns. An email that would be one too many waits until the oldest
  one in its window is 7 days old.
- Rate limits: per minute, hour and day, as the relay demands (Microsoft 365:
  30 a minute, 10 000 a day). A token bucket paces one process; the store
  counts what every worker claimed in the same windows, so several workers
  together stay under the limit too (`allowance`).

Receipts and notices (steps starting with `receipt-` or `notice-`) answer
something the resident just did: no quiet hours, no budget (rate limits still apply).
"""

from __future__ import annotations

import threading
import time as _time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from mailbot.panel.settings import Settings

TRANSACTIONAL_PREFIXES = ("receipt-", "notice-")
WEEK = timedelta(days=7)

QUIET_HOURS = "quiet hours"
WEEKLY_BUDGET = "weekly budget"


def is_transactional(step: str) -> bool:
    return step.startswith(TRANSACTIONAL_PREFIXES)


# ---------------------------------------------------------------- quiet hours


@dataclass(frozen=True)
class QuietHours:
    """A local-time window, possibly across midnight (start > end)."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """"21:00-08:00" -> QuietHours; "" -> None (no quiet hours)."""
        text = text.strip()
        if not text:
            return None
        a, b = text.split("-")
        return cls(time.fromisoformat(a), time.fromisoformat(b))

    def contains(self, local: datetime) -> bool:
        t = local.time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def release(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """`moment` if it is outside the window, else the window's end (local wall clock, DST-aware)."""
        local = moment.astimezone(zone)
        if not self.contains(local):
            return moment
        day = local.date()
        if self.start > self.end and local.time().replace(tzinfo=None) >= self.start:
            day += timedelta(days=1)
        return datetime.combine(day, self.end, tzinfo=zone)


# ---------------------------------------------------------------- weekly budget


def budget_slot(desired: datetime, earlier: Sequence[datetime], budget: int, window: timedelta = WEEK) -> datetime:
    """The first moment >= `desired` at which one more email keeps every `window` at <= `budget` emails.

    `earlier` are the member's other campaign emails: sent (when sent) and
    planned (when due). With no budget (0) the answer is `desired`.
    """
    if budget <= 0 or len(earlier) < budget:
        return desired
    times = sorted(earlier)
    candidates = sorted({desired, *(t + window for t in times if t + window > desired)})
    for c in candidates:
        if _fits(c, times, budget, window):
            return c
    return candidates[-1]  # unreachable: after the last one drops out, the window is empty


def _fits(c: datetime, times: Sequence[datetime], budget: int, window: timedelta) -> bool:
    # Every window [w, w + window) that contains c must hold fewer than `budget` others.
    starts = [c - window + timedelta(microseconds=1)] + [t for t in times if c - window < t <= c]
    return all(sum(1 for t in times if w <= t < w + window) < budget for w in starts)


@dataclass(frozen=True)
class Pacing:
    """What the planner needs to decide when one campaign email may go out."""

    zone: ZoneInfo
    quiet: QuietHours | None = None
    weekly_budget: int = 0

    @property
    def active(self) -> bool:
        return self.quiet is not None or self.weekly_budget > 0

    def when(self, step: str, desired: datetime, earlier: Sequence[datetime] = ()) -> tuple[datetime, str | None]:
        """When this email may go, and why it waits (None: it does not)."""
        if is_transactional(step) or not self.active:
            return desired, None
        at, why = desired, None
        for _ in range(16):  # quiet hours and budget push each other forward; settles in a step or two
            slot = budget_slot(at, earlier, self.weekly_budget)
            if slot != at:
                at, why = slot, WEEKLY_BUDGET
            released = self.quiet.release(at, self.zone) if self.quiet else at
            if released == at:
                break
            at, why = released, why or QUIET_HOURS
        return at, why


def pacing_of(settings: Settings) -> Pacing:
    """The planner's pacing from [sending] quiet_hours and weekly_budget."""
    c = settings.config.sending
    return Pacing(settings.panel.zone, QuietHours.parse(c.quiet_hours), c.weekly_budget)


# ---------------------------------------------------------------- rate limits


@dataclass(frozen=True)
class Limits:
    per_minute: float = 0  # whole numbers from config; a fraction from `mailbot run --max-per-minute`
    per_hour: float = 0
    per_day: float = 0

    def windows(self) -> list[tuple[timedelta, float]]:
        return [(w, n) for w, n in ((timedelta(minutes=1), self.per_minute), (timedelta(hours=1), self.per_hour),
                                    (timedelta(days=1), self.per_day)) if n > 0]


def allowance(limits: Limits, used: Iterable[tuple[timedelta, int]]) -> int | None:
    """How many more may go now, given how many went in each window (None: no limit)."""
    caps = dict(limits.windows())
    free = [caps[w] - n for w, n in used if w in caps]
    return max(0, int(min(free))) if free else None


class TokenBucket:
    """`rate` tokens a second, at most `capacity` saved up. Thread-safe; the clock is injectable."""

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float] = _time.monotonic):
        self.rate = rate
        self.capacity = capacity
        self.clock = clock
        self.tokens = capacity
        self.stamp = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self, n: float = 1) -> float:
        with self._lock:
            self._refill()
            return 0.0 if self.tokens >= n else (n - self.tokens) / self.rate

    def take(self, n: float = 1) -> bool:
        with self._lock:
            self._refill()
            if self.tokens >= n:
                self.tokens -= n
                return True
            return False


class RateLimiter:
    """All configured buckets together: `acquire` waits until each has a token, then takes one.

    `burst` caps how many may go back to back after a pause (default: a whole
    window's worth); `burst=1` spaces sends evenly (`mailbot run --max-per-minute`).
    """

    def __init__(self, limits: Limits, clock: Callable[[], float] = _time.monotonic,
                 sleep: Callable[[float], object] = _time.sleep, burst: int | None = None):
        self.limits = limits
        self.sleep = sleep
        self.buckets = [TokenBucket(n / w.total_seconds(), max(1.0, min(n, burst) if burst else n), clock)
                        for w, n in limits.windows()]
        self._lock = threading.Lock()

    def acquire(self, stopping: Callable[[], bool] | None = None) -> bool:
        """Wait for a token and take it; False (nothing taken) as soon as `stopping()` is true."""
        if not self.buckets:
            return True
        with self._lock:
            while True:
                if stopping is not None and stopping():
                    return False
                wait = max(b.wait_time() for b in self.buckets)
                if wait <= 0 and all(b.take() for b in self.buckets):
                    return True
                self.sleep(min(max(wait, 0.001), 0.25) if stopping is not None else max(wait, 0.001))
