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
from mailbot.config import load_campaign_file, load_settings
from mailbot.demo.residents import (
    Resident,
    choose_answers,
    reply_message,
    reply_text,
    residents,
    write_roster,
)
from mailbot.roster import read_roster
from mailbot.states import InboundState
from mailbot.store import members as member_store
from mailbot.store.models import Inbound, Outbox, Response
from mailbot.tokens import Keys
from mailbot.transport.local import free_port, mailbox_dir

REPO = Path(__file__).resolve().parents[2]
DEMO_SURVEY = "ombruk-2022"


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


def _config_text(port: int, templates: Path) -> str:
    return f"""# Written by `mailbot demo`: the demo panel, in this folder only.
[panel]
name = "Innbyggerpanelet"
organisation = "Bærum kommune"
address = "innbyggerpanel@baerum.example.no"
reply_domain = "svar.baerum.example.no"
public_url = "http://127.0.0.1:8080"
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


def run_demo(members: int = 600, seed: int = 1, directory: Path = Path("demo-out"),
             say: Callable[[str], None] = lambda s: None) -> DemoReport:
    rng = random.Random(seed)
    directory = directory.resolve()
    for old in ("mailbot.sqlite3", "mailbot.sqlite3-wal", "mailbot.sqlite3-shm", "mailboxes", "schedules"):
        path = directory / old
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    (directory / "schedules").mkdir(parents=True)
    shutil.copy(REPO / "schedules" / f"{DEMO_SURVEY}.toml", directory / "schedules")
    port = free_port()
    (directory / "config.toml").write_text(_config_text(port, REPO / "templates"), encoding="utf-8")
    settings = load_settings(directory / "config.toml", load_env=False)
    survey = load_campaign_file(directory / "schedules" / f"{DEMO_SURVEY}.toml", settings.panel.zone)
    assert isinstance(survey, Survey)
    bot = Bot(settings, campaigns=[survey], keys=Keys((f"demo-key-{seed}",))).prepare()
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
