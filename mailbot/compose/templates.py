"""Templates staff can override, rendered fast enough for a whole panel.

Each email is a pair `<lang>/<name>.txt` and `<lang>/<name>.html`. The text
template sets the subject (`{% set subject = "…" %}`); the HTML template
extends the shared `layout.html`. A staff folder is searched first, then the
built-in `templates/` folder, so staff override one file at a time.

Built in, the three languages share one layout per email, `emails/<name>.txt|html`,
which takes its words from `emails/words.<lang>.toml` as `t` (`{{ t.how_to_answer }}`,
`{{ t.closes.format(closes=survey.closes) }}`): `nb/survey.html` is `emails/survey.html`
with the Bokmål words, unless the staff folder has a `nb/survey.html` of its own.

Speed: rendering Jinja and inlining CSS for every member would cost
milliseconds. Values that differ per member (name, address, links) are
*slots*: a template is rendered and inlined once with unique placeholders in
their place, split into literal pieces, and each member's email is the pieces
joined with that member's values (HTML-escaped in the HTML part). Whether the
values are truthy or empty is part of the cache key, so `{% if recipient.name %}`
still works. A template that does more with a slot than print it (say
`name|upper`) is caught when the entry is built, by rendering a second time
with different placeholders; such a template is then rendered per member.
"""

from __future__ import annotations

import difflib
import re
import secrets
import tomllib
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import (
    BaseLoader,
    BytecodeCache,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    meta,
    pass_context,
)
from jinja2.bccache import Bucket
from jinja2.runtime import Context
from markupsafe import Markup, escape

import mailbot
from mailbot.compose import formats
from mailbot.panel.problems import Problem, unique_problems

BUILTIN_DIR = Path(mailbot.__file__).resolve().parent.parent / "templates"
LAYOUTS = "emails"  # the built-in layouts and their word files, in BUILTIN_DIR

# Every email the bot writes, per language. Notices answer commands by email.
EMAILS = ("survey", "receipt", "not-understood", "closed", "results")
NOTICES = ("unsubscribe", "pause", "resume", "language", "erase", "join")  # notice-<name>
_SHARED = ("layout.html", "_bar.html")
_MAX_ENTRIES = 512


@dataclass(frozen=True)
class TemplateProblem(Problem):
    """A template that is missing, does not parse, or uses a value it is not given."""


class TemplateMissing(LookupError):
    """No template for this email in any folder."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


Slots = dict[str, "str | None"]
SampleContext = Callable[[str], Mapping[str, Any]]  # language -> context
ContextBuilder = Callable[[Mapping[str, "str | None"]], dict[str, Any]]


class Words:
    """One email's words in one language (`t` in a template): its own section of the word file, then `[all]`.

    In an HTML template the words are HTML as written (`<strong>` stays a tag) and
    `.format()` escapes the values put into them, as `{{ value }}` would.
    """

    def __init__(self, file: Path, section: str, own: Mapping[str, str], shared: Mapping[str, str],
                 html: bool):
        self._file, self._section = file, section
        wrap: Callable[[str], str] = Markup if html else str
        self._words = {key: wrap(text) for key, text in {**shared, **own}.items()}

    def __getattr__(self, key: str) -> str:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._words[key]
        except KeyError:
            raise UndefinedError(f"no word {key!r} in {self._file} [{self._section}] or [all]") from None


class _Layouts(BaseLoader):
    """`<lang>/<name>` for every language: the one built-in layout `emails/<name>`."""

    def __init__(self, folder: Path):
        self.folder = FileSystemLoader(str(folder))

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        lang, sep, name = template.partition("/")
        if not sep or lang not in formats.LANGUAGES:
            raise TemplateNotFound(template)
        return self.folder.get_source(environment, name)


class _Compiled(BytecodeCache):
    """Compiled templates shared by every `Templates` in the process, by template name, file and source.

    Each `Templates` (one per Bot, per command) has an environment of its own, which would otherwise
    parse and compile each template it uses again, a few milliseconds each. Jinja keys an entry by the
    template's name and file and checks the source's checksum, so a file whose text changed is compiled
    anew. Every environment here is built with the same options, so their compiled code is the same.
    """

    def __init__(self, limit: int = 2048):
        self._code: dict[str, bytes] = {}
        self._limit = limit

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        if len(self._code) >= self._limit:
            self._code.clear()
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _Compiled()


@dataclass
class _Entry:
    keep: tuple[object, ...]  # the objects the key names by id(): held so ids stay unique
    subject: list[str | int] | None  # literal pieces and slot indexes; None: render per member
    text: list[str | int]
    html: list[str | int]


def _fill(pieces: list[str | int], values: list[str], escaped: list[str] | None = None) -> str:
    vals = escaped if escaped is not None else values
    return "".join(p if isinstance(p, str) else vals[p] for p in pieces)


class Templates:
    """The Jinja2 environment (staff folder first, then built-in) and the caches of rendered pieces."""

    def __init__(self, staff_dir: Path | None = None, *, builtin_dir: Path = BUILTIN_DIR):
        self.staff_dir = staff_dir if staff_dir is not None and Path(staff_dir).is_dir() else None
        self.builtin_dir = builtin_dir
        folders = [p for p in (self.staff_dir, builtin_dir) if p is not None]
        self.env = Environment(
            loader=ChoiceLoader([*(FileSystemLoader(str(p)) for p in folders), _Layouts(builtin_dir / LAYOUTS)]),
            undefined=StrictUndefined,
            autoescape=lambda name: bool(name) and str(name).endswith(".html"),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # templates are read once; staff restart after editing, as with campaigns
            cache_size=-1,
            bytecode_cache=_COMPILED,
        )
        self.env.filters.update(date=_date_filter, datetime=_datetime_filter, number=_number_filter,
                                percent=_percent_filter)
        self._inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
        self._compiled: dict[str, Template] = {}
        self._word_files: dict[str, dict[str, dict[str, str]]] = {}
        self._words: dict[tuple[str, str, bool], Words] = {}
        self._entries: dict[tuple[object, ...], _Entry] = {}
        nonce = secrets.token_hex(5)
        self._slot_a = f"Q{nonce}S{{}}Q"
        self._slot_b = f"Z{nonce}{nonce}T{{}}Z"
        self._split_a = re.compile(f"Q{nonce}S(\\d+)Q")
        self._placeholder = re.compile(f"Q{nonce}S\\d+Q|Z{nonce}{nonce}T\\d+Z")
        self._nonce = nonce
        self.per_member: set[tuple[str, str]] = set()  # templates that cannot use the cache (see _prepare)

    # ------------------------------------------------------------ lookup

    def template(self, name: str) -> Template:
        t = self._compiled.get(name)
        if t is None:
            t = self._compiled[name] = self.env.get_template(name)
        return t

    def has(self, name: str) -> bool:
        try:
            self.template(name)
        except TemplateNotFound:
            return False
        return True

    def pair(self, name: str, lang: str, fallbacks: tuple[str, ...] = ()) -> tuple[str, str]:
        """The (text, html) template names for an email in `lang`, else in the first fallback language."""
        for candidate in (lang, *fallbacks):
            txt, html = f"{candidate}/{name}.txt", f"{candidate}/{name}.html"
            if self.has(txt) and self.has(html):
                return txt, html
        raise TemplateMissing(f"no template {lang}/{name}.txt and {lang}/{name}.html in "
                              f"{', '.join(str(p) for p in (self.staff_dir, self.builtin_dir) if p)}")

    def words(self, name: str, *, html: bool) -> Words:
        """The words template `name` ("nb/survey.txt") gets as `t`: its language's, its email's section."""
        lang, _, file = name.partition("/")
        section = file.rsplit(".", 1)[0]
        words = self._words.get((lang, section, html))
        if words is None:
            path = self.builtin_dir / LAYOUTS / f"words.{lang}.toml"
            sections = self._word_files.get(lang)
            if sections is None:
                sections = self._word_files[lang] = (
                    tomllib.loads(path.read_text("utf-8")) if path.is_file() else {})
            words = self._words[(lang, section, html)] = Words(
                path, section, sections.get(section, {}), sections.get("all", {}), html)
        return words

    # ------------------------------------------------------------ rendering

    def render(self, names: tuple[str, str], context: Mapping[str, Any]) -> Rendered:
        """Render the text template (which sets `subject`), then the HTML one with CSS inlined."""
        txt, html = names
        try:
            module = self.template(txt).make_module({**context, "t": self.words(txt, html=False)})
        except Exception:
            # make_module, unlike render, leaves frames at compiled-Python lines; map them to template lines.
            self.env.handle_exception()
        subject = getattr(module, "subject", None)
        if not isinstance(subject, str) or not subject.strip():
            raise UndefinedError(f"{txt} does not set the subject: add {{% set subject = \"…\" %}}")
        text = str(module)
        page = self.template(html).render({**context, "subject": subject, "t": self.words(html, html=True)})
        return Rendered(subject, text, _join_tag_lines(self._inliner.inline(page), self._placeholder))

    def render_for(self, names: tuple[str, str], shared: tuple[object, ...], build: ContextBuilder,
                   slots: Slots) -> Rendered:
        """Render with per-member `slots` filled into pieces cached per (`names`, `shared`, slot shape).

        `build(values)` makes the template context from slot values (placeholders
        or real ones); everything else it reads must be named in `shared`.
        """
        shape = tuple(v if not v else True for v in slots.values())
        key = (names, tuple(id(o) for o in shared), shape)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._prepare(names, shared, build, slots)
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = entry
        if entry.subject is None:
            return self.render(names, build(slots))
        values = [v or "" for v in slots.values()]
        escaped = [str(escape(v)) for v in values]
        return Rendered(_fill(entry.subject, values), _fill(entry.text, values),
                        _fill(entry.html, values, escaped))

    def _prepare(self, names: tuple[str, str], shared: tuple[object, ...], build: ContextBuilder,
                 slots: Slots) -> _Entry:
        def placeholders(pattern: str) -> dict[str, str | None]:
            return {k: (pattern.format(i) if v else v) for i, (k, v) in enumerate(slots.items())}

        a = self.render(names, build(placeholders(self._slot_a)))
        b = self.render(names, build(placeholders(self._slot_b)))
        b_values = [self._slot_b.format(i) for i in range(len(slots))]
        pieces = [self._pieces(part) for part in (a.subject, a.text, a.html)]
        same = all(
            p is not None and _fill(p, b_values) == expected
            for p, expected in zip(pieces, (b.subject, b.text, b.html), strict=True)
        )
        if not same:  # the template transforms a member's value: render it per member
            self.per_member.add(names)
            return _Entry(shared, None, [], [])
        subject, text, html = pieces
        assert subject is not None and text is not None and html is not None
        return _Entry(shared, subject, text, html)

    def _pieces(self, rendered: str) -> list[str | int] | None:
        parts = self._split_a.split(rendered)
        pieces: list[str | int] = [int(p) if i % 2 else p for i, p in enumerate(parts)]
        if any(isinstance(p, str) and self._nonce in p.lower() for p in pieces):
            return None  # a placeholder was changed (upper-cased, cut): not safe to fill
        return [p for p in pieces if p != ""]

    # ------------------------------------------------------------ checking

    def check(self, samples: Mapping[str, SampleContext] | None = None) -> list[TemplateProblem]:
        """Render every email in every language with sample data; list what is missing or broken.

        `samples` maps an email name to a function lang -> context (the built-in
        emails bring their own; see `mailbot.compose.samples`).
        """
        from mailbot.compose.samples import sample_contexts

        contexts = dict(sample_contexts())
        for notice in sorted(self._notice_names() - set(contexts)):
            contexts[notice] = self._notice_sample(notice)
        contexts.update(samples or {})
        problems: list[TemplateProblem] = []
        problems += self._unknown_files(contexts)
        for lang in formats.LANGUAGES:
            for name, make in contexts.items():
                for suffix in (".txt", ".html"):
                    if not self.has_source(f"{lang}/{name}{suffix}"):
                        problems.append(TemplateProblem(
                            self._expected_path(f"{lang}/{name}{suffix}"), 0,
                            f"template {lang}/{name}{suffix} is missing",
                            f"copy {self._source_path(f'nb/{name}{suffix}')} and translate it"))
                if not (self.has_source(f"{lang}/{name}.txt") and self.has_source(f"{lang}/{name}.html")):
                    continue
                pair = (f"{lang}/{name}.txt", f"{lang}/{name}.html")
                problems += self._try_render(pair, make(lang), name, lang)
        return unique_problems(problems)

    def has_source(self, name: str) -> bool:
        try:
            self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
        except TemplateNotFound:
            return False
        return True

    def _expected_path(self, name: str) -> Path:
        return (self.staff_dir or self.builtin_dir) / name

    def _try_render(self, names: tuple[str, str], context: Mapping[str, Any], name: str,
                    lang: str) -> list[TemplateProblem]:
        try:
            rendered = self.render(names, context)
        except TemplateSyntaxError as exc:
            return [TemplateProblem(Path(exc.filename or names[0]), exc.lineno or 0,
                                    f"template syntax: {exc.message}",
                                    "see the Jinja2 template documentation")]
        except UndefinedError as exc:
            file, line = self._where(exc, names)
            return [TemplateProblem(file, line, f"{exc.message or exc}",
                                    f"use only the values listed in {self.builtin_dir / 'README.md'}")]
        except TemplateNotFound as exc:
            file, line = self._where(exc, names)
            return [TemplateProblem(file, line, f"includes a template that does not exist: {exc.name}",
                                    "check the file name")]
        except Exception as exc:  # noqa: BLE001 - any template error is a problem to report, not a crash
            file, line = self._where(exc, names)
            return [TemplateProblem(file, line, f"{type(exc).__name__}: {exc}")]
        problems = []
        if name in ("survey", "receipt") and formats.MARKERS[lang] not in rendered.text:
            problems.append(TemplateProblem(
                self._source_path(names[0]), 1, "the reply marker line is missing from the text",
                f"put {{{{ marker }}}} on the first line (it reads \"{formats.MARKERS[lang]}\")"))
        return problems

    def _source_path(self, name: str) -> Path:
        try:
            _, filename, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
        except TemplateNotFound:
            return self._expected_path(name)
        return Path(filename or name)

    def _where(self, exc: BaseException, names: tuple[str, str]) -> tuple[Path, int]:
        """File and line of the innermost template frame in the traceback (Jinja maps frames to templates)."""
        folders = [str(p) for p in (self.staff_dir, self.builtin_dir) if p]
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if any(f.filename.startswith(d) for d in folders)]
        if frames:
            return Path(frames[-1].filename), frames[-1].lineno or 0
        return self._source_path(names[0]), 0

    def _notice_names(self) -> set[str]:
        """Every `notice-<name>`, a built-in layout or a staff file in a language folder: notice_email renders any."""
        staff = {p.stem for lang in formats.LANGUAGES if self.staff_dir
                 for p in (self.staff_dir / lang).glob("notice-*.txt")}
        return staff | {p.stem for p in (self.builtin_dir / LAYOUTS).glob("notice-*.txt")}

    def _notice_sample(self, name: str) -> SampleContext:
        """A context for a notice whose caller we do not know: common values, and a stand-in for the rest."""
        from mailbot.compose.samples import notice_context

        def make(lang: str) -> Mapping[str, Any]:
            common = notice_context(lang)
            wanted: set[str] = set()
            for suffix in (".txt", ".html"):
                try:
                    source, _, _ = self.env.loader.get_source(self.env, f"{lang}/{name}{suffix}")  # type: ignore[union-attr]
                    wanted |= meta.find_undeclared_variables(self.env.parse(source))
                except (TemplateNotFound, TemplateSyntaxError):
                    continue  # reported when it is rendered
            return {**{v: SampleValue(v) for v in wanted - set(common)}, **common}

        return make

    def _unknown_files(self, contexts: Mapping[str, object]) -> list[TemplateProblem]:
        """Staff files in a language folder whose names match no email: usually a typo."""
        if self.staff_dir is None:
            return []
        known = {f"{lang}/{n}{s}" for lang in formats.LANGUAGES for n in contexts for s in (".txt", ".html")}
        partials = self._builtin_partials()
        known |= set(_SHARED) | {f"{lang}/{p}" for lang in formats.LANGUAGES for p in partials}
        problems = []
        for path in sorted(self._staff_files()):
            rel = path.relative_to(self.staff_dir).as_posix()
            folder = rel.split("/", 1)[0]
            # Other folders (web pages, static files) and partials belong to others; notices are any name.
            if (rel in known or not rel.endswith((".txt", ".html")) or folder not in formats.LANGUAGES
                    or path.name.startswith(("_", "notice-"))):
                continue
            close = difflib.get_close_matches(rel, sorted(known), n=1)
            problems.append(TemplateProblem(path, 0, f"template {rel} is not used by any email",
                                            f"did you mean {close[0]}?" if close else
                                            "name it after an email, e.g. nb/survey.txt"))
        return problems

    def _staff_files(self) -> Iterator[Path]:
        assert self.staff_dir is not None
        yield from (p for p in self.staff_dir.rglob("*") if p.is_file())

    def _builtin_partials(self) -> set[str]:
        return {p.name for p in (self.builtin_dir / LAYOUTS).glob("_*")}


def _join_tag_lines(html: str, placeholder: re.Pattern[str], limit: int = 500) -> str:
    """Join lines that meet between two tags, up to `limit` characters: fewer lines to write out.

    The newline between two tags becomes a space, which HTML treats the same.
    Placeholders count as nothing, so the lines join the same way whatever
    stands in for a member's values (which `_prepare` relies on).
    """
    out: list[str] = []
    size: list[int] = []
    for line in html.split("\n"):
        n = len(line) - sum(len(m) for m in placeholder.findall(line))
        if out and out[-1].endswith(">") and line.startswith("<") and size[-1] + n < limit:
            out[-1] += " " + line
            size[-1] += n + 1
        else:
            out.append(line)
            size.append(n)
    return "\n".join(out)




# ---------------------------------------------------------------- filters
# For values a caller passes in a notice's context: formatted in the reader's language.


# Anything else (a string already formatted, a `SampleValue`) prints as it is.


class SampleValue(str):
    """Stands in, in `check()`, for a value only a notice's caller knows: prints "[name]", has any attribute."""

    def __new__(cls, name: str) -> SampleValue:
        return super().__new__(cls, f"[{name}]")

    def __getattr__(self, attr: str) -> SampleValue:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return SampleValue(attr)


def _from_iso(value: object) -> object:
    """Outbox payloads are JSON: a date arrives as "2023-03-01" or "2023-03-01T00:00:00+01:00"."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return value
    return value


@pass_context
def _date_filter(ctx: Context, value: object) -> str:
    value = _from_iso(value)
    if isinstance(value, date):
        return formats.date_text(value, ctx.get("lang", "nb"), ctx.get("timezone", "Europe/Oslo"))
    return "" if value is None else str(value)


@pass_context
def _datetime_filter(ctx: Context, value: object) -> str:
    value = _from_iso(value)
    if isinstance(value, datetime):
        return formats.datetime_text(value, ctx.get("lang", "nb"), ctx.get("timezone", "Europe/Oslo"))
    return "" if value is None else str(value)


@pass_context
def _number_filter(ctx: Context, value: object, decimals: int = 0) -> str:
    if isinstance(value, int | float):
        return formats.number_text(value, ctx.get("lang", "nb"), decimals)
    return str(value)


@pass_context
def _percent_filter(ctx: Context, value: object) -> str:
    if isinstance(value, int | float):
        return formats.percent_text(value, ctx.get("lang", "nb"))
    return str(value)
