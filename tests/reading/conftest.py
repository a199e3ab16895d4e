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
