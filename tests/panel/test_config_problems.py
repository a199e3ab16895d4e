"""Every likely mistake in config.toml and schedules/*.toml gives FILE:LINE: what — instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbot.panel.problems import ConfigError, Problem
from mailbot.panel.settings import load_settings
from mailbot.schedules import load_campaign_file, load_campaigns

SURVEY = """\
id = "ombruk-2022"
kind = "survey"
title = "Behov for en ombruksbutikk i Bærum"
audience = "all"
opens = 2022-12-01T09:00
closes = 2022-12-15T23:59
reminders = ["P4D", "P9D"]
results = "after-close"

[[questions]]
id = "need"
text = "Er det behov for en ombruksbutikk i Bærum?"
type = "choice"
options = ["Ja", "Nei", "Vet ikke"]

[[questions]]
id = "goods"
text = "Hvilke varer bør butikken selge?"
type = "multi"
options = ["Møbler", "Klær", "Sportsutstyr", "Elektronikk", "Bøker"]

[[questions]]
id = "satisfaction"
text = "Hvor fornøyd er du med dagens ordning?"
type = "scale"
min = 1
max = 5

[[questions]]
id = "location"
text = "Hvor i Bærum bør butikken ligge?"
type = "text"
"""

CONFIG = """\
[panel]
organisation = "Bærum kommune"
address = "innbyggerpanel@baerum.example.no"
reply_domain = "svar.baerum.example.no"

[districts]
Sandvika = ["1300-1339"]
Fornebu = ["1360", "1364", "1367"]
"Bærums Verk" = ["1353", "1354"]
"""


def problems_of(fn, *args) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        fn(*args)
    return caught.value.problems


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str, text: str = SURVEY) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def assert_problem(problems: list[Problem], file: Path, line: int, *fragments: str) -> None:
    lines = [str(p) for p in problems]
    wanted = f"{file}:{line}: "
    hits = [s for s in lines if s.startswith(wanted) and all(f in s for f in fragments)]
    assert hits, f"no problem {wanted}…{fragments} in:\n" + "\n".join(lines)


def test_the_base_survey_is_valid(tmp_path: Path) -> None:
    survey = load_campaign_file(write(tmp_path, "s.toml", SURVEY))
    assert [q.id for q in survey.questions] == ["need", "goods", "satisfaction", "location"]


SCHEDULE_MISTAKES = [
    # (what staff did, old text, new text, line, fragments of the message)
    (
        "typo in a key",
        "reminders =",
        "reminder =",
        7,
        ("unknown key 'reminder'", "did you mean 'reminders'?"),
    ),
    ("typo in a question key", "min = 1", "minn = 1", 26, ("unknown key", "did you mean 'min'?")),
    ("wrong type", "min = 1", 'min = "en"', 26, ("question 3 (satisfaction): min", "whole number")),
    (
        "missing closes",
        "closes = 2022-12-15T23:59\n",
        "",
        5,
        ("missing key 'closes'", "closes = 2022-12-15T23:59"),
    ),
    (
        "closes before opens",
        "closes = 2022-12-15T23:59",
        "closes = 2022-11-15T23:59",
        6,
        ("closes (2022-11-15 23:59) is not after opens",),
    ),
    ("reminder after close", '["P4D", "P9D"]', '["P4D", "P20D"]', 7, ("reminder P20D comes after closing",)),
    (
        "duration in Norwegian words",
        '["P4D", "P9D"]',
        '["4 dager"]',
        7,
        ("'4 dager' is not a duration", '"P4D"'),
    ),
    ("duration as a bare number", '["P4D", "P9D"]', "[4]", 7, ("not a duration in quotes",)),
    ("duplicate reminder", '["P4D", "P9D"]', '["P4D", "P4D"]', 7, ("listed twice",)),
    ("unknown question type", 'type = "text"', 'type = "tekst"', 32, ("'tekst' is not allowed", '"text"')),
    (
        "choice without options",
        'options = ["Ja", "Nei", "Vet ikke"]\n',
        "",
        13,
        ("question 1 (need): a choice question needs at least two options",),
    ),
    ("choice with one option", '["Ja", "Nei", "Vet ikke"]', '["Ja"]', 14, ("at least two options",)),
    ("scale without min and max", "min = 1\nmax = 5\n", "", 25, ("needs min and max", "min = 1 and max = 5")),
    ("scale upside down", "max = 5", "max = 0", 27, ("max (0) must be greater than min (1)",)),
    (
        "options on a text question",
        'type = "text"\n',
        'type = "text"\noptions = ["a", "b"]\n',
        33,
        ("a text question has no options",),
    ),
    (
        "duplicate question id",
        'id = "location"',
        'id = "goods"',
        30,
        ("question id 'goods' is also question 2",),
    ),
    ("repeated option", '"Bøker"]', '"Klær"]', 20, ("option 'Klær' is listed twice",)),
    (
        "broken TOML: text without quotes",
        'title = "Behov for en ombruksbutikk i Bærum"',
        "title = Behov for en ombruksbutikk",
        3,
        ("not in quotes", 'title = "Behov for en ombruksbutikk"'),
    ),
    (
        "broken TOML: unclosed string",
        'title = "Behov for en ombruksbutikk i Bærum"',
        'title = "Behov for',
        3,
        ("not valid TOML",),
    ),
    (
        "broken TOML: key set twice",
        'results = "after-close"\n',
        'results = "after-close"\nresults = "none"\n',
        9,
        ("set twice", "line 8"),
    ),
    (
        "date without a time",
        "opens = 2022-12-01T09:00",
        "opens = 2022-12-01",
        5,
        ("has no time of day", "2022-12-01T09:00"),
    ),
    (
        "a time lost to summer time",
        "opens = 2022-12-01T09:00",
        "opens = 2022-03-27T02:30",
        5,
        ("does not exist in Europe/Oslo", "2022-03-27T03:30"),
    ),
    (
        "kind misspelt",
        'kind = "survey"',
        'kind = "surveyy"',
        2,
        ("unknown campaign kind", 'did you mean "survey"?'),
    ),
    ("id with capitals", 'id = "ombruk-2022"', 'id = "Ombruk 2022"', 1, ("is not a valid id",)),
    ("audience misspelt", 'audience = "all"', 'audience = "alle"', 4, ("'alle' is not an audience",)),
    (
        "unknown audience key",
        'audience = "all"\n',
        '[audience]\ndistrict = ["Fornebu"]\n\n',
        5,
        ("unknown key 'audience.district'", "did you mean 'districts'?"),
    ),
    (
        "unknown results policy",
        'results = "after-close"',
        'results = "etter"',
        8,
        ("'etter' is not allowed",),
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "line", "fragments"),
    [c[1:] for c in SCHEDULE_MISTAKES],
    ids=[c[0] for c in SCHEDULE_MISTAKES],
)
def test_schedule_mistake_points_at_its_line(
    tmp_path: Path, old: str, new: str, line: int, fragments: tuple[str, ...]
) -> None:
    file = write(tmp_path, "ombruk-2022.toml", edited(old, new))
    assert_problem(problems_of(load_campaign_file, file), file, line, *fragments)


def test_a_wrong_element_of_a_multiline_list_is_pointed_at(tmp_path: Path) -> None:
    file = write(
        tmp_path, "s.toml", edited('reminders = ["P4D", "P9D"]', 'reminders = [\n  "P4D",\n  "4 uker",\n]')
    )
    assert_problem(problems_of(load_campaign_file, file), file, 9, "'4 uker' is not a duration", '"P4W"')


def test_all_problems_of_a_file_come_at_once(tmp_path: Path) -> None:
    text = edited("min = 1\nmax = 5\n", "", edited('["P4D", "P9D"]', '["P4D", "P20D"]'))
    file = write(tmp_path, "s.toml", text)
    problems = problems_of(load_campaign_file, file)
    assert [p.line for p in problems] == [7, 25]


def test_a_file_that_is_not_utf8_is_pointed_at_its_first_bad_line(tmp_path: Path) -> None:
    file = tmp_path / "s.toml"
    file.write_bytes(SURVEY.encode("windows-1252"))
    assert_problem(problems_of(load_campaign_file, file), file, 3, "not UTF-8", "save it as UTF-8")


def test_a_utf8_file_with_bom_is_fine(tmp_path: Path) -> None:
    file = tmp_path / "s.toml"
    file.write_bytes(b"\xef\xbb\xbf" + SURVEY.encode("utf-8"))
    assert load_campaign_file(file).title == "Behov for en ombruksbutikk i Bærum"


def test_times_without_seconds_and_with_seconds_are_the_same(tmp_path: Path) -> None:
    a = load_campaign_file(write(tmp_path, "a.toml", SURVEY))
    b = load_campaign_file(write(tmp_path, "b.toml", SURVEY.replace("T09:00", "T09:00:00")))
    assert a.opens == b.opens and a.opens.utcoffset() is not None


# ------------------------------------------------------------- across files


@pytest.fixture
def panel(tmp_path: Path):
    write(tmp_path, "config.toml", CONFIG)
    (tmp_path / "schedules").mkdir()
    return tmp_path


def load_all(panel: Path) -> list[Problem]:
    return problems_of(lambda: load_campaigns(load_settings(panel / "config.toml", load_env=False)))


TARGETED = """\
id = "innspillkart-2020"
kind = "survey"
title = "Hvordan var det å bruke Innspillkart?"
opens = 2023-01-09T09:00
closes = 2023-01-20T23:59

[audience]
districts = ["Sandvika", "Fornebo"]
age_bands = ["15-25"]
answered = [
  { campaign = "ombruk-2022", question = "need", answer = "Ja" },
  { campaign = "ombruk-2021", question = "need", answer = "Ja" },
  { campaign = "ombruk-2022", question = "needs", answer = "Ja" },
  { campaign = "ombruk-2022", question = "need", answer = "Kanskje" },
  { campaign = "ombruk-2022", question = "location", answer = "Sandvika" },
  { campaign = "ombruk-2022", question = "satisfaction", answer = 9 },
]

[[questions]]
id = "easy"
text = "Var det enkelt?"
type = "choice"
options = ["Ja", "Nei"]
"""


@pytest.mark.parametrize(
    ("line", "fragments"),
    [
        (8, ("unknown district 'Fornebo'", "did you mean 'Fornebu'?")),
        (9, ("unknown age band '15-25'", "15-29")),
        (12, ("unknown campaign 'ombruk-2021'", "did you mean 'ombruk-2022'?")),
        (13, ("has no question 'needs'", "need, goods, satisfaction, location")),
        (14, ("'Kanskje' is not an option of ombruk-2022.need", "'Ja', 'Nei', 'Vet ikke'")),
        (15, ("is a text question",)),
        (16, ("9 is not on the scale", "from 1 to 5")),
    ],
)
def test_audience_mistakes_point_at_their_line(panel: Path, line: int, fragments: tuple[str, ...]) -> None:
    write(panel / "schedules", "ombruk-2022.toml", SURVEY)
    targeted = write(panel / "schedules", "innspillkart-2020.toml", TARGETED)
    problems = load_all(panel)
    assert_problem(problems, targeted, line, *fragments)
    assert not [p for p in problems if p.line == 11], "the one valid answered entry is not a problem"


def test_two_campaigns_with_one_id_are_an_error(panel: Path) -> None:
    write(panel / "schedules", "a.toml", SURVEY)
    second = write(panel / "schedules", "b.toml", "# a copy\n" + SURVEY)
    problems = load_all(panel)
    assert_problem(problems, second, 2, "campaign id 'ombruk-2022' is also used in", "a.toml:1")


def test_problems_of_every_file_come_together_sorted(panel: Path) -> None:
    a = write(panel / "schedules", "a.toml", edited("reminders =", "reminder ="))
    b = write(
        panel / "schedules", "b.toml", edited('id = "ombruk-2022"', 'id = "b"', edited("max = 5", "max = 0"))
    )
    problems = load_all(panel)
    assert [(p.file, p.line) for p in problems] == [(a, 7), (b, 27)]


# ------------------------------------------------------------- config.toml

CONFIG_MISTAKES = [
    (
        "typo in a panel key",
        'address = "',
        'adress = "',
        3,
        ("unknown key 'panel.adress'", "did you mean 'address'?"),
    ),
    (
        "unknown section",
        "[districts]",
        "[distrikter]",
        6,
        ("unknown key 'distrikter'", "did you mean 'districts'?"),
    ),
    (
        "missing organisation",
        'organisation = "Bærum kommune"\n',
        "",
        1,
        ("missing key 'panel.organisation'", 'organisation = "Bærum kommune"'),
    ),
    (
        "address without @",
        "innbyggerpanel@baerum.example.no",
        "innbyggerpanel.baerum.example.no",
        3,
        ("is not an email address",),
    ),
    (
        "reply domain with @",
        '"svar.baerum.example.no"',
        '"panel@svar.baerum.example.no"',
        4,
        ("is not a domain",),
    ),
    (
        "district name with å unquoted",
        '"Bærums Verk" =',
        "Bærums Verk =",
        9,
        ("put it in quotes", '"Bærums Verk" = …'),
    ),
    (
        "district postcode not 4 digits",
        '"1360", "1364"',
        '"1360", "136"',
        8,
        ("district 'Fornebu'", "'136' is not a postcode"),
    ),
    (
        "district overlap",
        '"1353", "1354"',
        '"1353", "1338"',
        9,
        ("'Bærums Verk': 1338 is also in 'Sandvika'",),
    ),
    (
        "wrong type for a port",
        "[districts]",
        '[transport]\nport = "smtp"\n\n[districts]',
        7,
        ("transport.port", "whole number"),
    ),
    (
        "unknown transport kind",
        "[districts]",
        '[transport]\nkind = "smpt"\n\n[districts]',
        7,
        ("'smpt' is not allowed", 'did you mean "smtp"?'),
    ),
    (
        "unknown time zone",
        'reply_domain = "svar.baerum.example.no"\n',
        'reply_domain = "svar.baerum.example.no"\ntimezone = "Oslo"\n',
        5,
        ("unknown time zone", "Europe/Oslo"),
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "line", "fragments"), [c[1:] for c in CONFIG_MISTAKES], ids=[c[0] for c in CONFIG_MISTAKES]
)
def test_config_mistake_points_at_its_line(
    tmp_path: Path, old: str, new: str, line: int, fragments: tuple[str, ...]
) -> None:
    file = write(tmp_path, "config.toml", edited(old, new, CONFIG))
    assert_problem(problems_of(load_settings, file), file, line, *fragments)


def test_the_shipped_config_and_schedules_load() -> None:
    root = Path(__file__).resolve().parents[2]
    settings = load_settings(root / "config.toml", load_env=False)
    campaigns = {c.id: c for c in load_campaigns(settings)}
    ombruk = campaigns["ombruk-2022"]
    assert [q.id for q in ombruk.questions] == ["need", "goods", "satisfaction", "location"]
    assert [q.type.value for q in ombruk.questions] == ["choice", "multi", "scale", "text"]
    assert ombruk.questions[0].options == ("Ja", "Nei", "Vet ikke")
    assert ombruk.questions[1].options == ("Møbler", "Klær", "Sportsutstyr", "Elektronikk", "Bøker")
    assert (ombruk.questions[2].min, ombruk.questions[2].max) == (1, 5)
    assert [r.days for r in ombruk.reminders] == [4, 9]
    follow_up = campaigns["innspillkart-2020"]
    (wanted,) = follow_up.audience.answered
    assert (wanted.campaign, wanted.question, wanted.answer) == ("sandvika-byrom-2020", "used_map", "Ja")
    assert campaigns["sandvika-byrom-2020"].closes < follow_up.opens
    assert settings.district_of("1368") == "Stabekk" and settings.district_of("1367") == "Fornebu"
    assert all(settings.district_of(str(code)) for code in (1300, 1338, 1340, 1350, 1353, 1361, 1369))
