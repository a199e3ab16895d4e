"""Reading the residents' CSV: encodings and delimiters of real spreadsheets, and every bad row by line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from mailbot.roster import read_roster

HEADER = "email,name,language,birth_year,postcode,tags\n"
TODAY = date(2026, 1, 15)


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "panel.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_reads_a_plain_utf8_file(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        HEADER + "ola@example.no,Ola Nordmann,nb,1956,1338,frivillig;innspillkart\n"
        "kari@example.no,Kåre Ødegård,nn,1990,1368,\n",
    )
    roster = read_roster(f, today=TODAY)
    assert roster.ok
    ola, kari = roster.rows
    assert (ola.line, ola.email, ola.name, ola.language, ola.birth_year, ola.postcode, ola.tags) == (
        2,
        "ola@example.no",
        "Ola Nordmann",
        "nb",
        1956,
        "1338",
        ("frivillig", "innspillkart"),
    )
    assert (kari.line, kari.name, kari.tags) == (3, "Kåre Ødegård", ())


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("windows-1252", b""), ("utf-16", b"")],
)
def test_excel_files_with_semicolons_and_old_encodings_are_read(
    tmp_path: Path, encoding: str, prefix: bytes
) -> None:
    text = (
        "E-post;Navn;Språk;Fødselsår;Postnummer;Merker\r\n"
        "Åse@Bærum.example.no;Åse Ås;nynorsk;1948;1353;eldre,frivillig\r\n"
    )
    path = tmp_path / "excel.csv"
    path.write_bytes(prefix + text.encode(encoding))
    roster = read_roster(path, today=TODAY)
    assert roster.ok, roster.problems
    (row,) = roster.rows
    assert (row.email, row.name, row.language, row.tags) == (
        "åse@bærum.example.no",
        "Åse Ås",
        "nn",
        ("eldre", "frivillig"),
    )


def test_emails_are_trimmed_and_lower_cased_and_duplicates_name_both_lines(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        HEADER + "  Ola.Nordmann@Example.NO ,Ola,,,,\nkari@example.no,,,,,\n"
        "ola.nordmann@example.no,Ola igjen,,,,\n",
    )
    roster = read_roster(f)
    assert [r.email for r in roster.rows] == ["ola.nordmann@example.no", "kari@example.no"]
    assert [str(p) for p in roster.problems] == [
        f"{f}:4: ola.nordmann@example.no is also on line 2 — keep one row per person"
    ]


def test_outlook_style_name_and_address_is_understood(tmp_path: Path) -> None:
    roster = read_roster(write(tmp_path, HEADER + '"Ola Nordmann <Ola@Example.no>",Ola,,,,\n'))
    assert roster.rows[0].email == "ola@example.no"


BAD_ROWS = [
    ("not an address", "ola.example.no,,,,,", "'ola.example.no' is not an email address"),
    ("two @", "ola@@example.no,,,,,", "is not an email address"),
    ("space inside", "ola nordmann@example.no,,,,,", "is not an email address"),
    ("no address", ",Ola,,,,", "no email address"),
    ("unknown language", "ola@example.no,,de,,,", "unknown language 'de'"),
    ("birth year too early", "ola@example.no,,,1850,,", "birth year 1850 is out of range"),
    (
        "too young",
        "ola@example.no,,,2015,,",
        "birth year 2015 is out of range — write a year from 1900 to 2011",
    ),
    ("birth year not a year", "ola@example.no,,,nitten,,", "'nitten' is not a year"),
    ("postcode with 3 digits", "ola@example.no,,,,338,", "leading 0"),
    ("postcode with letters", "ola@example.no,,,,13A8,", "postcode '13A8' is not 4 digits"),
    ("too many fields", "ola@example.no,Ola,nb,1956,1338,x,extra", "7 fields, but the header has 6"),
]


@pytest.mark.parametrize(("row", "fragment"), [c[1:] for c in BAD_ROWS], ids=[c[0] for c in BAD_ROWS])
def test_a_bad_row_is_reported_with_file_and_line(tmp_path: Path, row: str, fragment: str) -> None:
    f = write(tmp_path, HEADER + "kari@example.no,Kari,nb,1990,1368,\n" + row + "\n")
    roster = read_roster(f, today=TODAY)
    assert [r.email for r in roster.rows] == ["kari@example.no"]
    assert roster.bad_lines == [3]
    assert any(str(p).startswith(f"{f}:3: ") and fragment in str(p) for p in roster.problems), roster.problems


def test_a_postcode_outside_the_panel_area_is_reported(tmp_path: Path) -> None:
    f = write(tmp_path, HEADER + "ola@example.no,,,,0150,\n")
    roster = read_roster(f, postcodes=["1300-1369"])
    assert [str(p) for p in roster.problems] == [
        f"{f}:2: postcode 0150 is outside the panel's area — the panel takes 1300-1369"
    ]


def test_line_numbers_count_quoted_newlines(tmp_path: Path) -> None:
    f = write(tmp_path, HEADER + '"a@example.no","Ola\nNordmann",,,,\n\nbad,,,,,\n')
    roster = read_roster(f)
    assert roster.bad_lines == [5]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "the file is empty"),
        ("name,language\nOla,nb\n", "no email column"),
        ("email,navm\nola@example.no,Ola\n", "unknown column 'navm' — did you mean 'navn'?"),
    ],
)
def test_a_file_without_a_usable_header_is_unreadable(tmp_path: Path, text: str, fragment: str) -> None:
    f = write(tmp_path, text)
    roster = read_roster(f)
    assert roster.unreadable and not roster.rows
    assert fragment in str(roster.problems[0]) and str(roster.problems[0]).startswith(f"{f}:1: ")


def test_a_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    roster = read_roster(tmp_path / "nope.csv")
    assert roster.unreadable and "cannot read the file" in str(roster.problems[0])
