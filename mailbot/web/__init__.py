"""The web edge: one-click answers, the survey form, unsubscribe, join, profile, export, erasure."""

from mailbot.web.app import GRACE, TOPICS, create_app
from mailbot.web.guard import RateLimit

__all__ = ["GRACE", "TOPICS", "RateLimit", "create_app"]
