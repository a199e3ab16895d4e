"""A resident's profile against the panel's lists: is a postcode in a district or range, which age band
a birth year falls in. Pure; used by config.toml's checks and by audiences."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date


def postcode_matches(postcode: str, pattern: str) -> bool:
    """ "1338" matches "1338" and the range "1300-1369"."""
    if "-" in pattern:
        lo, hi = (p.strip() for p in pattern.split("-", 1))
        return postcode.isdigit() and lo <= postcode.zfill(len(lo)) <= hi
    return postcode == pattern.strip()


def check_postcode_pattern(code: str) -> None:
    lo, dash, hi = (p.strip() for p in code.partition("-"))
    if not re.fullmatch(r"\d{4}", lo) or (dash and not re.fullmatch(r"\d{4}", hi)) or (dash and hi < lo):
        raise ValueError(f'{code!r} is not a postcode or a range of postcodes; write "1338" or "1300-1369"')


def postcode_range(code: str) -> tuple[int, int]:
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
