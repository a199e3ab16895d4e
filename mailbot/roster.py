"""Read a list of residents (CSV) that staff exported from a spreadsheet or a form.

Pure: bytes in, rows and problems out; nothing is stored here. Real files come
from Excel (windows-1252 or UTF-16, `;` between fields in a Norwegian locale),
LibreOffice and web forms (UTF-8, with or without BOM), so the encoding and the
delimiter are detected. A header line is required; Norwegian column names
(e-post, navn, språk, fødselsår, postnummer, kjønn, merker) are understood too.

Emails are normalised (trimmed, lower-cased whole: municipal systems treat
addresses case-insensitively) and a second row for one address is a problem
naming both lines. Every problem is a `Problem` with file and line.
"""

from __future__ import annotations

import csv
import difflib
import email.utils
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from mailbot.panel.problems import Problem
from mailbot.panel.profiles import postcode_matches

COLUMNS = ("email", "name", "language", "birth_year", "postcode", "gender", "tags")
_ALIASES = {
    "e-post": "email",
    "epost": "email",
    "e-postadresse": "email",
    "mail": "email",
    "e-mail": "email",
    "navn": "name",
    "fullt navn": "name",
    "språk": "language",
    "sprak": "language",
    "målform": "language",
    "lang": "language",
    "fødselsår": "birth_year",
    "fodselsar": "birth_year",
    "født": "birth_year",
    "birthyear": "birth_year",
    "birth year": "birth_year",
    "år": "birth_year",
    "postnummer": "postcode",
    "postnr": "postcode",
    "postnr.": "postcode",
    "zip": "postcode",
    "kjønn": "gender",
    "kjonn": "gender",
    "sex": "gender",
    "merker": "tags",
    "tagger": "tags",
    "tag": "tags",
    "grupper": "tags",
}
LANGUAGES = {
    "nb": "nb",
    "bokmål": "nb",
    "bokmal": "nb",
    "norsk": "nb",
    "no": "nb",
    "nob": "nb",
    "nn": "nn",
    "nynorsk": "nn",
    "nno": "nn",
    "en": "en",
    "engelsk": "en",
    "english": "en",
    "eng": "en",
}
# Stored values of members.gender (what population.toml [gender] is keyed by), and how people write them.
GENDERS = ("kvinne", "mann", "annet")
_GENDER_WORDS = {
    "kvinne": "kvinne", "k": "kvinne", "kvinnelig": "kvinne", "dame": "kvinne", "kvinne/jente": "kvinne",
    "f": "kvinne", "female": "kvinne", "woman": "kvinne", "w": "kvinne",
    "mann": "mann", "m": "mann", "mannlig": "mann", "herre": "mann", "male": "mann", "man": "mann",
    "annet": "annet", "anna": "annet", "annen": "annet", "anna kjønn": "annet", "ikke-binær": "annet",
    "ikkje-binær": "annet", "x": "annet", "other": "annet", "non-binary": "annet",
}
_EMAIL = re.compile(r"[^@\s\"(),:;<>\[\]\\]+@[^@\s\"(),:;<>\[\]\\]+\.[^@\s\"(),:;<>\[\]\\.]{2,}")
OLDEST_BIRTH_YEAR = 1900
MAX_TAG_LENGTH = 60


@dataclass(frozen=True)
class RosterRow:
    line: int
    email: str
    name: str | None = None
    language: str | None = None  # None: the panel's language
    birth_year: int | None = None
    postcode: str | None = None
    tags: tuple[str, ...] = ()
    gender: str | None = None  # one of GENDERS; None: not given


@dataclass(frozen=True)
class Roster:
    rows: list[RosterRow]
    problems: list[Problem] = field(default_factory=list)
    # The file as a whole cannot be read (no header, unknown column, empty): nothing can be imported.
    unreadable: bool = False

    @property
    def bad_lines(self) -> list[int]:
        """The lines that were left out, once each."""
        return sorted({p.line for p in self.problems})

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unreadable


def normalise_email(value: str) -> str:
    """ " Ola.Nordmann@Baerum.Kommune.NO " -> "ola.nordmann@baerum.kommune.no"."""
    return value.strip().lower()


def decode(raw: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was in."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"  # Excel's "Unicode text"
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("windows-1252"), "windows-1252"  # Excel on Norwegian Windows
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_roster(
    path: str | Path,
    *,
    today: date | None = None,
    min_age: int = 15,
    postcodes: Sequence[str] = (),
) -> Roster:
    """Read a roster CSV. `today` enables the minimum-age check; `postcodes` (ranges) the area check."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        return Roster(
            [], [Problem(file, 1, f"cannot read the file ({exc.strerror})", "check the path")], True
        )
    return parse_roster(raw, file, today=today, min_age=min_age, postcodes=postcodes)


def parse_roster(
    raw: bytes,
    file: Path,
    *,
    today: date | None = None,
    min_age: int = 15,
    postcodes: Sequence[str] = (),
) -> Roster:
    """As `read_roster`, for bytes already read; `file` names them in problems."""
    text, _encoding = decode(raw)
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return Roster(
            [], [Problem(file, 1, "the file is empty", f"write a header line: {','.join(COLUMNS)}")], True
        )
    delimiter = _delimiter(lines[first])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header_line = 0
    header: list[str] = []
    for cells in reader:
        header_line = reader.line_num
        if any(c.strip() for c in cells):
            header = cells
            break
    columns, problems = _columns(header, file, header_line)
    if problems:
        return Roster([], problems, True)

    rows: list[RosterRow] = []
    seen: dict[str, int] = {}
    start = reader.line_num + 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
            problems.append(
                Problem(
                    file,
                    line,
                    f"{len(cells)} fields, but the header has {len(columns)}",
                    f'put text containing {delimiter!r} in "quotes"',
                )
            )
            continue
        values = {col: (cells[i].strip() if i < len(cells) else "") for i, col in enumerate(columns) if col}
        row, row_problems = _row(values, file, line, today, min_age, postcodes)
        if row_problems:
            problems.extend(row_problems)
            continue
        assert row is not None
        if row.email in seen:
            problems.append(
                Problem(
                    file, line, f"{row.email} is also on line {seen[row.email]}", "keep one row per person"
                )
            )
            continue
        seen[row.email] = line
        rows.append(row)
    return Roster(rows, problems)


def _columns(header: list[str], file: Path, line: int) -> tuple[list[str | None], list[Problem]]:
    columns: list[str | None] = []
    problems: list[Problem] = []
    for cell in header:
        name = cell.strip().strip("\ufeff").lower()
        if not name:
            columns.append(None)  # an empty column Excel left behind
            continue
        known = name.replace(" ", "_") if name.replace(" ", "_") in COLUMNS else _ALIASES.get(name)
        if known is None:
            close = difflib.get_close_matches(name, [*COLUMNS, *_ALIASES], n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"the columns are {', '.join(COLUMNS)}"
            problems.append(Problem(file, line, f"unknown column {cell.strip()!r}", hint))
        elif known in columns:
            problems.append(Problem(file, line, f"the column {known!r} appears twice", "keep one"))
        columns.append(known)
    if "email" not in columns and not problems:
        problems.append(
            Problem(
                file,
                line,
                "no email column in the header line",
                f"the first line names the columns: {','.join(COLUMNS)}",
            )
        )
    return columns, problems


def _row(
    values: dict[str, str], file: Path, line: int, today: date | None, min_age: int, postcodes: Sequence[str]
) -> tuple[RosterRow | None, list[Problem]]:
    problems: list[Problem] = []

    def bad(what: str, instead: str) -> None:
        problems.append(Problem(file, line, what, instead))

    address = values.get("email", "")
    if "<" in address:  # "Ola Nordmann <ola@example.no>", as Outlook copies it
        address = email.utils.parseaddr(address)[1] or address
    address = normalise_email(address)
    if not address:
        bad("no email address", "every row needs one, e.g. ola.nordmann@example.no")
    elif not _EMAIL.fullmatch(address) or len(address) > 254 or len(address.split("@")[0]) > 64:
        bad(f"{values.get('email', '')!r} is not an email address", "write it like ola.nordmann@example.no")

    language: str | None = None
    if values.get("language"):
        language = LANGUAGES.get(values["language"].lower())
        if language is None:
            bad(f"unknown language {values['language']!r}", "write nb, nn or en (or leave it empty)")

    birth_year: int | None = None
    if values.get("birth_year"):
        raw_year = values["birth_year"].removesuffix(".0")  # Excel turns 1956 into 1956.0
        youngest = today.year - min_age if today else None
        if not re.fullmatch(r"\d{4}", raw_year):
            bad(f"birth year {values['birth_year']!r} is not a year", "write four digits, e.g. 1956")
        elif int(raw_year) < OLDEST_BIRTH_YEAR or (youngest is not None and int(raw_year) > youngest):
            upper = str(youngest) if youngest is not None else "this year"
            bad(
                f"birth year {raw_year} is out of range",
                f"write a year from {OLDEST_BIRTH_YEAR} to {upper} (members are at least {min_age})",
            )
        else:
            birth_year = int(raw_year)

    postcode: str | None = None
    if values.get("postcode"):
        code = values["postcode"].replace(" ", "")
        if not re.fullmatch(r"\d{4}", code):
            hint = (
                "write four digits; a spreadsheet may have dropped a leading 0 (0338, not 338)"
                if re.fullmatch(r"\d{3}", code)
                else "write four digits, e.g. 1338"
            )
            bad(f"postcode {values['postcode']!r} is not 4 digits", hint)
        elif postcodes and not any(postcode_matches(code, p) for p in postcodes):
            bad(f"postcode {code} is outside the panel's area", f"the panel takes {', '.join(postcodes)}")
        else:
            postcode = code

    gender: str | None = None
    if values.get("gender"):
        gender = _GENDER_WORDS.get(values["gender"].strip().lower())
        if gender is None:
            bad(f"unknown gender {values['gender']!r}", "write kvinne, mann or annet (or leave it empty)")

    tags = tuple(dict.fromkeys(t.strip() for t in re.split(r"[;,]", values.get("tags", "")) if t.strip()))
    for tag in tags:
        if len(tag) > MAX_TAG_LENGTH:
            bad(f"tag {tag[:20]!r}… is longer than {MAX_TAG_LENGTH} characters", "use a short word")

    name = values.get("name") or None
    if name and len(name) > 200:
        bad("the name is longer than 200 characters", "shorten it")
    if problems:
        return None, problems
    return RosterRow(line, address, name, language, birth_year, postcode, tags, gender), []
