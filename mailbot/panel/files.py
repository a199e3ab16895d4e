"""Reading a TOML file staff wrote, in the first two of three layers: reading (UTF-8, TOML syntax)
and shape (pydantic models: known keys, types); each mistake becomes a `Problem` pointing at its line.

The third layer, meaning, belongs to what the file describes (`mailbot.panel.settings` for
config.toml, the campaign kinds for schedules/*.toml); the value types staff write in any of them
(durations, local times, ids) and the helpers those checks share are here.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from mailbot.panel.problems import ConfigError, Problem, unique_problems
from mailbot.panel.toml_lines import Path as KeyPath
from mailbot.panel.toml_lines import key_lines, line_of, scan


class StrictModel(BaseModel):
    # Unknown keys are errors: a typo must not pass silently.
    model_config = ConfigDict(extra="forbid", frozen=True)


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
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"



def iso_duration(d: timedelta) -> str:
    days, secs = d.days, d.seconds
    out = f"P{days}D" if days else "P"
    if secs:
        out += f"T{secs // 3600}H" if secs % 3600 == 0 else f"T{secs // 60}M"
    return out


# A finding about meaning: the key path it is about, what is wrong, what to write instead.
Finding = tuple[KeyPath, str, str]



def skipped_by_dst(dt: datetime, tz: ZoneInfo) -> str | None:
    """For a wall-clock time skipped by a DST change, the same time an hour later."""
    if dt.tzinfo is not None:
        return None
    aware = dt.replace(tzinfo=tz)
    back = aware.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None)
    if back != dt:
        return f"{back:%Y-%m-%dT%H:%M}"
    return None



def as_local(dt: datetime, tz: ZoneInfo) -> datetime:
    # Staff write local wall-clock times; an explicit offset is respected.
    return dt.replace(tzinfo=tz) if dt.tzinfo is None else dt.astimezone(tz)



EXAMPLES: dict[str, str] = {
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


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
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


def shape_problems(
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
                    f"add {EXAMPLES.get(str(field), str(field) + ' = …')}",
                )
            )
        elif kind in ("literal_error", "enum"):
            expected = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
            close = difflib.get_close_matches(str(given), expected, n=1, cutoff=0.5)
            hint = f'did you mean "{close[0]}"?' if close else f"write one of: {', '.join(expected)}"
            out.append(Problem(path, line_of(lines, loc), f"{where}: {given!r} is not allowed here", hint))
        elif kind in _TYPE_WORDS:
            example = EXAMPLES.get(str(field), "")
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
                    f"write {EXAMPLES.get(str(field), str(field) + ' = …')}",
                )
            )
        else:
            msg = err["msg"].removeprefix("Value error, ")
            if "; write " in msg:
                what, instead = msg.split("; write ", 1)
                out.append(Problem(path, line_of(lines, loc), f"{where}: {what}", f"write {instead}"))
                continue
            example = EXAMPLES.get(str(field), "")
            out.append(
                Problem(path, line_of(lines, loc), f"{where}: {msg}", f"write {example}" if example else "")
            )
    return unique_problems(out)



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
