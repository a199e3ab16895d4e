"""Staff's look before sending, and the daemon: `preview`, `send-test`, `templates check`, `run`.

`preview` and `send-test` compose an email exactly as a resident would get it
— the same Composer the sender uses, the same templates and links — for a
stand-in recipient: member id 0, which no resident has. Its links and reply
address are signed like real ones but name no member, so answering a test
email records nothing for anyone. A test send also has "[TEST] " before its
subject and a Message-ID of its own (mail programs merge messages with one ID).
"""

from __future__ import annotations

import json
import re
import uuid
import webbrowser
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from mailbot.campaigns import QuestionType, Survey
from mailbot.cli.app import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, app
from mailbot.cli.validate import ConfigOption, print_problems, shown
from mailbot.panel.problems import ConfigError
from mailbot.panel.secrets import MissingSecret
from mailbot.panel.settings import Settings, load_settings

if TYPE_CHECKING:
    from mailbot.bot import Bot
    from mailbot.campaigns import Campaign

LANGUAGES = ("nb", "nn", "en")
TEST_MEMBER_ID = 0  # no resident has id 0: tokens naming it record nothing for anyone
TEST_PREFIX = "[TEST] "
SAMPLE_NAME = "Kari Nordmann"
SAMPLE_ADDRESS = "kari.nordmann@example.no"
# Emails that answer a resident's reply, previewable per survey (the step names the outbox would use).
REPLY_STEPS = ("receipt", "not-understood", "closed")
_ADDRESS = re.compile(r"[^@\s<>\"(),;:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")

templates_app = typer.Typer(help="The email templates: check them all.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")

CampaignArg = Annotated[str, typer.Argument(help="The campaign id (the `id` in its schedules/ file).")]
StepArg = Annotated[str, typer.Argument(help="invitation, reminder-1, reminder-2 …, results, receipt, "
                                             "not-understood or closed.")]
MemberOption = Annotated[str | None, typer.Option("--member", help="Write it for this member (by address): "
                                                                   "their name and language.")]
LangOption = Annotated[str | None, typer.Option("--lang", help="Language: nb, nn or en (default: the "
                                                              "member's, else the panel's).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]


class BadInput(Exception):
    """A mistake in the command line: printed as it is, exit 2, nothing changed."""


# ---------------------------------------------------------------- shared


def _load(config: Path, err: Console) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        print_problems(exc.problems, err)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _bot(settings: Settings, err: Console, *, need_key: bool) -> Bot:
    from mailbot.bot import Bot, keys_from_env
    from mailbot.tokens import Keys

    try:
        keys = keys_from_env()
    except MissingSecret as exc:
        if need_key:
            err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        keys = Keys(("preview-only: links in a preview do not work",))
    try:
        return Bot(settings, keys=keys).prepare()
    except ConfigError as exc:
        print_problems(exc.problems, err)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def campaign_steps(campaign: Campaign) -> list[str]:
    """The emails this campaign sends, in order, then the answers to a resident's reply (surveys)."""
    from mailbot.plan import timeline

    steps: list[str] = []
    try:
        before = campaign.opens - timedelta(seconds=1)
        steps = [p.step for p in timeline([campaign], {}, before) if p.sends]
    except (AttributeError, TypeError):  # a kind the planner does not lay out this way
        steps = []
    if isinstance(campaign, Survey):
        if not steps:
            steps = ["invitation", *(f"reminder-{i}" for i in range(1, len(campaign.reminders) + 1))]
        steps += [s for s in REPLY_STEPS if s not in steps]
    return steps


def _step_time(campaign: Campaign, step: str) -> datetime:
    """When this step would go out: the email's Date header and its "still N days" wording."""
    opens: datetime = campaign.opens
    closes: datetime = campaign.closes
    if isinstance(campaign, Survey) and step.startswith("reminder-") and step[9:].isdigit():
        i = int(step[9:])
        if 1 <= i <= len(campaign.reminders):
            return opens + campaign.reminders[i - 1]
    if step in ("results", "closed"):
        return closes
    if step in ("receipt", "not-understood"):
        return opens + (closes - opens) / 2
    return opens


def _find_campaign(bot: Bot, campaign_id: str, step: str) -> Campaign:
    campaign = bot.by_id.get(campaign_id)
    if campaign is None:
        ids = ", ".join(sorted(bot.by_id)) or f"none (add a file to {shown(bot.settings.schedules_dir)})"
        raise BadInput(f"no campaign {campaign_id!r} in {shown(bot.settings.schedules_dir)} — the campaigns are: "
                       f"{ids}")
    steps = campaign_steps(campaign)
    if step not in steps:
        raise BadInput(f"campaign {campaign_id!r} has no step {step!r} — its steps are: {', '.join(steps)}")
    return campaign


def _check_lang(lang: str | None) -> None:
    if lang is not None and lang not in LANGUAGES:
        raise BadInput(f"--lang {lang!r} is not a language mailbot writes — use nb (bokmål), nn (nynorsk) or "
                       "en (English)")


@dataclass(frozen=True)
class StandIn:
    """Who the email is written for: a member's name and language, or a sample, always as member 0."""

    name: str | None
    address: str
    language: str
    member: str | None  # the address given with --member, for the report


def _stand_in(bot: Bot, member: str | None, lang: str | None, address: str | None) -> StandIn:
    from mailbot.store import members as member_store

    panel_lang = bot.settings.panel.language
    if member is None:
        return StandIn(SAMPLE_NAME, address or SAMPLE_ADDRESS, lang or panel_lang, None)
    with bot.store.transaction() as s:
        record = member_store.member_by_email(s, member)
    if record is None or record.email is None:
        raise BadInput(f"no member with the address {member!r} — `mailbot members list` shows who is on the "
                       "panel; leave out --member to use a sample resident")
    return StandIn(record.name, address or record.email, lang or record.language or panel_lang, record.email)


def _sample_payload(campaign: Campaign, step: str) -> dict[str, Any]:
    """What the outbox row of a reply-answer would carry: a believable half-answered reply."""
    if step in ("not-understood", "closed"):
        return {"kind": step}
    if step != "receipt" or not isinstance(campaign, Survey):
        return {}
    recorded: dict[str, Any] = {}
    missing: list[str] = []
    for i, q in enumerate(campaign.questions):
        if i % 2 and q.required:
            missing.append(q.id)
        elif q.type == QuestionType.CHOICE:
            recorded[q.id] = q.options[0]
        elif q.type == QuestionType.MULTI:
            recorded[q.id] = list(q.options[:2])
        elif q.type == QuestionType.SCALE:
            recorded[q.id] = q.max
        elif q.type == QuestionType.TEXT:
            recorded[q.id] = "Sandvika sentrum"
    return {"kind": "receipt", "recorded": recorded, "missing": missing, "unsure": {}}


def compose_for(bot: Bot, campaign: Campaign, step: str, who: StandIn) -> EmailMessage:
    """The email a resident would get for this step, composed by the sender's own Composer, for member 0."""
    from mailbot.people import Recipient
    from mailbot.store.outbox import Claimed

    outbox_step = f"{step}-0" if step == "receipt" else step
    row = Claimed(outbox_id=0, campaign_id=campaign.id, step=outbox_step, attempts=0,
                  payload=_sample_payload(campaign, step),
                  recipient=Recipient(TEST_MEMBER_ID, who.address, who.name, who.language))
    message, _return_path = bot.composer(row, _step_time(campaign, step))
    return message


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return (text.get_content() if text is not None else "", html.get_content() if html is not None else "")


def _fail(err: Console, exc: BadInput) -> typer.Exit:
    err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_BAD_INPUT)


def _composed(bot: Bot, campaign: Campaign, step: str, who: StandIn, err: Console) -> EmailMessage:
    try:
        return compose_for(bot, campaign, step, who)
    except Exception as exc:  # a template problem: say where, as `templates check` would
        err.print(f"cannot write {campaign.id} {step} in {who.language}: {type(exc).__name__}: {exc}",
                  markup=False, highlight=False, soft_wrap=True)
        err.print("run `mailbot templates check` for the file and line", markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED) from None


# ---------------------------------------------------------------- preview


@app.command()
def preview(
    campaign: CampaignArg,
    step: StepArg,
    member: MemberOption = None,
    lang: LangOption = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the files.")] = Path("preview"),
    open_: Annotated[bool, typer.Option("--open", help="Open the HTML in a web browser.")] = False,
    as_json: JsonOption = False,
    config: ConfigOption = Path("config.toml"),
) -> None:
    """Write one email as a resident would get it: text, HTML and the whole message, to files.

    Examples:

      mailbot preview ombruk-2022 invitation

      mailbot preview ombruk-2022 reminder-1 --lang nn --open

      mailbot preview ombruk-2022 results --member kari@example.no --out /tmp/preview

    Exit codes: 0 written, 1 a template failed, 2 unknown campaign, step, member or language.
    """
    err = Console(stderr=True, soft_wrap=True)
    settings = _load(config, err)
    try:
        _check_lang(lang)
        bot = _bot(settings, err, need_key=False)
        found = _find_campaign(bot, campaign, step)
        who = _stand_in(bot, member, lang, None)
    except BadInput as exc:
        raise _fail(err, exc) from None
    message = _composed(bot, found, step, who, err)
    text, html = _parts(message)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{found.id}.{step}.{who.language}"
    files = {"text": out / f"{stem}.txt", "html": out / f"{stem}.html", "eml": out / f"{stem}.eml"}
    files["text"].write_text(text, encoding="utf-8")
    files["html"].write_text(html, encoding="utf-8")
    files["eml"].write_bytes(message.as_bytes())
    subject = str(message["Subject"])
    if as_json:
        print(json.dumps({"campaign": found.id, "step": step, "language": who.language, "subject": subject,
                          "member": who.member, **{k: str(v) for k, v in files.items()}}, ensure_ascii=False))
    else:
        console = Console(soft_wrap=True)
        console.print(f"Subject: {subject}", markup=False, highlight=False)
        for kind, path in files.items():
            console.print(f"  {kind:<5} {shown(path)}", markup=False, highlight=False)
    if open_:
        webbrowser.open(files["html"].resolve().as_uri())


# ---------------------------------------------------------------- send-test


@app.command("send-test")
def send_test(
    campaign: CampaignArg,
    step: StepArg,
    to: Annotated[str, typer.Option("--to", help="Where to send it: your own address.")],
    member: MemberOption = None,
    lang: LangOption = None,
    as_json: JsonOption = False,
    config: ConfigOption = Path("config.toml"),
) -> None:
    """Send one email as a resident would get it, marked [TEST], to ADDRESS, through the configured transport.

    The links and reply address work but name no member: answering it records
    nothing. With transport "local" it lands in the local mailbox folder.

    Examples:

      mailbot send-test ombruk-2022 invitation --to me@baerum.kommune.no

      mailbot send-test ombruk-2022 reminder-1 --to me@baerum.kommune.no --lang en

    Exit codes: 0 sent, 1 the mail server refused or could not be reached, 2 bad input.
    """
    from mailbot.compose import headers
    from mailbot.links import addressing
    from mailbot.transport import SendError

    err = Console(stderr=True, soft_wrap=True)
    settings = _load(config, err)
    try:
        _check_lang(lang)
        address = to.strip()
        if not _ADDRESS.fullmatch(address):
            raise BadInput(f"--to {to!r} is not an email address — write for example --to me@example.no")
        bot = _bot(settings, err, need_key=True)
        found = _find_campaign(bot, campaign, step)
        who = _stand_in(bot, member, lang, address)
    except BadInput as exc:
        raise _fail(err, exc) from None
    message = _composed(bot, found, step, who, err)
    subject = TEST_PREFIX + str(message["Subject"])
    message.replace_header("Subject", headers.unstructured("Subject", subject))
    domain = settings.panel.address.rsplit("@", 1)[1]
    message_id = f"<test.{uuid.uuid4().hex}@{domain}>"
    message.replace_header("Message-ID", headers.message_id("Message-ID", message_id))
    return_path = addressing(bot.keys, settings.panel, 0, TEST_MEMBER_ID, found.id).return_path
    try:
        with bot.transport() as transport:
            response = transport.send(message.as_bytes(), return_path, address)
    except (SendError, OSError) as exc:
        err.print(f"not sent: {getattr(exc, 'response', None) or exc}", markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED) from None
    where = None
    if settings.config.transport.kind == "local":
        from mailbot.transport.local import mailbox_dir

        where = mailbox_dir(bot.mailbox_root(), address)
    if as_json:
        print(json.dumps({"campaign": found.id, "step": step, "language": who.language, "to": address,
                          "subject": subject, "message_id": message_id, "response": response,
                          "mailbox": str(where) if where else None}, ensure_ascii=False))
        return
    console = Console(soft_wrap=True)
    console.print(f"sent to {address}: {subject}", markup=False, highlight=False)
    if where is not None:
        console.print(f"  in the local mailbox folder {shown(where)}", markup=False, highlight=False)


# ---------------------------------------------------------------- templates check


@templates_app.command("check")
def templates_check(
    as_json: JsonOption = False,
    config: ConfigOption = Path("config.toml"),
) -> None:
    """Render every email in every language (nb, nn, en) with sample data; list what is missing or broken.

    Each problem is printed as FILE:LINE: what is wrong — what to do.

    Example: mailbot templates check

    Exit codes: 0 all templates render, 2 problems found.
    """
    from rich.progress import Progress

    from mailbot.compose import Templates

    err = Console(stderr=True, soft_wrap=True)
    try:
        settings = load_settings(config, load_env=False)
    except ConfigError as exc:
        print_problems(exc.problems, err)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    templates = Templates(settings.templates_dir)
    with Progress(console=err, transient=True, disable=as_json) as progress:
        progress.add_task("rendering every template in nb, nn and en", total=None)
        try:
            problems: list[Any] = list(templates.check())
        except ConfigError as exc:
            problems = list(exc.problems)
    if as_json:
        print(json.dumps({"ok": not problems, "templates": str(settings.templates_dir),
                          "problems": [{"file": str(p.file), "line": p.line, "what": p.what,
                                        "instead": getattr(p, "instead", "")} for p in problems]},
                         ensure_ascii=False))
    elif problems:
        print_problems(problems, err)
        err.print(f"{len(problems)} problem(s) in the templates; nothing was changed.", markup=False,
                  highlight=False)
    else:
        own = templates.staff_dir
        where = "the built-in templates"
        if own is not None and own.resolve() != templates.builtin_dir.resolve():
            where = f"{shown(own)} over the built-in ones"
        Console(soft_wrap=True).print(f"templates OK: every email renders in nb, nn and en ({where}).",
                                      markup=False, highlight=False)
    raise typer.Exit(EXIT_BAD_INPUT if problems else EXIT_OK)


# ---------------------------------------------------------------- web


@app.command()
def web(
    config: ConfigOption = Path("config.toml"),
    host: Annotated[str, typer.Option("--host", help="Address the web server listens on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option("--port", help="Its port (default: the port of "
                                                            "panel.public_url, else 8080).")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Web processes sharing the port "
                                                                          "(more than 1: PostgreSQL only).")] = 1,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log DEBUG lines too.")] = False,
    json_logs: Annotated[bool, typer.Option("--json-logs", help="Log one JSON object per line.")] = False,
) -> None:
    """Serve only the resident pages (one-click answers, unsubscribe, join), in N processes, until SIGTERM.

    For a large panel: clicks use every core. Run the daemon beside it without
    its own pages (`mailbot run --no-web --port 8081`, which keeps /healthz and
    /metrics). Several workers need PostgreSQL: SQLite keeps its writers in
    order within one process only.

    Examples:

      mailbot web --workers 4

      mailbot run --no-web --port 8081 --inbound lmtp://127.0.0.1:8024

    Exit codes: 0 stopped cleanly, 1 a port taken or a worker died, 2 bad config or arguments.
    """
    from mailbot import daemon, logs
    from mailbot.store import Store
    from mailbot.web import create_app
    from mailbot.web.workers import WebWorkersError, serve

    logs.setup(verbose, json_lines=json_logs)
    err = Console(stderr=True, soft_wrap=True)
    settings = _load(config, err)
    bot = _bot(settings, err, need_key=True)
    if workers > 1 and bot.store.is_sqlite:
        err.print(f"--workers {workers} needs PostgreSQL ([database] url): on SQLite one web process keeps "
                  "the clicks in order. Nothing was started.", markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    url, keys, campaigns = bot.store.url, bot.keys, bot.campaigns
    bot.store.dispose()  # each worker opens its own connections

    def make_app() -> object:
        return create_app(settings, Store(url), keys, campaigns)

    try:
        code = serve(make_app, host, port if port is not None else daemon.web_port(settings.panel.public_url),
                     workers)
    except WebWorkersError as exc:
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED) from None
    raise typer.Exit(code)


# ---------------------------------------------------------------- run


@app.command()
def run(
    config: ConfigOption = Path("config.toml"),
    web: Annotated[bool, typer.Option("--web/--no-web", help="Serve the resident pages (one-click answers, "
                                                              "unsubscribe, join).")] = True,
    every: Annotated[float, typer.Option("--every", min=1.0, help="Seconds between ticks.")] = 60.0,
    host: Annotated[str, typer.Option("--host", help="Address the web server listens on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option("--port", help="Its port (default: the port of "
                                                            "panel.public_url, else 8080).")] = None,
    inbound: Annotated[str | None, typer.Option("--inbound", help="Take replies from an MTA: "
                                                                  "lmtp://127.0.0.1:8024, smtp://HOST:PORT or "
                                                                  "lmtp:/run/mailbot/lmtp.sock.")] = None,
    max_per_minute: Annotated[float | None, typer.Option("--max-per-minute", min=0.1, help="Send at most this "
                                                         "many emails a minute, evenly spaced (lowers "
                                                         "[sending] per_minute; Microsoft 365: 30).")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Sending processes: this one plus "
                                                                          "N-1 send-only workers.")] = 1,
    web_workers: Annotated[int, typer.Option("--web-workers", min=1, max=64, help="Processes serving the "
                                             "resident pages on --port (more than 1: PostgreSQL only; "
                                             "/healthz and /metrics move to --health-port).")] = 1,
    health_port: Annotated[int | None, typer.Option("--health-port", help="With --web-workers: the port of "
                                                    "/healthz and /metrics (default: --port + 1).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log DEBUG lines too.")] = False,
    json_logs: Annotated[bool, typer.Option("--json-logs", help="Log one JSON object per line.")] = False,
) -> None:
    """Run the panel: a tick every minute, the mail servers and the web pages, until SIGTERM.

    Serves /healthz (JSON; 200 or 503) and /metrics (Prometheus) beside the
    resident pages. Only the process holding the planner lock plans; the others
    (a second daemon, `--workers`, cron ticks) only send. On SIGTERM it finishes
    the email in hand, hands the rest back, stops its workers and servers and
    exits 0; a restart carries on where it stopped.

    Examples:

      mailbot run

      mailbot run --config /srv/panel/config.toml --inbound lmtp://127.0.0.1:8024 --max-per-minute 30

      mailbot run --workers 4

      mailbot run --web-workers 4 --port 8080 --health-port 8081

    Exit codes: 0 stopped cleanly, 1 could not start (a port taken), 2 bad config or arguments.
    """
    from mailbot import daemon, logs

    logs.setup(verbose, json_lines=json_logs)
    err = Console(stderr=True, soft_wrap=True)
    settings = _load(config, err)
    try:
        where = daemon.Listen.parse(inbound) if inbound else None
    except daemon.DaemonError as exc:
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    bot = _bot(settings, err, need_key=True)
    pages_port = port if port is not None else daemon.web_port(settings.panel.public_url)
    several = web and web_workers > 1
    if several and bot.store.is_sqlite:
        err.print(f"--web-workers {web_workers} needs PostgreSQL ([database] url): on SQLite one web process keeps "
                  "the clicks in order. Nothing was started.", markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    options = daemon.DaemonOptions(every=every, web=web and not several, host=host,
                                   port=(health_port or pages_port + 1) if several else pages_port,
                                   inbound=where, max_per_minute=max_per_minute, workers=workers,
                                   web_workers=web_workers if several else 1, web_port=pages_port)
    try:
        code = daemon.run(bot, options)
    except daemon.DaemonError as exc:
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED) from None
    raise typer.Exit(code)

