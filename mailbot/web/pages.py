"""Server-rendered pages: Jinja2 templates in `templates/pages/`, words per language in `words.<lang>.toml`.

One set of templates serves Bokmål, Nynorsk and English; the wording lives in
one TOML file per language so a translator edits words, not markup. A staff
folder (`<templates>/pages/`) is searched before the built-in one, as for emails.
A word missing in nn or en falls back to nb, so a page never breaks for a
missing translation.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, Undefined

from mailbot.compose import formats
from mailbot.compose.templates import BUILTIN_DIR

LANGUAGES = ("nb", "nn", "en")


class Words(dict[str, str]):
    """Words of one language; a missing key falls back to the fallback language, then to the key itself."""

    def __init__(self, own: Mapping[str, str], fallback: Mapping[str, str] | None = None):
        super().__init__(own)
        self.fallback = fallback or {}

    def __missing__(self, key: str) -> str:
        return self.fallback.get(key, key)

    def __getattr__(self, key: str) -> str:
        if key.startswith("__"):
            raise AttributeError(key)
        return self[key]


class Pages:
    def __init__(self, staff_templates: Path | None = None, builtin: Path = BUILTIN_DIR):
        folders = [p / "pages" for p in (staff_templates, builtin) if p is not None and (p / "pages").is_dir()]
        self.folders = folders
        self.env = Environment(loader=ChoiceLoader([FileSystemLoader(str(f)) for f in folders]),
                               autoescape=True, undefined=Undefined, trim_blocks=True, lstrip_blocks=True,
                               auto_reload=False)
        raw = {lang: self._words(lang) for lang in LANGUAGES}
        self.words = {lang: Words(raw[lang], raw["nb"] if lang != "nb" else None) for lang in LANGUAGES}
        self.env.globals["date_text"] = formats.date_text
        self.env.globals["datetime_text"] = formats.datetime_text

    def _words(self, lang: str) -> dict[str, str]:
        for folder in self.folders:
            f = folder / f"words.{lang}.toml"
            if f.is_file():
                return {k: str(v) for k, v in tomllib.loads(f.read_text("utf-8")).items()}
        return {}

    def static(self, name: str) -> bytes | None:
        for folder in self.folders:
            f = folder / "static" / name
            if f.is_file():
                return f.read_bytes()
        return None

    def render(self, name: str, lang: str, **context: Any) -> str:
        lang = lang if lang in LANGUAGES else "nb"
        return self.env.get_template(name).render(lang=lang, t=self.words[lang], **context)


def date_for(value: date | datetime, lang: str, zone: str) -> str:
    return formats.date_text(value, lang if lang in LANGUAGES else "nb", zone)
