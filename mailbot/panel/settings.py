"""config.toml: the panel, its database, transport, sending limits, privacy and districts, as typed
immutable sections (pydantic), checked when loaded; `Settings` resolves paths against the file's folder."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator

from mailbot.panel.files import StrictModel, read_toml, shape_problems
from mailbot.panel.problems import ConfigError, Problem
from mailbot.panel.profiles import check_postcode_pattern, parse_age_band, postcode_matches, postcode_range
from mailbot.panel.toml_lines import key_lines, line_of

LANGUAGES = ("nb", "nn", "en")


class PanelSection(StrictModel):
    name: str = "Innbyggerpanelet"
    organisation: str
    address: str
    reply_domain: str
    public_url: str = "http://127.0.0.1:8080"
    timezone: str = "Europe/Oslo"
    language: Literal["nb", "nn", "en"] = "nb"
    reply_local_part: str = ""  # defaults to the local part of `address`
    min_age: int = Field(default=15, ge=0, le=120)
    postcodes: list[str] = Field(default_factory=list)  # eligible postcodes ("1300-1369"); empty: any
    age_bands: list[str] = Field(default_factory=lambda: ["15-29", "30-44", "45-59", "60-74", "75+"])

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f'unknown time zone {v!r}; write for example "Europe/Oslo"') from exc
        return v

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        if not _looks_like_address(v.strip()):
            raise ValueError(
                f'{v!r} is not an email address; write for example "innbyggerpanel@baerum.kommune.no"'
            )
        return v.strip()

    @field_validator("reply_domain")
    @classmethod
    def _domain(cls, v: str) -> str:
        v = v.strip().lower()
        if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", v):
            raise ValueError(
                f'{v!r} is not a domain; write only the part after @, e.g. "svar.baerum.kommune.no"'
            )
        return v

    @field_validator("reply_local_part")
    @classmethod
    def _local_part(cls, v: str) -> str:
        if v and not re.fullmatch(r"[A-Za-z0-9._-]+", v):
            raise ValueError(f'{v!r} may only hold letters, digits, dots and hyphens, e.g. "innbyggerpanel"')
        return v

    @field_validator("public_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", v.strip()):
            raise ValueError(
                f'{v!r} is not a web address; write for example "https://panel.baerum.kommune.no"'
            )
        return v.strip().rstrip("/")

    @field_validator("postcodes")
    @classmethod
    def _postcodes(cls, v: list[str]) -> list[str]:
        for code in v:
            check_postcode_pattern(code)
        return v

    @field_validator("age_bands")
    @classmethod
    def _bands(cls, v: list[str]) -> list[str]:
        previous_hi: int | None = -1
        for band in v:
            lo, hi = parse_age_band(band)
            if previous_hi is None or lo <= previous_hi:
                raise ValueError(f"age band {band!r} overlaps the one before; list bands youngest first")
            if hi is not None and hi < lo:
                raise ValueError(f'age band {band!r} ends before it starts; write e.g. "30-44"')
            previous_hi = hi
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def local_part(self) -> str:
        return self.reply_local_part or self.address.split("@", 1)[0]


class DatabaseSection(StrictModel):
    url: str = "sqlite:///var/mailbot.sqlite3"

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", v):
            raise ValueError(
                f'{v!r} is not a database URL; write "sqlite:///var/mailbot.sqlite3" '
                'or "postgresql+psycopg://user@host:5432/name"'
            )
        return v


class TransportSection(StrictModel):
    kind: Literal["local", "smtp"] = "local"
    host: str = "127.0.0.1"
    port: int = Field(default=8025, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "none"
    username: str = ""  # the password comes from MAILBOT_SMTP_PASSWORD
    mailboxes: str = "var/mailboxes"  # local transport: one Maildir per recipient
    timeout: float = Field(default=30.0, gt=0)
    batch: int = Field(default=200, ge=1)


class SendingSection(StrictModel):
    """How fast and when emails go out (see mailbot.pacing); 0 turns a limit off."""

    # Local time window with no campaign email ("21:00-08:00"); receipts and notices still go. "" = none.
    quiet_hours: str = ""
    weekly_budget: int = Field(default=0, ge=0)  # campaign emails per member per 7 days, all campaigns
    per_minute: int = Field(default=0, ge=0)  # relay limits (Microsoft 365: 30 a minute, 10 000 a day)
    per_hour: int = Field(default=0, ge=0)
    per_day: int = Field(default=0, ge=0)
    concurrency: int = Field(default=1, ge=1, le=64)  # SMTP connections (sender threads) per process
    reconnect_after: int = Field(default=500, ge=1)  # messages on one connection before a fresh one
    sending_timeout: int = Field(default=900, ge=10)  # seconds in "sending" before the sweeper frees a row
    max_attempts: int = Field(default=12, ge=1)  # tries (4xx, dropped connections) before a row fails

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str) -> str:
        v = v.strip()
        if v and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", v):
            raise ValueError(f'{v!r} is not a time window; write for example "21:00-08:00", or "" for none')
        return v


class DkimSection(StrictModel):
    """DKIM signing; on when `selector` and `domain` are set and MAILBOT_DKIM_KEY_FILE names a key."""

    selector: str = ""  # e.g. "panel2024": the DNS record is panel2024._domainkey.<domain>
    domain: str = ""  # the signing domain, aligned with the From address for DMARC

    @field_validator("domain")
    @classmethod
    def _domain(cls, v: str) -> str:
        v = v.strip().lower()
        if v and not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", v):
            raise ValueError(f'{v!r} is not a domain; write for example "baerum.kommune.no"')
        return v


class PathsSection(StrictModel):
    schedules: str = "schedules"
    templates: str = "templates"
    data: str = "var"


class PrivacySection(StrictModel):
    min_group_size: int = Field(default=5, ge=1)
    raw_retention_days: int = Field(default=90, ge=1)


class RepliesSection(StrictModel):
    max_auto_answers_per_day: int = Field(default=3, ge=0)
    # A reading read back to the resident and never confirmed, when its survey closes: to the human
    # queue, recorded as read, or dropped (the message itself is kept either way).
    unconfirmed_at_close: Literal["human", "record", "drop"] = "human"


class BouncesSection(StrictModel):
    """When an address counts as undeliverable: a few hard bounces, or many soft ones close together."""

    hard_before_undeliverable: int = Field(default=1, ge=1)  # "user unknown", 5.x.x
    soft_before_undeliverable: int = Field(default=5, ge=1)  # "mailbox full", 4.x.x, unclear reports
    soft_window_days: int = Field(default=14, ge=1)  # both counts look this many days back


class ImapSection(StrictModel):
    """A mailbox the bot reads replies from (the password comes from MAILBOT_IMAP_PASSWORD)."""

    host: str = ""
    port: int = Field(default=993, ge=1, le=65535)
    security: Literal["tls", "starttls", "none"] = "tls"
    username: str = ""
    oauth2_token_command: str = ""  # prints an access token (Microsoft 365, Google): XOAUTH2 instead of a password
    folder: str = "INBOX"
    processed_folder: str = ""  # move handled mail here; "" = leave it, flagged as seen
    batch: int = Field(default=50, ge=1)
    idle: bool = True
    state_file: str = "var/imap-state.json"  # UIDVALIDITY and the last UID read


class InboundSection(StrictModel):
    """How replies reach the bot when `transport.kind` is not "local" (which receives them itself)."""

    kind: Literal["none", "imap", "lmtp", "smtp"] = "none"
    host: str = "127.0.0.1"  # lmtp/smtp: where the bot listens for the MTA
    port: int = Field(default=8024, ge=1, le=65535)
    socket: str = ""  # lmtp: a Unix socket path instead of host/port
    max_size: int = Field(default=25 * 1024 * 1024, ge=1024)
    imap: ImapSection = ImapSection()


class Config(StrictModel):
    panel: PanelSection
    database: DatabaseSection = DatabaseSection()
    transport: TransportSection = TransportSection()
    sending: SendingSection = SendingSection()
    dkim: DkimSection = DkimSection()
    paths: PathsSection = PathsSection()
    privacy: PrivacySection = PrivacySection()
    replies: RepliesSection = RepliesSection()
    bounces: BouncesSection = BouncesSection()
    inbound: InboundSection = InboundSection()
    districts: dict[str, list[str]] = Field(default_factory=dict)  # district -> postcodes or ranges


@dataclass(frozen=True)
class Settings:
    """The loaded configuration, with paths resolved against config.toml's folder."""

    config: Config
    root: Path
    file: Path

    @property
    def panel(self) -> PanelSection:
        return self.config.panel

    def path(self, relative: str) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else self.root / p

    @property
    def schedules_dir(self) -> Path:
        return self.path(self.config.paths.schedules)

    @property
    def templates_dir(self) -> Path:
        return self.path(self.config.paths.templates)

    @property
    def data_dir(self) -> Path:
        return self.path(self.config.paths.data)

    @property
    def database_url(self) -> str:
        url = os.environ.get("MAILBOT_DATABASE_URL") or self.config.database.url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            rel = url.removeprefix("sqlite:///")
            if rel and rel != ":memory:":
                url = "sqlite:///" + str(self.path(rel))
        return url

    def district_of(self, postcode: str | None) -> str | None:
        if not postcode:
            return None
        for district, codes in self.config.districts.items():
            if any(postcode_matches(postcode, c) for c in codes):
                return district
        return None

    def postcode_allowed(self, postcode: str) -> bool:
        """True if the panel takes residents with this postcode ([panel] postcodes, empty: any)."""
        codes = self.panel.postcodes
        return not codes or any(postcode_matches(postcode, c) for c in codes)



def _looks_like_address(v: str) -> bool:
    return re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v) is not None


def load_settings(path: str | Path = "config.toml", *, load_env: bool = True) -> Settings:
    """Read config.toml (and .env beside it). Raises ConfigError."""
    file = Path(path)
    if load_env:
        from dotenv import load_dotenv

        load_dotenv(file.parent / ".env", override=False)
    data, text = read_toml(file)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(shape_problems(file, text, exc, Config, data)) from None
    problems = _check_districts(file, text, config)
    if problems:
        raise ConfigError(problems)
    return Settings(config=config, root=file.resolve().parent, file=file)


def _check_districts(file: Path, text: str, config: Config) -> list[Problem]:
    lines = key_lines(text)
    problems: list[Problem] = []
    claimed: list[tuple[int, int, str]] = []  # (lo, hi, district)
    for district, codes in config.districts.items():
        for i, code in enumerate(codes):
            where = line_of(lines, ("districts", district, i))
            try:
                check_postcode_pattern(code)
            except ValueError as exc:
                what, instead = str(exc).split("; ", 1)
                problems.append(Problem(file, where, f"district {district!r}: {what}", instead))
                continue
            lo, hi = postcode_range(code)
            for other_lo, other_hi, other in claimed:
                if lo <= other_hi and other_lo <= hi:
                    problems.append(
                        Problem(
                            file,
                            where,
                            f"district {district!r}: {code} is also in {other!r}",
                            "a postcode may belong to one district only; remove it from one",
                        )
                    )
                    break
            claimed.append((lo, hi, district))
    return problems


def local_time(settings: Settings, d: date, t: time) -> datetime:
    return datetime.combine(d, t, tzinfo=settings.panel.zone)
