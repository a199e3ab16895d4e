"""population.toml: the municipality's population by age band, gender and district.

Staff copy the numbers from Statistics Norway (SSB) once a year. They are used
to show whether respondents look like the population, to weight results, and
to find under-represented groups while a survey runs. The file sits beside
config.toml (or is named with --population); without it, the panel itself is
the reference and nothing is weighted.

    source = "SSB tabell 07459, 1. januar 2024"

    [age_band]            # the panel's [panel] age_bands
    "15-29" = 21500
    [gender]              # kvinne, mann (annet): members.gender, from the roster's kjønn column
    kvinne = 52300
    mann = 51200
    [district]            # the names in config.toml [districts]
    Sandvika = 24100
    [gender_tags]         # optional, older panels: a member tag that says the gender
    kvinne = "kvinne"
    [weighting]
    enabled = true
    [balance]
    tolerance = 0.2       # a group is under-represented below 80 % of its expected share

The commented example at the repository root (population.toml) explains every key.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mailbot.panel.problems import ConfigError, Problem
from mailbot.panel.settings import Settings
from mailbot.panel.toml_lines import key_lines, line_of
from mailbot.roster import GENDERS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WeightingSection(_Strict):
    enabled: bool = True
    max_iterations: int = Field(default=100, ge=1)
    tolerance: float = Field(default=1e-6, gt=0)


class BalanceSection(_Strict):
    tolerance: float = Field(default=0.2, ge=0, lt=1)


class Population(_Strict):
    source: str = ""
    age_band: dict[str, float] = Field(default_factory=dict)
    gender: dict[str, float] = Field(default_factory=dict)
    district: dict[str, float] = Field(default_factory=dict)
    gender_tags: dict[str, str] = Field(default_factory=dict)
    weighting: WeightingSection = WeightingSection()
    balance: BalanceSection = BalanceSection()

    def margin(self, dimension: str) -> dict[str, float]:
        return dict(getattr(self, dimension))


DIMENSIONS = ("age_band", "gender", "district")


def default_path(settings: Settings) -> Path:
    return settings.root / "population.toml"


def load_population(path: Path, settings: Settings) -> Population:
    """Read and check population.toml against the panel's age bands and districts; ConfigError if wrong."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError([Problem(path, 1, f"cannot read {path}: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise ConfigError([Problem(path, 1, "not UTF-8", "save the file as UTF-8")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([Problem(path, getattr(exc, "lineno", 1) or 1, f"not valid TOML: {exc}")]) from None
    lines = key_lines(text)
    try:
        population = Population.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            Problem(path, line_of(lines, tuple(e["loc"])), f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
            for e in exc.errors()
        ) from None
    problems: list[Problem] = []
    for band in population.age_band:
        if band not in settings.panel.age_bands:
            problems.append(Problem(path, line_of(lines, ("age_band", band)), f"unknown age band {band!r}",
                                    f"use [panel] age_bands: {', '.join(settings.panel.age_bands)}"))
    for district in population.district:
        if district not in settings.config.districts:
            problems.append(Problem(path, line_of(lines, ("district", district)),
                                    f"unknown district {district!r}", "use names in [districts]"))
    for gender in population.gender:
        if gender.lower() not in GENDERS and not population.gender_tags:
            problems.append(Problem(path, line_of(lines, ("gender", gender)), f"unknown gender {gender!r}",
                                    f"use {', '.join(GENDERS)} (the values of the roster's kjønn column), "
                                    "or name tags in [gender_tags]"))
    for tag, gender in population.gender_tags.items():
        if population.gender and gender not in population.gender:
            problems.append(Problem(path, line_of(lines, ("gender_tags", tag)), f"unknown gender {gender!r}",
                                    f"use one of {', '.join(population.gender)}"))
    for dim in DIMENSIONS:
        for key, value in population.margin(dim).items():
            if value < 0:
                problems.append(Problem(path, line_of(lines, (dim, key)), f"{dim}.{key} is negative",
                                        "write the number of residents"))
    if problems:
        raise ConfigError(problems)
    return population
