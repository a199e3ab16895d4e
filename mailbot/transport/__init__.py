"""Edges that move mail: the SMTP sender and the embedded local post office.

Errors a send can end in (the sender turns them into outbox states):

    SendError
    ├── TemporarySendError   4xx, a dropped connection, a timeout -> deferred, tried again
    └── PermanentSendError   5xx for this recipient -> failed, the server's text kept
"""

from __future__ import annotations


class SendError(Exception):
    def __init__(self, response: str):
        super().__init__(response)
        self.response = response


class TemporarySendError(SendError):
    """Try again later."""


class PermanentSendError(SendError):
    """This recipient will not take the message."""
