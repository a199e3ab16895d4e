"""The old import path of what staff write, kept so code not yet moved over keeps working.

config.toml, secrets and the reading of staff files now live in `mailbot.panel`; campaign files in
`mailbot.schedules` and the campaign kinds. Nothing inside mailbot imports this module (the import
contracts in `.importlinter` keep it so); `mailbot.reading`'s tests and benches still do.
"""

from __future__ import annotations

from mailbot.campaigns.audience_file import AudienceFile
from mailbot.panel.files import Duration, Finding, LocalDateTime, parse_duration
from mailbot.panel.problems import ConfigError, Problem, unique_problems
from mailbot.panel.profiles import age_band_of, parse_age_band, postcode_matches
from mailbot.panel.secrets import MissingSecret, secret
from mailbot.panel.settings import LANGUAGES, Config, PanelSection, PrivacySection, Settings, load_settings, local_time
from mailbot.schedules import load_campaign_file, load_campaigns

__all__ = [
    "LANGUAGES",
    "AudienceFile",
    "Config",
    "ConfigError",
    "Duration",
    "Finding",
    "LocalDateTime",
    "MissingSecret",
    "PanelSection",
    "PrivacySection",
    "Problem",
    "Settings",
    "age_band_of",
    "load_campaign_file",
    "load_campaigns",
    "load_settings",
    "local_time",
    "parse_age_band",
    "parse_duration",
    "postcode_matches",
    "secret",
    "unique_problems",
]
