"""Load and check what staff write: config.toml, schedules/*.toml, secrets.

Every mistake becomes a `Problem` with file, line, what is wrong and what to
write instead; `ConfigError` carries all of them at once so staff can fix a
file in one go. Nothing here touches the database or the network.

Checking happens in three layers, each pointing at the line it is about:
reading (UTF-8, TOML syntax), shape (pydantic models: known keys, types) and
meaning (closes after opens, a scale has min and max, an audience names a
real campaign, question and option).
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from mailbot.campaigns import (
    Audience,
    Campaign,
    EarlierAnswer,
    Question,
    QuestionType,
    ResultsPolicy,
    Survey,
)
from mailbot.tomlsource import Path as KeyPath
from mailbot.tomlsource import key_lines, line_of, scan


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    what: str
    instead: str = ""

    def __str__(self) -> str:
        tail = f" — {self.instead}" if self.instead else ""
        return f"{self.file}:{self.line}: {self.what}{tail}"


ProblemT = TypeVar("ProblemT", bound=Problem)


class ConfigError(Exception):
    """One or more problems in files staff wrote; nothing was changed."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems, key=lambda p: (str(p.file), p.line))
        super().__init__("\n".join(str(p) for p in self.problems))


LANGUAGES = ("nb", "nn", "en")

# ---------------------------------------------------------------- config.toml


class _Strict(BaseModel):
    # Unknown keys are errors: a typo must not pass silently.
    model_config = ConfigDict(extra="forbid", frozen=True)


class PanelSection(_Strict):
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
            _check_postcode_pattern(code)
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


class DatabaseSection(_Strict):
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


class TransportSection(_Strict):
    kind: Literal["local", "smtp"] = "local"
    host: str = "127.0.0.1"
    port: int = Field(default=8025, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "none"
    username: str = ""  # the password comes from MAILBOT_SMTP_PASSWORD
    mailboxes: str = "var/mailboxes"  # local transport: one Maildir per recipient
    timeout: float = Field(default=30.0, gt=0)
    batch: int = Field(default=200, ge=1)


class SendingSection(_Strict):
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


class DkimSection(_Strict):
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


class PathsSection(_Strict):
    schedules: str = "schedules"
    templates: str = "templates"
    data: str = "var"


class PrivacySection(_Strict):
    min_group_size: int = Field(default=5, ge=1)
    raw_retention_days: int = Field(default=90, ge=1)


class RepliesSection(_Strict):
    max_auto_answers_per_day: int = Field(default=3, ge=0)
    # A reading read back to the resident and never confirmed, when its survey closes: to the human
    # queue, recorded as read, or dropped (the message itself is kept either way).
    unconfirmed_at_close: Literal["human", "record", "drop"] = "human"


class BouncesSection(_Strict):
    """When an address counts as undeliverable: a few hard bounces, or many soft ones close together."""

    hard_before_undeliverable: int = Field(default=1, ge=1)  # "user unknown", 5.x.x
    soft_before_undeliverable: int = Field(default=5, ge=1)  # "mailbox full", 4.x.x, unclear reports
    soft_window_days: int = Field(default=14, ge=1)  # both counts look this many days back


class ImapSection(_Strict):
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


class InboundSection(_Strict):
    """How replies reach the bot when `transport.kind` is not "local" (which receives them itself)."""

    kind: Literal["none", "imap", "lmtp", "smtp"] = "none"
    host: str = "127.0.0.1"  # lmtp/smtp: where the bot listens for the MTA
    port: int = Field(default=8024, ge=1, le=65535)
    socket: str = ""  # lmtp: a Unix socket path instead of host/port
    max_size: int = Field(default=25 * 1024 * 1024, ge=1024)
    imap: ImapSection = ImapSection()


class Config(_Strict):
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


def postcode_matches(postcode: str, pattern: str) -> bool:
    """ "1338" matches "1338" and the range "1300-1369"."""
    if "-" in pattern:
        lo, hi = (p.strip() for p in pattern.split("-", 1))
        return postcode.isdigit() and lo <= postcode.zfill(len(lo)) <= hi
    return postcode == pattern.strip()


def _check_postcode_pattern(code: str) -> None:
    lo, dash, hi = (p.strip() for p in code.partition("-"))
    if not re.fullmatch(r"\d{4}", lo) or (dash and not re.fullmatch(r"\d{4}", hi)) or (dash and hi < lo):
        raise ValueError(f'{code!r} is not a postcode or a range of postcodes; write "1338" or "1300-1369"')


def _postcode_range(code: str) -> tuple[int, int]:
    lo, _, hi = (p.strip() for p in code.partition("-"))
    return int(lo), int(hi or lo)


def parse_age_band(band: str) -> tuple[int, int | None]:
    """ "30-44" -> (30, 44); "75+" -> (75, None)."""
    b = band.strip()
    try:
        if b.endswith("+"):
            return int(b[:-1]), None
        lo, hi = b.split("-", 1)
        return int(lo), int(hi)
    except ValueError:
        raise ValueError(f'age band {band!r} is not like "30-44" or "75+"') from None


def age_band_of(birth_year: int | None, bands: Iterable[str], today: date) -> str | None:
    if birth_year is None:
        return None
    age = today.year - birth_year
    for band in bands:
        lo, hi = parse_age_band(band)
        if age >= lo and (hi is None or age <= hi):
            return band
    return None


# ------------------------------------------------------------ schedules/*.toml

_DURATION = re.compile(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?", re.IGNORECASE)
_UNITS = {  # what staff write instead of ISO 8601, in Norwegian and English
    "D": ("d", "dag", "dager", "dagen", "day", "days", "døgn"),
    "W": ("u", "uke", "uker", "w", "week", "weeks"),
    "H": ("t", "h", "time", "timer", "hour", "hours"),
}


def parse_duration(value: Any) -> timedelta:
    """ "P4D" -> 4 days; also P1W, PT12H, P1DT6H. Anything else raises ValueError with a suggestion."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f'{value!r} is not a duration in quotes; write "P4D" (4 days) or "PT12H" (12 hours)')
    m = _DURATION.fullmatch(value.strip())
    if not m or value.strip().upper() in ("P", "PT") or value.strip().upper().endswith("T"):
        raise ValueError(f"{value!r} is not a duration; write {_duration_hint(value)}")
    weeks, days, hours, minutes = (int(g) if g else 0 for g in m.groups())
    return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)


def _duration_hint(value: str) -> str:
    m = re.fullmatch(r"\s*(\d+)\s*([A-Za-zæøåÆØÅ]+)\s*", value)
    if m:
        n, unit = m.group(1), m.group(2).lower()
        for code, words in _UNITS.items():
            if unit in words:
                iso = f"PT{n}H" if code == "H" else f"P{n}{code}"
                return f'"{iso}" (ISO 8601: P = period, {n}{code} = {value.strip()})'
    return '"P4D" (4 days), "P1W" (1 week) or "PT12H" (12 hours)'


def _a_datetime(value: Any) -> Any:
    # Only TOML dates and times (or an ISO string); pydantic would take 1669885200 as a timestamp.
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        raise ValueError(f"{value.isoformat()} has no time of day; write {value.isoformat()}T09:00")
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date and time")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
LocalDateTime = Annotated[datetime, BeforeValidator(_a_datetime)]
_ID = r"^[a-z0-9][a-z0-9_-]*$"


class QuestionFile(_Strict):
    id: str = Field(pattern=_ID)
    text: str = Field(min_length=1)
    type: QuestionType
    options: list[str] = Field(default_factory=list)
    min: int | None = None
    max: int | None = None
    min_label: str | None = None
    max_label: str | None = None
    required: bool = True


class EarlierAnswerFile(_Strict):
    campaign: str
    question: str
    answer: str | int


class AudienceFile(_Strict):
    tags: list[str] = Field(default_factory=list)
    age_bands: list[str] = Field(default_factory=list)
    districts: list[str] = Field(default_factory=list)
    languages: list[Literal["nb", "nn", "en"]] = Field(default_factory=list)
    answered: list[EarlierAnswerFile] = Field(default_factory=list)


def _audience(value: Any) -> Any:
    # "all" or a table; one error message for both instead of pydantic's two union branches.
    if value == "all" or value is None:
        return None
    if isinstance(value, dict):
        return value
    raise ValueError(f"{value!r} is not an audience")


class SurveyFile(_Strict):
    id: str = Field(pattern=_ID)
    kind: Literal["survey"]
    title: str = Field(min_length=1)
    audience: Annotated[AudienceFile | None, BeforeValidator(_audience)] = None
    opens: LocalDateTime
    closes: LocalDateTime
    reminders: list[Duration] = Field(default_factory=list)
    results: ResultsPolicy = ResultsPolicy.AFTER_CLOSE
    language: Literal["nb", "nn", "en"] = "nb"
    intro: str = ""
    questions: list[QuestionFile] = Field(min_length=1)


def _iso(d: timedelta) -> str:
    days, secs = d.days, d.seconds
    out = f"P{days}D" if days else "P"
    if secs:
        out += f"T{secs // 3600}H" if secs % 3600 == 0 else f"T{secs // 60}M"
    return out


# A finding about meaning: the key path it is about, what is wrong, what to write instead.
Finding = tuple[KeyPath, str, str]


def _check_question(q: QuestionFile, i: int) -> list[Finding]:
    at: KeyPath = ("questions", i)
    label = f"question {i + 1} ({q.id})"
    out: list[Finding] = []
    if q.type in (QuestionType.CHOICE, QuestionType.MULTI):
        if len(q.options) < 2:
            where = (*at, "options") if q.options else (*at, "type")
            out.append(
                (
                    where,
                    f"{label}: a {q.type} question needs at least two options",
                    'add options = ["Ja", "Nei", "Vet ikke"]',
                )
            )
        if len(q.options) > 26:
            out.append(
                (
                    (*at, "options"),
                    f"{label}: {len(q.options)} options; at most 26 (A to Z)",
                    "split the question in two",
                )
            )
        seen: dict[str, int] = {}
        for j, option in enumerate(q.options):
            if not option.strip():
                out.append(((*at, "options", j), f"{label}: option {j + 1} is empty", "write its text"))
            elif option.casefold() in seen:
                out.append(
                    (
                        (*at, "options", j),
                        f"{label}: option {option!r} is listed twice",
                        "give each option its own words",
                    )
                )
            seen.setdefault(option.casefold(), j)
    elif q.options:
        out.append(
            (
                (*at, "options"),
                f"{label}: a {q.type} question has no options",
                'remove options, or write type = "choice"',
            )
        )
    if q.type == QuestionType.SCALE:
        if q.min is None or q.max is None:
            missing = " and ".join(k for k, v in (("min", q.min), ("max", q.max)) if v is None)
            out.append(
                ((*at, "type"), f"{label}: a scale question needs {missing}", "add min = 1 and max = 5")
            )
        elif q.min >= q.max:
            out.append(
                (
                    (*at, "max"),
                    f"{label}: max ({q.max}) must be greater than min ({q.min})",
                    "write e.g. min = 1 and max = 5",
                )
            )
        elif q.max - q.min > 10:
            out.append(
                (
                    (*at, "max"),
                    f"{label}: a scale of {q.max - q.min + 1} steps; at most 11",
                    "write e.g. min = 0 and max = 10",
                )
            )
    else:
        for key, value in (
            ("min", q.min),
            ("max", q.max),
            ("min_label", q.min_label),
            ("max_label", q.max_label),
        ):
            if value is not None:
                out.append(
                    (
                        (*at, key),
                        f"{label}: {key} belongs to scale questions",
                        f'remove {key}, or write type = "scale"',
                    )
                )
    return out


def _check_survey(f: SurveyFile, tz: ZoneInfo) -> list[Finding]:
    out: list[Finding] = []
    for key, value in (("opens", f.opens), ("closes", f.closes)):
        gap = _nonexistent(value, tz)
        if gap:
            out.append(
                (
                    (key,),
                    f"{key}: {value:%Y-%m-%d %H:%M} does not exist in {tz.key} "
                    "(clocks jump forward that night)",
                    f"write {gap}",
                )
            )
    opens, closes = _local(f.opens, tz), _local(f.closes, tz)
    if closes <= opens:
        out.append(
            (
                ("closes",),
                f"closes ({closes:%Y-%m-%d %H:%M}) is not after opens ({opens:%Y-%m-%d %H:%M})",
                "write a closing time after the opening time, e.g. closes = 2022-12-15T23:59",
            )
        )
    else:
        span = closes - opens
        seen: set[timedelta] = set()
        for i, r in enumerate(f.reminders):
            if r <= timedelta(0) or r >= span:
                out.append(
                    (
                        ("reminders", i),
                        f"reminder {_iso(r)} comes after closing (the survey is open {_iso(span)})",
                        f'use a duration shorter than {_iso(span)}, e.g. "P{max(1, span.days // 2)}D"',
                    )
                )
            elif r in seen:
                out.append((("reminders", i), f"reminder {_iso(r)} is listed twice", "remove one"))
            seen.add(r)
    first: dict[str, int] = {}
    for i, q in enumerate(f.questions):
        if q.id in first:
            out.append(
                (
                    ("questions", i, "id"),
                    f"question id {q.id!r} is also question {first[q.id] + 1}",
                    "give each question its own id",
                )
            )
        first.setdefault(q.id, i)
        out.extend(_check_question(q, i))
    return out


def _nonexistent(dt: datetime, tz: ZoneInfo) -> str | None:
    """For a wall-clock time skipped by a DST change, the same time an hour later."""
    if dt.tzinfo is not None:
        return None
    aware = dt.replace(tzinfo=tz)
    back = aware.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None)
    if back != dt:
        return f"{back:%Y-%m-%dT%H:%M}"
    return None


# ------------------------------------------------------------------ loading

_EXAMPLES: dict[str, str] = {
    "opens": "opens = 2022-12-01T09:00",
    "closes": "closes = 2022-12-15T23:59",
    "reminders": 'reminders = ["P4D", "P9D"]',
    "type": 'type = "choice" (or multi, scale, text)',
    "results": 'results = "after-close" (or "none")',
    "kind": 'kind = "survey"',
    "id": 'id = "ombruk-2022" (lower-case letters, digits and hyphens)',
    "title": 'title = "Behov for en ombruksbutikk i Bærum"',
    "text": 'text = "Er det behov for en ombruksbutikk i Bærum?"',
    "questions": "[[questions]] with id, text and type",
    "language": 'language = "nb" (or nn, en)',
    "languages": 'languages = ["nb", "nn", "en"]',
    "audience": 'audience = "all", or an [audience] table (tags, age_bands, districts, languages, answered)',
    "organisation": 'organisation = "Bærum kommune"',
    "address": 'address = "innbyggerpanel@baerum.kommune.no"',
    "reply_domain": 'reply_domain = "svar.baerum.kommune.no"',
    "panel": "a [panel] table with organisation, address and reply_domain",
    "campaign": 'campaign = "id of an earlier campaign"',
    "question": 'question = "id of a question in it"',
    "answer": 'answer = "Ja"',
}

# Where to point when a key is missing: the key it belongs beside.
_NEIGHBOUR = {"closes": "opens", "opens": "closes", "title": "id", "kind": "id", "id": "kind"}

_TYPE_WORDS = {
    "string_type": "text in quotes",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list in [brackets]",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            [Problem(path, 1, f"cannot read the file ({exc.strerror})", "check the path")]
        ) from None
    try:
        text = raw.decode("utf-8-sig")  # Notepad's BOM is harmless
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            [
                Problem(
                    path,
                    line,
                    "the file is not UTF-8 (æ, ø or å saved in another encoding)",
                    "save it as UTF-8 (in Notepad: Save as → Encoding: UTF-8)",
                )
            ]
        ) from None
    try:
        return tomllib.loads(_with_seconds(text)), text
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_syntax_problem(path, text, str(exc))]) from None


# TOML 1.0 wants seconds (09:00:00); staff write 09:00, as TOML 1.1 allows.
_NO_SECONDS = re.compile(r"^(\s*[^#=\n]+=\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2})(?=\s*(#.*)?$)", re.MULTILINE)


def _with_seconds(text: str) -> str:
    return _NO_SECONDS.sub(r"\1:00", text)


def _syntax_problem(path: Path, text: str, message: str) -> Problem:
    what = message.split(" (at ")[0]
    m = re.search(r"at line (\d+)", message)
    found = scan(text)
    if m:
        line = int(m.group(1))
    elif found.repeated:
        line = found.repeated[0][2]
    elif found.unreadable:
        line = found.unreadable[0]
    else:
        line = max(1, len(text.splitlines()))
    source = text.splitlines()[line - 1] if 0 < line <= len(text.splitlines()) else ""
    key_part = source.split("=", 1)[0].strip() if "=" in source else ""
    if "overwrite" in what or "twice" in what:
        first = next((f for k, f, second in found.repeated if second == line), None)
        also = f" (also on line {first})" if first else ""
        return Problem(path, line, f"this key or table is set twice{also}", "keep only one of them")
    if key_part and not key_part.startswith(('"', "'")) and not re.fullmatch(r"[A-Za-z0-9_.-]+", key_part):
        return Problem(
            path,
            line,
            f"the key {key_part!r} has letters or spaces TOML does not allow bare",
            f'put it in quotes: "{key_part}" = …',
        )
    if what == "Invalid value" and key_part and source.split("=", 1)[1].strip()[:1].isalpha():
        value = source.split("=", 1)[1].split("#")[0].strip()
        return Problem(
            path, line, f"{key_part}: the text {value!r} is not in quotes", f'write {key_part} = "{value}"'
        )
    if "Unterminated string" in what or "Unclosed" in what:
        return Problem(
            path, line, f"not valid TOML: {what.lower()}", "close it with the same quote or bracket"
        )
    return Problem(path, line, f"not valid TOML: {what}", 'write key = value, with text in "quotes"')


def _describe(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """("questions", 3, "type") -> 'question 4 (location): type'."""
    if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
        questions = data.get("questions")
        qid = ""
        if isinstance(questions, list) and loc[1] < len(questions) and isinstance(questions[loc[1]], dict):
            qid = f" ({questions[loc[1]].get('id')})" if questions[loc[1]].get("id") else ""
        rest = ".".join(str(p) for p in loc[2:])
        return f"question {loc[1] + 1}{qid}" + (f": {rest}" if rest else "")
    return ".".join(str(p) for p in loc) or "file"


def _problems(
    path: Path, text: str, error: ValidationError, model: type[BaseModel], data: dict[str, Any]
) -> list[Problem]:
    lines = key_lines(text)
    out: list[Problem] = []
    for err in error.errors():
        loc = tuple(
            p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "literal[")))
        )
        field = next((p for p in reversed(loc) if isinstance(p, str)), "")
        where = _describe(loc, data)
        kind = err["type"]
        given = err.get("input")
        if kind == "extra_forbidden":
            allowed = _allowed_keys(model, loc[:-1])
            close = difflib.get_close_matches(str(field), allowed, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed here: {', '.join(allowed)}"
            out.append(Problem(path, line_of(lines, loc), f"unknown key {where!r}", hint))
        elif kind == "missing":
            parent = loc[:-1]
            neighbour = _NEIGHBOUR.get(str(field)) if not parent else None
            at = (neighbour,) if neighbour and (neighbour,) in lines else parent
            out.append(
                Problem(
                    path,
                    line_of(lines, at),
                    f"missing key {where!r}",
                    f"add {_EXAMPLES.get(str(field), str(field) + ' = …')}",
                )
            )
        elif kind in ("literal_error", "enum"):
            expected = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
            close = difflib.get_close_matches(str(given), expected, n=1, cutoff=0.5)
            hint = f'did you mean "{close[0]}"?' if close else f"write one of: {', '.join(expected)}"
            out.append(Problem(path, line_of(lines, loc), f"{where}: {given!r} is not allowed here", hint))
        elif kind in _TYPE_WORDS:
            example = _EXAMPLES.get(str(field), "")
            out.append(
                Problem(
                    path,
                    line_of(lines, loc),
                    f"{where}: should be {_TYPE_WORDS[kind]}, not {given!r}",
                    f"write {example}" if example else "",
                )
            )
        elif kind == "string_pattern_mismatch":
            out.append(
                Problem(
                    path,
                    line_of(lines, loc),
                    f"{where}: {given!r} is not a valid id",
                    'use lower-case letters a-z, digits and - or _, e.g. "ombruk-2022"',
                )
            )
        elif kind in ("too_short", "string_too_short"):
            out.append(
                Problem(
                    path,
                    line_of(lines, loc),
                    f"{where}: is empty",
                    f"write {_EXAMPLES.get(str(field), str(field) + ' = …')}",
                )
            )
        else:
            msg = err["msg"].removeprefix("Value error, ")
            if "; write " in msg:
                what, instead = msg.split("; write ", 1)
                out.append(Problem(path, line_of(lines, loc), f"{where}: {what}", f"write {instead}"))
                continue
            example = _EXAMPLES.get(str(field), "")
            out.append(
                Problem(path, line_of(lines, loc), f"{where}: {msg}", f"write {example}" if example else "")
            )
    return unique_problems(out)


def unique_problems(problems: Iterable[ProblemT]) -> list[ProblemT]:
    """Each (file, line, what) once, in the order first seen."""
    seen: set[tuple[Path, int, str]] = set()
    out: list[ProblemT] = []
    for p in problems:
        if (p.file, p.line, p.what) not in seen:
            seen.add((p.file, p.line, p.what))
            out.append(p)
    return out


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = (
            current.model_fields.get(part)
            if isinstance(current, type) and issubclass(current, BaseModel)
            else None
        )
        if field is None:
            return []
        current = _inner_model(field.annotation)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found:
            return found
    return None


def load_settings(path: str | Path = "config.toml", *, load_env: bool = True) -> Settings:
    """Read config.toml (and .env beside it). Raises ConfigError."""
    file = Path(path)
    if load_env:
        from dotenv import load_dotenv

        load_dotenv(file.parent / ".env", override=False)
    data, text = _read_toml(file)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(file, text, exc, Config, data)) from None
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
                _check_postcode_pattern(code)
            except ValueError as exc:
                what, instead = str(exc).split("; ", 1)
                problems.append(Problem(file, where, f"district {district!r}: {what}", instead))
                continue
            lo, hi = _postcode_range(code)
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


def load_campaign_file(path: str | Path, zone: ZoneInfo | str = "Europe/Oslo") -> Campaign:
    """Read one schedules/*.toml into a campaign. Raises ConfigError."""
    file = Path(path)
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    data, text = _read_toml(file)
    lines = key_lines(text)
    kind = data.get("kind")
    if kind is None:
        raise ConfigError(
            [Problem(file, line_of(lines, ("id",)), "missing key 'kind'", f"add {_EXAMPLES['kind']}")]
        )
    if kind in ("course", "recruitment", "update"):
        return _other_kind(str(kind), file, data, text, tz)
    if kind != "survey":
        kinds = ["survey", "course", "recruitment", "update"]
        close = difflib.get_close_matches(str(kind), kinds, n=1)
        hint = f'did you mean "{close[0]}"?' if close else f"write kind = one of {', '.join(kinds)}"
        raise ConfigError([Problem(file, line_of(lines, ("kind",)), f"unknown campaign kind {kind!r}", hint)])
    try:
        parsed = SurveyFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(file, text, exc, SurveyFile, data)) from None
    findings = _check_survey(parsed, tz)
    if findings:
        raise ConfigError(
            Problem(file, line_of(lines, loc), what, instead) for loc, what, instead in findings
        )
    return _survey(parsed, file, tz)


def _other_kind(kind: str, file: Path, data: dict[str, Any], text: str, tz: ZoneInfo) -> Campaign:
    """A course, recruitment or update file (`mailbot.campaign_files`), checked in the same three layers."""
    from mailbot.campaign_files import FILES

    model, check, build = FILES[kind]
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(file, text, exc, model, data)) from None
    findings = check(parsed, tz)
    if findings:
        lines = key_lines(text)
        raise ConfigError(Problem(file, line_of(lines, loc), what, instead) for loc, what, instead in findings)
    campaign: Campaign = build(parsed, file, tz)
    return campaign


def _local(dt: datetime, tz: ZoneInfo) -> datetime:
    # Staff write local wall-clock times; an explicit offset is respected.
    return dt.replace(tzinfo=tz) if dt.tzinfo is None else dt.astimezone(tz)


def _survey(f: SurveyFile, file: Path, tz: ZoneInfo) -> Survey:
    questions = tuple(
        Question(
            id=q.id,
            number=i,
            text=q.text,
            type=q.type,
            options=tuple(q.options),
            min=q.min,
            max=q.max,
            min_label=q.min_label,
            max_label=q.max_label,
            required=q.required,
        )
        for i, q in enumerate(f.questions, start=1)
    )
    a = f.audience
    if a is None:
        audience = Audience()
    else:
        audience = Audience(
            tags=tuple(a.tags),
            age_bands=tuple(a.age_bands),
            districts=tuple(a.districts),
            languages=tuple(a.languages),
            answered=tuple(EarlierAnswer(e.campaign, e.question, e.answer) for e in a.answered),
        )
    return Survey(
        id=f.id,
        title=f.title,
        opens=_local(f.opens, tz),
        closes=_local(f.closes, tz),
        questions=questions,
        audience=audience,
        reminders=tuple(f.reminders),
        results=f.results,
        language=f.language,
        intro=f.intro,
        source=file,
    )


def load_campaigns(settings: Settings) -> list[Campaign]:
    """Every schedule, checked alone and against each other. Raises ConfigError with all problems."""
    problems: list[Problem] = []
    campaigns: list[Campaign] = []
    if not settings.schedules_dir.is_dir():
        raise ConfigError(
            [
                Problem(
                    settings.file,
                    _paths_line(settings, "schedules"),
                    f"the schedules folder {settings.schedules_dir} does not exist",
                    "create it, or set [paths] schedules to the folder with the campaign files",
                )
            ]
        )
    files = sorted(settings.schedules_dir.glob("*.toml"))
    for file in files:
        try:
            campaigns.append(load_campaign_file(file, settings.panel.zone))
        except ConfigError as exc:
            problems.extend(exc.problems)
    problems.extend(_cross_check(campaigns, settings))
    from mailbot.campaign_files import cross_check

    problems.extend(cross_check(campaigns))
    if problems:
        raise ConfigError(problems)
    from mailbot.forms import forms_of

    # Courses and recruitments are answered through small derived surveys (see mailbot.forms).
    return campaigns + [f for c in campaigns for f in forms_of(c, settings.panel.zone)]


def _paths_line(settings: Settings, key: str) -> int:
    try:
        return line_of(key_lines(settings.file.read_text(encoding="utf-8-sig")), ("paths", key))
    except (OSError, UnicodeDecodeError):
        return 1


def _source_lines(c: Campaign) -> dict[KeyPath, int]:
    src = c.source
    if src is None or not src.exists():
        return {}
    return key_lines(src.read_text(encoding="utf-8-sig"))


def _cross_check(campaigns: Sequence[Campaign], settings: Settings) -> list[Problem]:
    problems: list[Problem] = []
    by_id: dict[str, Campaign] = {}
    for c in campaigns:
        src = c.source or Path("?")
        lines = _source_lines(c)
        if c.id in by_id:
            other = by_id[c.id]
            other_line = line_of(_source_lines(other), ("id",))
            problems.append(
                Problem(
                    src,
                    line_of(lines, ("id",)),
                    f"campaign id {c.id!r} is also used in {other.source}:{other_line}",
                    "give each campaign its own id",
                )
            )
        by_id.setdefault(c.id, c)
        a = c.audience
        for i, band in enumerate(a.age_bands):
            if band not in settings.panel.age_bands:
                problems.append(
                    Problem(
                        src,
                        line_of(lines, ("audience", "age_bands", i)),
                        f"unknown age band {band!r}",
                        f"use one of {', '.join(settings.panel.age_bands)} ([panel] age_bands)",
                    )
                )
        for i, district in enumerate(a.districts):
            if district not in settings.config.districts:
                known = list(settings.config.districts)
                close = difflib.get_close_matches(district, known, n=1)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else f"use one of {', '.join(known)}"
                    if known
                    else "add it to [districts] in config.toml"
                )
                problems.append(
                    Problem(
                        src,
                        line_of(lines, ("audience", "districts", i)),
                        f"unknown district {district!r}",
                        hint,
                    )
                )
    for c in campaigns:
        src = c.source or Path("?")
        lines = _source_lines(c)
        for i, e in enumerate(c.audience.answered):
            at: KeyPath = ("audience", "answered", i)
            earlier = by_id.get(e.campaign)
            if earlier is None or earlier is c:
                known = [x for x in by_id if x != c.id]
                close = difflib.get_close_matches(e.campaign, known, n=1)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else "name the id of an earlier campaign in schedules/"
                )
                problems.append(
                    Problem(
                        src,
                        line_of(lines, (*at, "campaign")),
                        f"audience refers to unknown campaign {e.campaign!r}",
                        hint,
                    )
                )
                continue
            if not isinstance(earlier, Survey):
                problems.append(
                    Problem(
                        src,
                        line_of(lines, (*at, "campaign")),
                        f"{e.campaign!r} is a {earlier.kind}, not a survey: it has no answers to select by",
                        "name a survey, or use participants/volunteers in an update",
                    )
                )
                continue
            q = earlier.question(e.question)
            if q is None:
                problems.append(
                    Problem(
                        src,
                        line_of(lines, (*at, "question")),
                        f"campaign {e.campaign!r} has no question {e.question!r}",
                        f"use one of {', '.join(x.id for x in earlier.questions)}",
                    )
                )
            elif q.type == QuestionType.TEXT:
                problems.append(
                    Problem(
                        src,
                        line_of(lines, (*at, "question")),
                        f"{e.campaign}.{e.question} is a text question; free text cannot select an audience",
                        "choose a choice, multi or scale question",
                    )
                )
            elif q.options and str(e.answer).casefold() not in {o.casefold() for o in q.options}:
                problems.append(
                    Problem(
                        src,
                        line_of(lines, (*at, "answer")),
                        f"{e.answer!r} is not an option of {e.campaign}.{e.question}",
                        f"use one of {', '.join(repr(o) for o in q.options)}",
                    )
                )
            elif q.type == QuestionType.SCALE and (
                not str(e.answer).lstrip("-").isdigit() or int(e.answer) not in q.scale_values
            ):
                problems.append(
                    Problem(
                        src,
                        line_of(lines, (*at, "answer")),
                        f"{e.answer!r} is not on the scale of {e.campaign}.{e.question}",
                        f"use a whole number from {q.min} to {q.max}",
                    )
                )
    return problems


def local_time(settings: Settings, d: date, t: time) -> datetime:
    return datetime.combine(d, t, tzinfo=settings.panel.zone)


# ------------------------------------------------------------------ secrets


class MissingSecret(Exception):
    """A secret the operator must put in the environment or .env."""


def secret(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise MissingSecret(
            f"{name} is not set — put it in the environment or in .env beside config.toml "
            f"(for the token key: {name}=$(python -c 'import secrets; print(secrets.token_urlsafe(32))'))"
        )
    return value
