"""States of things that move, with the allowed transitions written once.

Every status change in the store goes through `OutboxState.can_move` so a
row never leaves "sent" or jumps from "queued" to "failed" behind our back.
"""

from __future__ import annotations

from enum import StrEnum


class OutboxState(StrEnum):
    QUEUED = "queued"  # waiting to be claimed (not_before may be in the future)
    SENDING = "sending"  # claimed by a worker; the sweeper frees it after a timeout
    SENT = "sent"  # the server said 250
    DEFERRED = "deferred"  # a 4xx or a broken connection: tried again later
    FAILED = "failed"  # a 5xx, or suppressed at send time: never tried again
    SKIPPED = "skipped"  # the member may not be mailed any more (left, erased, bounced)

    def can_move(self, to: OutboxState) -> bool:
        return to in _OUTBOX_MOVES[self]


_OUTBOX_MOVES: dict[OutboxState, frozenset[OutboxState]] = {
    OutboxState.QUEUED: frozenset({OutboxState.SENDING, OutboxState.SKIPPED}),
    OutboxState.DEFERRED: frozenset({OutboxState.SENDING, OutboxState.SKIPPED}),
    OutboxState.SENDING: frozenset(
        {OutboxState.SENT, OutboxState.DEFERRED, OutboxState.FAILED, OutboxState.SKIPPED, OutboxState.QUEUED}
    ),
    OutboxState.SENT: frozenset(),
    OutboxState.FAILED: frozenset(),
    OutboxState.SKIPPED: frozenset(),
}

CLAIMABLE = (OutboxState.QUEUED, OutboxState.DEFERRED)


class InboundState(StrEnum):
    NEW = "new"  # stored, not yet read
    DONE = "done"  # read and acted on
    NEEDS_HUMAN = "needs-human"  # kept for staff, with the reason
    IGNORED = "ignored"  # a machine (bounce handled, auto-reply): nothing to answer
