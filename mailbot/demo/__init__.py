"""`mailbot demo`: one real survey from schedules/, through the real code paths, on a simulated clock.

Residents are synthetic and seeded; everything else is the real thing: the
CSV import, the planner, the outbox, composing from templates, SMTP to the
embedded local post office, replies written as mail clients write them and
sent back over SMTP, the reply parser, reminders to non-responders only,
closing, and the results email.
"""

from __future__ import annotations

import random
import re
import shutil
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from sqlalchemy import func, select

from mailbot.bot import Bot
from mailbot.campaigns import Survey
from mailbot.demo.residents import (
    Resident,
    choose_answers,
    reply_message,
    reply_text,
    residents,
    write_roster,
)
from mailbot.panel.settings import load_settings
from mailbot.roster import read_roster
from mailbot.schedules import load_campaign_file
from mailbot.states import InboundState
from mailbot.store import members as member_store
from mailbot.store.models import Inbound, Member, Outbox, Response
from mailbot.tokens import Keys
from mailbot.transport.local import free_port, mailbox_dir

REPO = Path(__file__).resolve().parents[2]
DEMO_SURVEY = "ombruk-2022"
SERVE_OPENED_AGO = timedelta(days=5)  # `--serve`: the survey opened about this long ago (after the first reminder)


@dataclass
class DemoReport:
    members: int
    survey: Survey
    sent: dict[str, int] = field(default_factory=dict)
    replies_sent: int = 0
    answered: int = 0
    invited: int = 0
    needs_human: int = 0
    machines: int = 0
    results_eml: Path | None = None
    results_html: Path | None = None
    mailboxes: Path | None = None
    database: Path | None = None
    events: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.answered / self.invited if self.invited else 0.0


def _config_text(port: int, templates: Path, web_port: int = 8080) -> str:
    return f"""# Written by `mailbot demo`: the demo panel, in this folder only.
[panel]
name = "Innbyggerpanelet"
organisation = "Bærum kommune"
address = "innbyggerpanel@baerum.example.no"
reply_domain = "svar.baerum.example.no"
public_url = "http://127.0.0.1:{web_port}"
timezone = "Europe/Oslo"
language = "nb"

[database]
url = "sqlite:///mailbot.sqlite3"

[transport]
kind = "local"
host = "127.0.0.1"
port = {port}
mailboxes = "mailboxes"

[paths]
schedules = "schedules"
templates = "{templates.as_posix()}"
"""


def demo_key(seed: int) -> str:
    """The demo's token key: written to the demo folder's .env, so `mailbot run` there reads the same links."""
    return f"demo-key-{seed}"


def _shifted(text: str, opens: datetime, closes: datetime) -> str:
    """The survey file with its opening and closing times moved (local times, to the minute)."""
    text = re.sub(r"(?m)^opens = .*$", f"opens = {opens:%Y-%m-%dT%H:%M}", text, count=1)
    return re.sub(r"(?m)^closes = .*$", f"closes = {closes:%Y-%m-%dT%H:%M}", text, count=1)


def run_demo(members: int = 600, seed: int = 1, directory: Path = Path("demo-out"),
             say: Callable[[str], None] = lambda s: None, *, still_open_at: datetime | None = None,
             web_port: int = 8080) -> DemoReport:
    """The demo survey on a simulated clock, from opening to a day after closing.

    With `still_open_at` (for `mailbot demo --serve`), the survey is moved so that it opened
    SERVE_OPENED_AGO before that moment and is still open then, and the clock stops there: the
    links in the mailboxes work, and nothing has closed yet.
    """
    rng = random.Random(seed)
    directory = directory.resolve()
    for old in ("mailbot.sqlite3", "mailbot.sqlite3-wal", "mailbot.sqlite3-shm", "mailboxes", "schedules"):
        path = directory / old
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    (directory / "schedules").mkdir(parents=True)
    source = REPO / "schedules" / f"{DEMO_SURVEY}.toml"
    port = free_port()
    (directory / "config.toml").write_text(_config_text(port, REPO / "templates", web_port), encoding="utf-8")
    (directory / ".env").write_text(f"# Written by `mailbot demo`: the key the demo's links are signed with.\n"
                                    f"MAILBOT_TOKEN_KEY={demo_key(seed)}\n", encoding="utf-8")
    settings = load_settings(directory / "config.toml", load_env=False)
    text = source.read_text(encoding="utf-8")
    if still_open_at is not None:
        original = load_campaign_file(source, settings.panel.zone)
        # Moved by whole days, so it still opens at 09:00 and closes at 23:59 local time.
        days = ((still_open_at - SERVE_OPENED_AGO).astimezone(settings.panel.zone).date()
                - original.opens.astimezone(settings.panel.zone).date()).days
        zone = settings.panel.zone
        text = _shifted(text, (original.opens.astimezone(zone) + timedelta(days=days)),
                        (original.closes.astimezone(zone) + timedelta(days=days)))
    (directory / "schedules" / source.name).write_text(text, encoding="utf-8")
    survey = load_campaign_file(directory / "schedules" / source.name, settings.panel.zone)
    assert isinstance(survey, Survey)
    bot = Bot(settings, campaigns=[survey], keys=Keys((demo_key(seed),))).prepare()
    report = DemoReport(members, survey, mailboxes=bot.mailbox_root(), database=directory / "mailbot.sqlite3")

    people = residents(members, rng)
    roster = directory / "panel.csv"
    write_roster(people, roster)
    read = read_roster(roster)
    with bot.store.transaction() as s:
        member_store.upsert_members(s, read.rows, survey.opens)
    say(f"Imported {len(read.rows)} residents from {roster.name}")

    plan = _reply_plan(people, survey, rng)
    office = bot.local_post_office(port).start()
    try:
        with bot.transport() as transport:
            for now in _ticks(survey):
                if still_open_at is not None and now > still_open_at:
                    break
                due = [p for p in plan if p.at <= now and not p.done]
                for p in due:
                    _send_reply(bot, p, port, rng)
                    p.done = True
                    report.replies_sent += 1
                tick = bot.tick(now, transport)
                for step, n in tick.sent.by_step.items():
                    # receipt-17 and receipt-18 are both receipts; reminder-1 and -2 stay apart
                    key = re.sub(r"-\d+$", "", step) if step.startswith(("receipt-", "notice-")) else step
                    report.sent[key] = report.sent.get(key, 0) + n
                for done in tick.steps:
                    label = now.astimezone(settings.panel.zone).strftime("%d.%m %H:%M")
                    event = f"{label}  {done.step:<12} {done.queued:>4} queued"
                    report.events.append(event)
                    say(event)
    finally:
        office.stop()

    with bot.store.transaction() as s:
        report.invited = s.scalar(select(func.count()).select_from(Outbox).where(
            Outbox.campaign_id == survey.id, Outbox.step == "invitation", Outbox.status == "sent")) or 0
        report.answered = s.scalar(select(func.count()).select_from(Response).where(
            Response.campaign_id == survey.id)) or 0
        report.needs_human = s.scalar(select(func.count()).select_from(Inbound).where(
            Inbound.status == InboundState.NEEDS_HUMAN.value)) or 0
        report.machines = s.scalar(select(func.count()).select_from(Inbound).where(
            Inbound.status == InboundState.IGNORED.value)) or 0
    report.results_eml, report.results_html = _keep_results_email(bot, people, directory)
    return report


@dataclass
class _PlannedReply:
    resident: Resident
    at: datetime
    text: str
    done: bool = False


def _ticks(survey: Survey) -> list[datetime]:
    """Twice a day from opening until a day after closing, plus the exact step times."""
    times = {survey.opens, survey.closes, *(survey.opens + r for r in survey.reminders)}
    t = survey.opens
    while t <= survey.closes + timedelta(days=1):
        times.add(t)
        t += timedelta(hours=12)
    return sorted(times)


def _reply_plan(people: list[Resident], survey: Survey, rng: random.Random) -> list[_PlannedReply]:
    first_reminder = survey.opens + (survey.reminders[0] if survey.reminders else timedelta(days=4))
    window = survey.closes - survey.opens
    plan: list[_PlannedReply] = []
    for r in people:
        if r.style == "never":
            continue
        if r.eagerness < 0.7:  # answers the invitation within the first days
            at = survey.opens + timedelta(hours=1 + rng.random() * 80)
        else:  # answers only after a reminder
            at = first_reminder + timedelta(hours=1 + rng.random() * (window - (first_reminder - survey.opens))
                                            .total_seconds() / 3600 * 0.9)
        text = reply_text(survey, choose_answers(survey, rng), r.style, rng)
        plan.append(_PlannedReply(r, at, text))
        if rng.random() < 0.04:  # changes their mind a day later
            plan.append(_PlannedReply(r, at + timedelta(days=1), reply_text(survey, choose_answers(survey, rng),
                                                                            "codes", rng)))
    for r in rng.sample([p for p in people if p.style == "never"], k=min(2, len(people) // 100)):
        plan.append(_PlannedReply(r, survey.closes + timedelta(hours=6), "1 A"))  # too late
    return sorted(plan, key=lambda p: p.at)


def _latest_mail(bot: Bot, address: str) -> EmailMessage | None:
    folder = mailbox_dir(bot.mailbox_root(), address) / "new"
    files = sorted(folder.glob("*"), key=lambda f: f.stat().st_mtime_ns) if folder.exists() else []
    for f in reversed(files):
        msg = message_from_bytes(f.read_bytes(), policy=policy.default)
        if "Kvittering" not in str(msg["Subject"]) and str(msg.get("Auto-Submitted", "")).startswith("auto-gen"):
            assert isinstance(msg, EmailMessage)
            return msg
    return None


def _send_reply(bot: Bot, planned: _PlannedReply, port: int, rng: random.Random) -> None:
    invitation = _latest_mail(bot, planned.resident.email)
    if invitation is None:
        return
    raw = reply_message(planned.resident, invitation, planned.text, format_datetime(planned.at), rng)
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.sendmail(planned.resident.email, [str(invitation["Reply-To"])], raw)


@dataclass(frozen=True)
class TryIt:
    """What `mailbot demo --serve` tells a newcomer to open, click and reply to."""

    resident: str
    mailbox_file: Path
    link: str
    reply_to: str


_FORM_LINK = re.compile(r"https?://\S+/svar/\S+")


def something_to_try(bot: Bot, survey: Survey) -> TryIt | None:
    """A resident who has not answered yet: their invitation's file, its answer link and reply address."""
    with bot.store.transaction() as s:
        answered = select(Response.member_id).where(Response.campaign_id == survey.id,
                                                    Response.member_id.is_not(None))
        invited = s.scalars(select(Member.email).join(Outbox, Outbox.member_id == Member.id).where(
            Outbox.campaign_id == survey.id, Outbox.step == "invitation", Outbox.status == "sent",
            Member.id.not_in(answered)).order_by(Member.id)).all()
    for email in invited:
        folder = mailbox_dir(bot.mailbox_root(), email or "") / "new"
        for f in sorted(folder.glob("*")) if folder.exists() else []:
            msg = message_from_bytes(f.read_bytes(), policy=policy.default)
            assert isinstance(msg, EmailMessage)
            if str(msg["Subject"]) != survey.title:
                continue
            body = msg.get_body(("plain",))
            m = _FORM_LINK.search(body.get_content() if body is not None else "")
            if m:
                return TryIt(str(email), f, m.group(0), str(msg["Reply-To"]))
    return None


def _keep_results_email(bot: Bot, people: list[Resident], directory: Path) -> tuple[Path | None, Path | None]:
    for r in people:
        folder = mailbox_dir(bot.mailbox_root(), r.email) / "new"
        for f in sorted(folder.glob("*")) if folder.exists() else []:
            raw = f.read_bytes()
            msg = message_from_bytes(raw, policy=policy.default)
            assert isinstance(msg, EmailMessage)
            if "resultat" in str(msg["Subject"]).lower() or "results" in str(msg["Subject"]).lower():
                eml = directory / "results.eml"
                eml.write_bytes(raw)
                html_part = msg.get_body(("html",))
                html = directory / "results.html"
                html.write_text(html_part.get_content() if html_part is not None else "", encoding="utf-8")
                return eml, html
    return None, None
