"""Values the campaign files share: dates, times of day, seat counts, an
[audience] field, web addresses, and the check that a local time is not skipped by a DST change."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator

from mailbot.campaigns.audience_file import AudienceFile, audience_value
from mailbot.panel.files import Finding, skipped_by_dst

URL = re.compile(r"https?://\S+")


def a_date(value: Any) -> Any:
    if isinstance(value, datetime):
        raise ValueError(f"{value:%Y-%m-%dT%H:%M} has a time of day; write only the date, {value:%Y-%m-%d}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date; write for example 2020-09-15")


def a_time(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*([01]?\d|2[0-3])[:.][0-5]\d\s*", value):
        hour, minute = re.split(r"[:.]", value.strip())
        return time(int(hour), int(minute))
    raise ValueError(f'{value!r} is not a time of day; write for example "18:00"')


def capacity(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("unlimited", "ubegrenset", "uavgrensa"):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f'{value!r} is not a number of seats; write for example 30, or "unlimited"')
    if value < 1:
        raise ValueError(f'{value} seats is too few; write at least 1, or "unlimited"')
    return value


LocalDate = Annotated[date, BeforeValidator(a_date)]
TimeOfDay = Annotated[time, BeforeValidator(a_time)]
Capacity = Annotated[int | None, BeforeValidator(capacity)]
AudienceField = Annotated[AudienceFile | None, BeforeValidator(audience_value)]


def dst_gaps(*items: tuple[tuple[str | int, ...], datetime | None], tz: ZoneInfo) -> list[Finding]:
    out: list[Finding] = []
    for loc, value in items:
        gap = skipped_by_dst(value, tz) if value is not None else None
        if gap and value is not None:
            out.append((loc, f"{loc[-1]}: {value:%Y-%m-%d %H:%M} does not exist in {tz.key} "
                        "(clocks jump forward that night)", f"write {gap}"))
    return out
