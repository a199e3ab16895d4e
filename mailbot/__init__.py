"""mailbot: an email-first engagement bot for a municipal citizen panel."""

__version__ = "0.1.0"
