"""The schedules/ folder: every campaign file read into its campaign, checked alone and against the
others (one id each, audiences that name real age bands, districts, campaigns, questions and options).

Each kind reads its own file (`KINDS`: its pydantic model, its check of meaning, its builder); adding
a kind is one line there. Courses and recruitments are answered through small derived surveys
(`mailbot.forms.forms_of`), added to the list `load_campaigns` returns.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from mailbot.campaigns import Campaign, QuestionType, Survey, Update
from mailbot.campaigns.course import file as course_file
from mailbot.campaigns.forms import forms_of
from mailbot.campaigns.recruitment import file as recruitment_file
from mailbot.campaigns.survey import file as survey_file
from mailbot.campaigns.update import file as update_file
from mailbot.panel.files import EXAMPLES, read_toml, shape_problems
from mailbot.panel.problems import ConfigError, Problem
from mailbot.panel.settings import Settings
from mailbot.panel.toml_lines import Path as KeyPath
from mailbot.panel.toml_lines import key_lines, line_of

# kind -> (file model, check of meaning, builder), from the kind's own file module: one line per kind.
KINDS: dict[str, Any] = {
    "survey": survey_file.FILE,
    "course": course_file.FILE,
    "recruitment": recruitment_file.FILE,
    "update": update_file.FILE,
}


def load_campaign_file(path: str | Path, zone: ZoneInfo | str = "Europe/Oslo") -> Campaign:
    """Read one schedules/*.toml into a campaign. Raises ConfigError."""
    file = Path(path)
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    data, text = read_toml(file)
    lines = key_lines(text)
    kind = data.get("kind")
    if kind is None:
        raise ConfigError(
            [Problem(file, line_of(lines, ("id",)), "missing key 'kind'", f"add {EXAMPLES['kind']}")]
        )
    if not isinstance(kind, str) or kind not in KINDS:
        kinds = list(KINDS)
        close = difflib.get_close_matches(str(kind), kinds, n=1)
        hint = f'did you mean "{close[0]}"?' if close else f"write kind = one of {', '.join(kinds)}"
        raise ConfigError([Problem(file, line_of(lines, ("kind",)), f"unknown campaign kind {kind!r}", hint)])
    model, check, build = KINDS[kind]
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(shape_problems(file, text, exc, model, data)) from None
    findings = check(parsed, tz)
    if findings:
        raise ConfigError(Problem(file, line_of(lines, loc), what, instead) for loc, what, instead in findings)
    campaign: Campaign = build(parsed, file, tz)
    return campaign


def load_campaigns(settings: Settings) -> list[Campaign]:
    """Every schedule, checked alone and against each other. Raises ConfigError with all problems."""
    problems: list[Problem] = []
    campaigns: list[Campaign] = []
    if not settings.schedules_dir.is_dir():
        raise ConfigError(
            [
                Problem(
                    settings.file,
                    _paths_line(settings, "schedules"),
                    f"the schedules folder {settings.schedules_dir} does not exist",
                    "create it, or set [paths] schedules to the folder with the campaign files",
                )
            ]
        )
    files = sorted(settings.schedules_dir.glob("*.toml"))
    for file in files:
        try:
            campaigns.append(load_campaign_file(file, settings.panel.zone))
        except ConfigError as exc:
            problems.extend(exc.problems)
    problems.extend(_cross_check(campaigns, settings))
    problems.extend(_updates_name_real_campaigns(campaigns))
    if problems:
        raise ConfigError(problems)

    # Courses and recruitments are answered through small derived surveys (see mailbot.forms).
    return campaigns + [f for c in campaigns for f in forms_of(c, settings.panel.zone)]


def _paths_line(settings: Settings, key: str) -> int:
    try:
        return line_of(key_lines(settings.file.read_text(encoding="utf-8-sig")), ("paths", key))
    except (OSError, UnicodeDecodeError):
        return 1


def source_lines(c: Campaign) -> dict[KeyPath, int]:
    src = c.source
    if src is None or not src.exists():
        return {}
    return key_lines(src.read_text(encoding="utf-8-sig"))


def _cross_check(campaigns: Sequence[Campaign], settings: Settings) -> list[Problem]:
    problems: list[Problem] = []
    by_id: dict[str, Campaign] = {}
    for c in campaigns:
        src = c.source or Path("?")
        lines = source_lines(c)
        if c.id in by_id:
            other = by_id[c.id]
            other_line = line_of(source_lines(other), ("id",))
            problems.append(
                Problem(
                    src,
                    line_of(lines, ("id",)),
                    f"campaign id {c.id!r} is also used in {other.source}:{other_line}",
                    "give each campaign its own id",
                )
            )
        by_id.setdefault(c.id, c)
        a = c.audience
        for i, band in enumerate(a.age_bands):
            if band not in settings.panel.age_bands:
                problems.append(
                    Problem(
                        src,
                        line_of(lines, ("audience", "age_bands", i)),
                        f"unknown age band {band!r}",
                        f"use one of {', '.join(settings.panel.age_bands)} ([panel] age_bands)",
                    )
                )
        for i, district in enumerate(a.districts):
            if district not in settings.config.districts:
                known = list(settings.config.districts)
                close = difflib.get_close_matches(district, known, n=1)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else f"use one of {', '.join(known)}"
                    if known
                    else "add it to [districts] in config.toml"
                )
                problems.append(
                    Problem(
                        src,
                        line_of(lines, ("audience", "districts", i)),
                        f"unknown district {district!r}",
                        hint,
                    )
                )
    for c in campaigns:
        src = c.source or Path("?")
        lines = source_lines(c)
        for i, e in enumerate(c.audience.answered):
            at: KeyPath = ("audience", "answered", i)
            earlier = by_id.get(e.campaign)
            if earlier is None or earlier is c:
                known = [x for x in by_id if x != c.id]
                close = difflib.get_close_matches(e.campaign, known, n=1)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else "name the id of an earlier campaign in schedules/"
                )
                problems.append(
                    Problem(
                        src,
                        line_of(lines, (*at, "campaign")),
                        f"audience refers to unknown campaign {e.campaign!r}",
                        hint,
                    )
                )
                continue
            if not isinstance(earlier, Survey):
                problems.append(
                    Problem(
                        src,
                        line_of(lines, (*at, "campaign")),
                        f"{e.campaign!r} is a {earlier.kind}, not a survey: it has no answers to select by",
                        "name a survey, or use participants/volunteers in an update",
                    )
                )
                continue
            q = earlier.question(e.question)
            if q is None:
                problems.append(
                    Problem(
                        src,
                        line_of(lines, (*at, "question")),
                        f"campaign {e.campaign!r} has no question {e.question!r}",
                        f"use one of {', '.join(x.id for x in earlier.questions)}",
                    )
                )
            elif q.type == QuestionType.TEXT:
                problems.append(
                    Problem(
                        src,
                        line_of(lines, (*at, "question")),
                        f"{e.campaign}.{e.question} is a text question; free text cannot select an audience",
                        "choose a choice, multi or scale question",
                    )
                )
            elif q.options and str(e.answer).casefold() not in {o.casefold() for o in q.options}:
                problems.append(
                    Problem(
                        src,
                        line_of(lines, (*at, "answer")),
                        f"{e.answer!r} is not an option of {e.campaign}.{e.question}",
                        f"use one of {', '.join(repr(o) for o in q.options)}",
                    )
                )
            elif q.type == QuestionType.SCALE and (
                not str(e.answer).lstrip("-").isdigit() or int(e.answer) not in q.scale_values
            ):
                problems.append(
                    Problem(
                        src,
                        line_of(lines, (*at, "answer")),
                        f"{e.answer!r} is not on the scale of {e.campaign}.{e.question}",
                        f"use a whole number from {q.min} to {q.max}",
                    )
                )
    return problems


def _updates_name_real_campaigns(campaigns: Sequence[Campaign]) -> list[Problem]:
    """Updates name courses and recruitments that exist."""
    kinds = {c.id: c.kind for c in campaigns}
    out: list[Problem] = []
    for c in campaigns:
        if not isinstance(c, Update):
            continue
        lines = source_lines(c)
        for key, ids, allowed in (("participants", c.among.participants, ("course",)),
                                  ("volunteers", c.among.volunteers, ("course", "recruitment"))):
            for i, cid in enumerate(ids):
                if kinds.get(cid) not in allowed:
                    known = [k for k, v in kinds.items() if v in allowed]
                    out.append(Problem(c.source or Path("?"), line_of(lines, (key, i)),
                                       f"{key}: {cid!r} is not a {' or '.join(allowed)} in schedules/",
                                       f"use one of {', '.join(known)}" if known else "remove it"))
    return out
