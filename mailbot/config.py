"""Load and check what staff write: config.toml, schedules/*.toml, secrets.

Every mistake becomes a `Problem` with file, line, what is wrong and what to
write instead; `ConfigError` carries all of them at once so staff can fix a
file in one go. Nothing here touches the database or the network.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mailbot.campaigns import (
    Audience,
    Campaign,
    EarlierAnswer,
    Question,
    QuestionType,
    ResultsPolicy,
    Survey,
)
from mailbot.tomlsource import key_lines, line_of


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    what: str
    instead: str = ""

    def __str__(self) -> str:
        tail = f" — {self.instead}" if self.instead else ""
        return f"{self.file}:{self.line}: {self.what}{tail}"


class ConfigError(Exception):
    """One or more problems in files staff wrote; nothing was changed."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


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
    min_age: int = 15
    postcodes: list[str] = Field(default_factory=list)  # eligible postcodes ("1300-1369"); empty: any
    age_bands: list[str] = Field(default_factory=lambda: ["15-29", "30-44", "45-59", "60-74", "75+"])

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}; write for example \"Europe/Oslo\"") from exc
        return v

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        if "@" not in v or " " in v.strip():
            raise ValueError(f"{v!r} is not an email address; write for example \"innbyggerpanel@baerum.kommune.no\"")
        return v.strip()

    @field_validator("age_bands")
    @classmethod
    def _bands(cls, v: list[str]) -> list[str]:
        for band in v:
            parse_age_band(band)
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def local_part(self) -> str:
        return self.reply_local_part or self.address.split("@", 1)[0]


class DatabaseSection(_Strict):
    url: str = "sqlite:///var/mailbot.sqlite3"


class TransportSection(_Strict):
    kind: Literal["local", "smtp"] = "local"
    host: str = "127.0.0.1"
    port: int = 8025
    security: Literal["none", "starttls", "tls"] = "none"
    username: str = ""  # the password comes from MAILBOT_SMTP_PASSWORD
    mailboxes: str = "var/mailboxes"  # local transport: one Maildir per recipient
    timeout: float = 30.0
    batch: int = 200  # outbox rows claimed per round


class PathsSection(_Strict):
    schedules: str = "schedules"
    templates: str = "templates"
    data: str = "var"


class PrivacySection(_Strict):
    min_group_size: int = Field(default=5, ge=1)
    raw_retention_days: int = Field(default=90, ge=1)


class RepliesSection(_Strict):
    max_auto_answers_per_day: int = Field(default=3, ge=0)


class Config(_Strict):
    panel: PanelSection
    database: DatabaseSection = DatabaseSection()
    transport: TransportSection = TransportSection()
    paths: PathsSection = PathsSection()
    privacy: PrivacySection = PrivacySection()
    replies: RepliesSection = RepliesSection()
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


def postcode_matches(postcode: str, pattern: str) -> bool:
    """"1338" matches "1338" and the range "1300-1369"."""
    if "-" in pattern:
        lo, hi = (p.strip() for p in pattern.split("-", 1))
        return postcode.isdigit() and lo <= postcode.zfill(len(lo)) <= hi
    return postcode == pattern.strip()


def parse_age_band(band: str) -> tuple[int, int | None]:
    """"30-44" -> (30, 44); "75+" -> (75, None)."""
    b = band.strip()
    try:
        if b.endswith("+"):
            return int(b[:-1]), None
        lo, hi = b.split("-", 1)
        return int(lo), int(hi)
    except ValueError:
        raise ValueError(f"age band {band!r} is not like \"30-44\" or \"75+\"") from None


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

Duration = Annotated[timedelta, Field(description="ISO 8601 duration after opening, e.g. P4D")]


class QuestionFile(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    text: str = Field(min_length=1)
    type: QuestionType
    options: list[str] = Field(default_factory=list)
    min: int | None = None
    max: int | None = None
    min_label: str | None = None
    max_label: str | None = None
    required: bool = True

    @model_validator(mode="after")
    def _fits_type(self) -> QuestionFile:
        if self.type in (QuestionType.CHOICE, QuestionType.MULTI):
            if len(self.options) < 2:
                raise ValueError(f"a {self.type} question needs at least two options: options = [\"Ja\", \"Nei\"]")
            if len(self.options) > 26:
                raise ValueError("at most 26 options (A to Z)")
            if len({o.casefold() for o in self.options}) != len(self.options):
                raise ValueError("two options have the same text; give each option its own words")
        elif self.options:
            raise ValueError(f"a {self.type} question has no options; remove options or use type = \"choice\"")
        if self.type == QuestionType.SCALE:
            if self.min is None or self.max is None or self.min >= self.max:
                raise ValueError("a scale question needs min < max, e.g. min = 1 and max = 5")
            if self.max - self.min > 10:
                raise ValueError("a scale may have at most 11 steps, e.g. min = 0 and max = 10")
        elif self.min is not None or self.max is not None:
            raise ValueError("min and max belong to scale questions; remove them or use type = \"scale\"")
        return self


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


class SurveyFile(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    kind: Literal["survey"]
    title: str = Field(min_length=1)
    audience: Literal["all"] | AudienceFile = "all"
    opens: datetime
    closes: datetime
    reminders: list[Duration] = Field(default_factory=list)
    results: ResultsPolicy = ResultsPolicy.AFTER_CLOSE
    language: Literal["nb", "nn", "en"] = "nb"
    intro: str = ""
    questions: list[QuestionFile] = Field(min_length=1)

    @model_validator(mode="after")
    def _times(self) -> SurveyFile:
        if self.closes <= self.opens:
            raise ValueError("closes must be after opens")
        span = self.closes - self.opens
        for r in self.reminders:
            if r <= timedelta(0) or r >= span:
                raise ValueError(
                    f"reminder {_iso(r)} is not between opening and closing ({_iso(span)} apart); "
                    "use a shorter duration such as \"P4D\""
                )
        ids = [q.id for q in self.questions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"question id {dupes[0]!r} is used twice; give each question its own id")
        return self


def _iso(d: timedelta) -> str:
    days, secs = d.days, d.seconds
    out = f"P{days}D" if days else "P"
    if secs:
        out += f"T{secs // 3600}H" if secs % 3600 == 0 else f"T{secs // 60}M"
    return out


# ------------------------------------------------------------------ loading

_EXAMPLES: dict[str, str] = {
    "opens": "opens = 2022-12-01T09:00",
    "closes": "closes = 2022-12-15T23:59",
    "reminders": "reminders = [\"P4D\", \"P9D\"]",
    "type": "type = \"choice\" (or multi, scale, text)",
    "results": "results = \"after-close\" (or \"none\")",
    "kind": "kind = \"survey\"",
    "language": "language = \"nb\" (or nn, en)",
    "audience": "audience = \"all\", or an [audience] table with tags, age_bands, districts, languages, answered",
}


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError([Problem(path, 1, f"cannot read the file ({exc.strerror})", "check the path")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError([Problem(path, line, "the file is not UTF-8", "save it as UTF-8 (æøå must survive)")]) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        what = str(getattr(exc, "msg", exc)).split(" (at line")[0]
        raise ConfigError(
            [Problem(path, line, f"not valid TOML: {what}", "write key = value, strings in \"quotes\"")]
        ) from None


def _line_from_message(msg: str) -> int:
    import re

    m = re.search(r"line (\d+)", msg)
    return int(m.group(1)) if m else 1


def _problems(path: Path, text: str, error: ValidationError, model: type[BaseModel]) -> list[Problem]:
    lines = key_lines(text)
    out: list[Problem] = []
    for err in error.errors():
        loc = tuple(err["loc"])
        # pydantic reports union branches ("all" | table) as extra loc parts; drop them for lines.
        clean = tuple(p for p in loc if not (isinstance(p, str) and (p.startswith("literal[") or p in
                                                                    ("AudienceFile", "str", "int"))))
        field = next((p for p in reversed(clean) if isinstance(p, str)), "")
        dotted = ".".join(str(p) for p in clean)
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(model, clean[:-1])
            close = difflib.get_close_matches(str(field), allowed, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed here: {', '.join(allowed)}"
            out.append(Problem(path, line_of(lines, clean), f"unknown key {dotted!r}", hint))
        elif kind == "missing":
            out.append(Problem(path, line_of(lines, clean[:-1]), f"missing key {dotted!r}",
                               f"add {_EXAMPLES.get(str(field), str(field) + ' = …')}"))
        else:
            msg = err["msg"].removeprefix("Value error, ")
            example = _EXAMPLES.get(str(field), "")
            out.append(Problem(path, line_of(lines, clean), f"{dotted or 'file'}: {msg}",
                               f"write {example}" if example else ""))
    # One line per place is enough when a union produced several messages.
    seen: set[tuple[int, str]] = set()
    unique = []
    for p in out:
        if (p.line, p.what.split(":")[0]) not in seen:
            seen.add((p.line, p.what.split(":")[0]))
            unique.append(p)
    return unique


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) and issubclass(current, BaseModel) else None
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
        raise ConfigError(_problems(file, text, exc, Config)) from None
    problems = []
    lines = key_lines(text)
    for district, codes in config.districts.items():
        for code in codes:
            lo, _, hi = code.partition("-")
            if not lo.strip().isdigit() or (hi and not hi.strip().isdigit()):
                problems.append(Problem(file, line_of(lines, ("districts", district)),
                                        f"district {district!r}: {code!r} is not a postcode or range",
                                        "write \"1338\" or \"1300-1369\""))
    if problems:
        raise ConfigError(problems)
    return Settings(config=config, root=file.resolve().parent, file=file)


def load_campaign_file(path: str | Path, zone: ZoneInfo | str = "Europe/Oslo") -> Campaign:
    """Read one schedules/*.toml into a campaign. Raises ConfigError."""
    file = Path(path)
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    data, text = _read_toml(file)
    kind = data.get("kind")
    if kind != "survey":
        line = line_of(key_lines(text), ("kind",))
        raise ConfigError([Problem(file, line, f"unknown campaign kind {kind!r}", _EXAMPLES["kind"])])
    try:
        parsed = SurveyFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(file, text, exc, SurveyFile)) from None
    return _survey(parsed, file, tz)


def _local(dt: datetime, tz: ZoneInfo) -> datetime:
    # Staff write local wall-clock times; an explicit offset is respected.
    return dt.replace(tzinfo=tz) if dt.tzinfo is None else dt.astimezone(tz)


def _survey(f: SurveyFile, file: Path, tz: ZoneInfo) -> Survey:
    questions = tuple(
        Question(id=q.id, number=i, text=q.text, type=q.type, options=tuple(q.options), min=q.min, max=q.max,
                 min_label=q.min_label, max_label=q.max_label, required=q.required)
        for i, q in enumerate(f.questions, start=1)
    )
    if f.audience == "all":
        audience = Audience()
    else:
        a = f.audience
        audience = Audience(
            tags=tuple(a.tags), age_bands=tuple(a.age_bands), districts=tuple(a.districts),
            languages=tuple(a.languages),
            answered=tuple(EarlierAnswer(e.campaign, e.question, e.answer) for e in a.answered),
        )
    return Survey(
        id=f.id, title=f.title, opens=_local(f.opens, tz), closes=_local(f.closes, tz), questions=questions,
        audience=audience, reminders=tuple(f.reminders), results=f.results, language=f.language,
        intro=f.intro, source=file,
    )


def load_campaigns(settings: Settings) -> list[Campaign]:
    """Every schedule, checked alone and against each other. Raises ConfigError with all problems."""
    problems: list[Problem] = []
    campaigns: list[Campaign] = []
    files = sorted(settings.schedules_dir.glob("*.toml"))
    for file in files:
        try:
            campaigns.append(load_campaign_file(file, settings.panel.zone))
        except ConfigError as exc:
            problems.extend(exc.problems)
    problems.extend(_cross_check(campaigns, settings))
    if problems:
        raise ConfigError(problems)
    return campaigns


def _cross_check(campaigns: list[Campaign], settings: Settings) -> list[Problem]:
    problems: list[Problem] = []
    by_id: dict[str, Campaign] = {}
    for c in campaigns:
        src = c.source or Path("?")
        lines = key_lines(src.read_text(encoding="utf-8")) if src.exists() else {}
        if c.id in by_id:
            other = by_id[c.id].source
            problems.append(Problem(src, line_of(lines, ("id",)), f"campaign id {c.id!r} is also used in {other}",
                                    "give each campaign its own id"))
        by_id.setdefault(c.id, c)
        a = c.audience
        for band in a.age_bands:
            if band not in settings.panel.age_bands:
                problems.append(Problem(src, line_of(lines, ("audience", "age_bands")), f"unknown age band {band!r}",
                                        f"use one of {', '.join(settings.panel.age_bands)}"))
        for district in a.districts:
            if district not in settings.config.districts:
                known = ", ".join(settings.config.districts) or "none in config.toml [districts]"
                problems.append(Problem(src, line_of(lines, ("audience", "districts")),
                                        f"unknown district {district!r}", f"use one of {known}"))
    for c in campaigns:
        src = c.source or Path("?")
        lines = key_lines(src.read_text(encoding="utf-8")) if src.exists() else {}
        for i, e in enumerate(c.audience.answered):
            where = line_of(lines, ("audience", "answered", i))
            earlier = by_id.get(e.campaign)
            if earlier is None or earlier is c:
                problems.append(Problem(src, where, f"audience refers to unknown campaign {e.campaign!r}",
                                        "name the id of an earlier campaign in schedules/"))
                continue
            q = earlier.question(e.question)
            if q is None:
                problems.append(Problem(src, where, f"campaign {e.campaign!r} has no question {e.question!r}",
                                        f"use one of {', '.join(x.id for x in earlier.questions)}"))
            elif q.options and str(e.answer) not in q.options:
                problems.append(Problem(src, where, f"{e.answer!r} is not an option of {e.campaign}.{e.question}",
                                        f"use one of {', '.join(q.options)}"))
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
