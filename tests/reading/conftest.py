"""Shared fixtures for the reading tests: the corpus survey and where labelled mail lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mailbot.campaigns import Survey
from mailbot.config import load_campaign_file

DATA = Path(__file__).parents[1] / "data"
CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus"


def corpus_folder(name: str) -> Path:
    """A folder of the shared corpus; missing is a failure in CI and a skip on a laptop."""
    folder = (CORPUS / name).resolve()
    if not folder.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the shared corpus is missing: {folder}")
        pytest.skip(f"the shared corpus is not beside the repository ({folder})")
    return folder


@pytest.fixture(scope="session")
def ombruk() -> Survey:
    survey = load_campaign_file(DATA / "ombruk-survey.toml")
    assert isinstance(survey, Survey)
    return survey


# A survey written for these tests (not one of the labelled sets): the culture house in Sandvika.
CULTURE = '''
[[questions]]
id = "besok"
text = "Har du vært på Kulturhuset i Sandvika det siste året?"
type = "choice"
options = ["Ja", "Nei"]

[[questions]]
id = "tilbud"
text = "Hva bruker du kulturhuset til? Velg gjerne flere."
type = "multi"
options = ["Konserter", "Teater", "Kino", "Bibliotek", "Kafé", "Utstillinger"]

[[questions]]
id = "satsing"
text = "Hva bør kommunen satse mest på i kulturhuset?"
type = "choice"
options = ["Flere konserter for barn", "Lengre åpningstider", "Billigere billetter"]

[[questions]]
id = "fornoyd"
text = "Hvor fornøyd er du med kulturhuset?"
type = "scale"
min = 1
max = 6

[[questions]]
id = "reise"
text = "Hvordan kommer du deg oftest til kulturhuset?"
type = "choice"
options = ["Bil", "Buss eller tog", "Sykkel", "Til fots", "Tilrettelagt transport"]

[[questions]]
id = "forslag"
text = "Har du andre forslag?"
type = "text"
required = false
'''


@pytest.fixture(scope="session")
def culture(tmp_path_factory: pytest.TempPathFactory) -> Survey:
    return write_survey(tmp_path_factory, "kulturhus-2026", "Kulturhuset i Sandvika", CULTURE)


def write_survey(tmp_path_factory: pytest.TempPathFactory, survey_id: str, title: str, questions: str,
                 language: str = "nb") -> Survey:
    """A survey written for one test: `questions` are its [[questions]] tables in the schedule format."""
    path = tmp_path_factory.mktemp(survey_id) / f"{survey_id}.toml"
    path.write_text(f'''id = "{survey_id}"
kind = "survey"
title = "{title}"
audience = "all"
opens = 2026-02-02T09:00
closes = 2026-02-16T23:59
language = "{language}"

{questions}''', encoding="utf-8")
    survey = load_campaign_file(path)
    assert isinstance(survey, Survey)
    return survey
