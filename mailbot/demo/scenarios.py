"""`mailbot demo --scenario course|workshop`: the real courses and recruitments from schedules/, simulated.

Like the survey demo, only the residents are synthetic (seeded): the
campaign files, the planner, the outbox, the emails with their .ics, SMTP to
the embedded local post office, the reply parser and the one-click pages are
the real ones. Each resident reacts to the emails that reach their mailbox:
they reply over SMTP as a mail client would ("ja", "JA", "2", "nei", "pause",
"hopp over neste", "1 A 2 4") or click a link, which is a GET and then a POST
to the web app in-process. Time is simulated: a tick at every planned step,
every morning, and whenever a resident acts. The same seed prints the same.

- course: the Hverdagsglede pilot (30 seats, Tuesdays 15 September to
  15 December 2020): enrolment, waitlist, leaving, offers that are taken or
  expire, pauses, skipped lessons, attendance and ratings.
- workshop: the planning committee of six (lottery), then the «Min side» user
  test (volunteers, a stratified draw approved by staff, 20 seats in two
  workshops, cancellations, offers, a workshop moved to a new time).
"""

from __future__ import annotations

import asyncio
import heapq
import random
import re
import shutil
import smtplib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from html import unescape
from pathlib import Path
from statistics import mean
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from sqlalchemy import func, select

from mailbot.bot import Bot
from mailbot.campaigns import Campaign, CampaignForm, Course, Recruitment
from mailbot.campaigns import forms as campaign_forms
from mailbot.campaigns.course.lessons import answer_form_id, feedback_form_id
from mailbot.compose import formats
from mailbot.demo import REPO, _config_text
from mailbot.demo.residents import Resident, reply_message, residents, write_roster
from mailbot.panel.settings import load_settings
from mailbot.plan import APPROVED, steps_of
from mailbot.roster import read_roster
from mailbot.sending import Transport
from mailbot.states import InboundState
from mailbot.store import members as member_store
from mailbot.store import outbox as outbox_store
from mailbot.store import responses as response_store
from mailbot.store import seats as seat_store
from mailbot.store.models import Inbound, Member, Outbox
from mailbot.store.seats import Enrolment, SeatState
from mailbot.tokens import Keys
from mailbot.transport.local import free_port, mailbox_dir
from mailbot.web import RateLimit, create_app

SCENARIOS = ("survey", "course", "workshop")
COURSE = "hverdagsglede-pilot-2020"
COMMITTEE = "hverdagsglede-utvalg-2020"
USER_TEST = "min-side-2020"
_SLOTS = (time(8), time(12), time(16), time(20))  # when residents' actions reach the bot: a tick each
_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


@dataclass
class ScenarioReport:
    """What the scenario printed, and its key figures (for tests and for a quick look)."""

    scenario: str
    lines: list[str] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)
    directory: Path | None = None


@dataclass(order=True)
class _Action:
    at: datetime
    seq: int
    resident: Resident = field(compare=False)
    message_id: str = field(compare=False)
    reply: str | None = field(default=None, compare=False)  # a reply with these words
    clicks: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # (question, value) links clicked


@dataclass(frozen=True)
class Delivered:
    """An email the bot sent to a resident, as the resident's reaction needs it."""

    outbox_id: int
    campaign_id: str
    step: str
    member_id: int
    message_id: str
    payload: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.payload.get("kind", ""))

    @property
    def outcome(self) -> str:
        return str(self.payload.get("outcome", ""))


class World:
    """The demo panel: a bot on SQLite with the local post office, the web app, and residents who react."""

    def __init__(self, directory: Path, members: int, seed: int, files: list[str], say: Callable[[str], None]):
        self.rng = random.Random(seed)
        self.say = say
        self.directory = directory.resolve()
        for old in ("mailbot.sqlite3", "mailbot.sqlite3-wal", "mailbot.sqlite3-shm", "mailboxes", "schedules"):
            path = self.directory / old
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        (self.directory / "schedules").mkdir(parents=True)
        for name in files:
            shutil.copy(REPO / "schedules" / f"{name}.toml", self.directory / "schedules")
        self.port = free_port()
        (self.directory / "config.toml").write_text(_config_text(self.port, REPO / "templates"), encoding="utf-8")
        self.settings = load_settings(self.directory / "config.toml", load_env=False)
        self.zone = self.settings.panel.zone
        self.keys = Keys((f"demo-key-{seed}",))
        self.bot = Bot(self.settings, keys=self.keys).prepare()
        self.now = min(c.opens for c in self.bot.campaigns) - timedelta(days=1)
        self.people = residents(members, self.rng)
        roster = self.directory / "panel.csv"
        write_roster(self.people, roster)
        with self.bot.store.transaction() as s:
            member_store.upsert_members(s, read_roster(roster).rows, self.now)
            ids = dict(s.execute(select(Member.email, Member.id)).all())
        self.by_member = {ids[p.email]: p for p in self.people}
        self.member_of = {p.email: ids[p.email] for p in self.people}
        self._web()
        self.actions: list[_Action] = []
        self.staff: list[tuple[datetime, int, Callable[[], None]]] = []
        self.times: list[datetime] = []
        self._seen_outbox = 0
        self._seq = 0
        self._mail_index: dict[str, dict[str, Path]] = {}
        self.replies_sent = 0
        self.clicks = 0
        self.sent: Counter[str] = Counter()
        self.loop = asyncio.new_event_loop()
        self._client: httpx.AsyncClient | None = None
        self._client_app: object = None

    def _web(self) -> None:
        self.app = create_app(self.settings, self.bot.store, self.keys, self.bot.campaigns, clock=lambda: self.now,
                              rate_limit=RateLimit(per_second=1e9, burst=1e9))

    def reload(self) -> None:
        """Staff changed a file in schedules/: a new bot over the same database, as after a restart."""
        self.bot = Bot(self.settings, store=self.bot.store, keys=self.keys)
        self._web()

    def campaign(self, campaign_id: str) -> Campaign:
        return self.bot.by_id[campaign_id]

    def local(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%d.%m %H:%M")

    # ------------------------------------------------------------ the clock

    def at(self, moment: datetime) -> None:
        heapq.heappush(self.times, moment)

    def plan_ticks(self) -> None:
        """A tick at every step of every campaign; residents' actions and expiring offers add their own."""
        for c in self.bot.campaigns:
            if isinstance(c, Course | Recruitment):
                for st in steps_of(c):
                    self.at(st.at)

    def staff_action(self, moment: datetime, do: Callable[[], None]) -> None:
        self._seq += 1
        self.staff.append((moment, self._seq, do))
        self.at(moment)

    def run(self, react: Callable[[World, Delivered], None]) -> None:
        office = self.bot.local_post_office(self.port).start()
        try:
            with self.bot.transport() as transport:
                self._loop(react, transport)
        finally:
            office.stop()
            if self._client is not None:
                self.loop.run_until_complete(self._client.aclose())
            self.loop.close()

    def _loop(self, react: Callable[[World, Delivered], None], transport: Transport) -> None:
        while self.times:
            now = heapq.heappop(self.times)
            if now < self.now:
                continue
            while self.times and self.times[0] == now:
                heapq.heappop(self.times)
            self.now = now
            self._act(now)
            for moment, seq, do in sorted(x for x in self.staff if x[0] <= now):
                self.staff.remove((moment, seq, do))
                do()
            self._tick(now, transport)
            for d in self._delivered():
                if d.outcome == "offered":  # the next tick after it runs out passes the seat on
                    parent = self.bot.by_id.get(str(d.payload.get("campaign")))
                    hours = parent.offer_hours if isinstance(parent, Course | Recruitment) else 48
                    self.at(now + timedelta(hours=hours, minutes=5))
                react(self, d)

    def _tick(self, now: datetime, transport: Transport) -> None:
        report = self.bot.tick(now, transport)
        for step, n in report.sent.by_step.items():
            self.sent[_step_kind(step)] += n
        for done in report.steps:
            note = f" ({done.note})" if done.note else ""
            self.say(f"{self.local(now)}  {done.campaign_id:<26} {done.step:<22} {done.queued:>4} queued{note}")

    def _delivered(self) -> list[Delivered]:
        import json

        with self.bot.store.transaction() as s:
            rows = s.execute(
                select(Outbox.id, Outbox.campaign_id, Outbox.step, Outbox.member_id, Outbox.message_id,
                       Outbox.payload)
                .where(Outbox.id > self._seen_outbox, Outbox.status == "sent").order_by(Outbox.id)).all()
        out = []
        for oid, cid, step, mid, msgid, payload in rows:
            self._seen_outbox = max(self._seen_outbox, oid)
            if mid in self.by_member and msgid:
                out.append(Delivered(oid, cid, step, mid, msgid, json.loads(payload) if payload else {}))
        return out

    # ------------------------------------------------------------ residents acting

    def later(self, d: Delivered, hours: float, *, reply: str | None = None,
              clicks: tuple[tuple[str, str], ...] = ()) -> None:
        """The resident answers this email after `hours`: it reaches the bot at the next slot."""
        moment = _next_slot(self.now + timedelta(hours=hours), self.zone)
        self._seq += 1
        heapq.heappush(self.actions, _Action(moment, self._seq, self.by_member[d.member_id], d.message_id, reply,
                                             clicks))
        self.at(moment)

    def _act(self, now: datetime) -> None:
        while self.actions and self.actions[0].at <= now:
            a = heapq.heappop(self.actions)
            mail = self._mail(a.resident, a.message_id)
            if mail is None:
                continue
            if a.reply is not None:
                raw = reply_message(a.resident, mail, a.reply, format_datetime(now), self.rng)
                with smtplib.SMTP("127.0.0.1", self.port) as smtp:
                    smtp.sendmail(a.resident.email, [str(mail["Reply-To"])], raw)
                self.replies_sent += 1
            for qid, value in a.clicks:
                if self._click(mail, qid, value):
                    self.clicks += 1

    def _mail(self, r: Resident, message_id: str) -> EmailMessage | None:
        index = self._mail_index.setdefault(r.email, {})
        if message_id not in index:
            folder = mailbox_dir(self.bot.mailbox_root(), r.email) / "new"
            known = set(index.values())
            for f in sorted(folder.glob("*")) if folder.exists() else []:
                if f not in known:
                    found = _MESSAGE_ID.search(f.read_bytes())
                    if found:
                        index[found.group(1).decode("ascii", "replace")] = f
        path = index.get(message_id)
        if path is None:
            return None
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg

    def _click(self, mail: EmailMessage, qid: str, value: str) -> bool:
        """Follow the one-click link as a browser does: GET shows the choice, POST (with its guard) records it."""
        html = mail.get_body(("html",))
        text = html.get_content() if html is not None else ""
        wanted = None
        for href in re.findall(r'href="([^"]+)"', text):
            path = urlsplit(unescape(href)).path
            parts = path.split("/")
            if len(parts) == 5 and parts[1] == "svar" and parts[3] == qid and unquote(parts[4]) == value:
                wanted = path
                break
        if wanted is None:
            return False

        async def go() -> bool:
            client = self._browser()
            page = await client.get(wanted)
            guard = re.search(r'name="guard" value="([^"]+)"', page.text)
            if page.status_code != 200 or guard is None:
                return False
            done = await client.post(wanted, data={"guard": unescape(guard.group(1)), "answer": value})
            return done.status_code == 200

        return self.loop.run_until_complete(go())

    def _browser(self) -> httpx.AsyncClient:
        if self._client is None or self._client_app is not self.app:
            self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                             base_url="http://127.0.0.1:8080")
            self._client_app = self.app
        return self._client

    # ------------------------------------------------------------ looking back

    def needs_human(self) -> int:
        with self.bot.store.transaction() as s:
            return s.scalar(select(func.count()).select_from(Inbound).where(
                Inbound.status == InboundState.NEEDS_HUMAN.value)) or 0

    def steps_like(self, campaign_id: str, prefix: str) -> int:
        with self.bot.store.transaction() as s:
            return s.scalar(select(func.count()).select_from(Outbox).where(
                Outbox.campaign_id == campaign_id, Outbox.step.like(f"{prefix}%"), Outbox.status == "sent")) or 0

    def enrolments(self, campaign_id: str) -> list[tuple[int, str, str]]:
        with self.bot.store.transaction() as s:
            return [(e.member_id, e.status, e.group_id) for e in seat_store.all_enrolments(s, campaign_id)
                    if e.member_id is not None]

    def offers(self, campaign_id: str) -> tuple[int, int, int]:
        """Freed seats offered from the waitlist: made, taken (a seat followed), expired."""
        forms = [answer_form_id(campaign_id), campaign_forms.offer_form_id(campaign_id)]
        with self.bot.store.transaction() as s:
            rows = s.execute(select(Outbox.id, Outbox.member_id, Outbox.step).where(
                Outbox.campaign_id.in_(forms), Outbox.status == "sent",
                Outbox.step.like("seat-offered%") | Outbox.step.like("receipt-seated%")
                | Outbox.step.like("seat-expired%")).order_by(Outbox.id)).all()
        made = [(oid, m) for oid, m, step in rows if step.startswith("seat-offered")]
        taken = sum(1 for oid, m in made if any(m2 == m and o2 > oid and st.startswith("receipt-seated")
                                                for o2, m2, st in rows))
        expired = sum(1 for _, _, step in rows if step.startswith("seat-expired"))
        return len(made), taken, expired

    def calendars_delivered(self) -> int:
        n = 0
        for r in self.people:
            folder = mailbox_dir(self.bot.mailbox_root(), r.email) / "new"
            for f in folder.glob("*") if folder.exists() else []:
                n += b"Content-Type: text/calendar" in f.read_bytes()
        return n


def _step_kind(step: str) -> str:
    """ "receipt-seated-2020…-0" -> "receipt-seated"; "lesson-host-2020-3" -> "lesson"; "receipt-12" -> "receipt"."""
    if step.startswith(("receipt-", "seat-", "notice-")):
        head = "-".join(step.split("-")[:2])
        return head.split("-")[0] if head.split("-")[1].isdigit() else head
    for head in ("lesson", "reminder", "feedback", "moved", "cancel"):
        if step.startswith(head):
            return head
    return step


def _next_slot(moment: datetime, zone: Any) -> datetime:
    local = moment.astimezone(zone)
    for day in (local.date(), local.date() + timedelta(days=1)):
        for slot in _SLOTS:
            at = datetime.combine(day, slot, zone)
            if at >= local:
                return at
    raise AssertionError("unreachable")


def _say_yes(r: Resident, rng: random.Random) -> str:
    if r.language == "en":
        return rng.choice(["yes", "Yes please", "YES"])
    if r.language == "nn":
        return rng.choice(["ja", "Ja takk", "JA", "Ja, det vil eg gjerne"])
    return rng.choice(["ja", "JA", "Ja takk!", "Ja, gjerne", "ja takk, det vil jeg gjerne"])


def _say_no(r: Resident, rng: random.Random) -> str:
    if r.language == "en":
        return rng.choice(["no", "No thanks"])
    return rng.choice(["nei", "Nei takk", "Nei, jeg kan dessverre ikke likevel"])


# ---------------------------------------------------------------- course


@dataclass
class _CourseMind:
    """What residents decided, so each pauses, skips or leaves at most once."""

    yes_by: Counter[str] = field(default_factory=Counter)
    no: int = 0
    late: int = 0
    unclear: int = 0
    acted: set[int] = field(default_factory=set)
    leaving_early: set[int] = field(default_factory=set)
    offers_ignored: int = 0


def _course_reacts(mind: _CourseMind) -> Callable[[World, Delivered], None]:
    def react(w: World, d: Delivered) -> None:
        rng, r = w.rng, w.by_member[d.member_id]
        course = w.campaign(COURSE)
        assert isinstance(course, Course)
        start = course.cohorts[0].starts
        if d.kind == "course-invitation":
            roll = rng.random()
            window = (course.enrolment_closes - w.now).total_seconds() / 3600
            if roll < 0.10:  # wants to join: most soon, some towards the deadline
                hours = 1 + (rng.random() ** 2) * window * 0.9
                if rng.random() < 0.25:
                    mind.yes_by["click"] += 1
                    w.later(d, hours, clicks=(("svar", campaign_forms.words(course.language)["yes"]),))
                else:
                    mind.yes_by["reply"] += 1
                    w.later(d, hours, reply=_say_yes(r, rng))
            elif roll < 0.13:
                mind.no += 1
                w.later(d, 2 + rng.random() * 72, reply=_say_no(r, rng))
            elif roll < 0.135:  # after enrolment closed
                mind.late += 1
                w.later(d, window + 30, reply="ja")
            elif roll < 0.14:  # a question rather than an answer: kept for a human
                mind.unclear += 1
                w.later(d, 5, reply="Hvor lang tid tar hvert webinar? Må jeg ha kamera?")
        elif d.kind == "course-answer" and d.outcome == "seated" and w.now < start:
            if d.member_id not in mind.acted and rng.random() < 0.1:  # cannot after all, before it starts
                mind.acted.add(d.member_id)
                mind.leaving_early.add(d.member_id)
                hours = rng.random() * max(1.0, (start - w.now).total_seconds() / 3600 - 24)
                w.later(d, hours, reply=rng.choice(["slutt", "Nei, jeg kan dessverre ikke likevel"]))
        elif d.kind == "course-answer" and d.outcome == "offered":
            if rng.random() < 0.7:
                if rng.random() < 0.4:
                    w.later(d, 1 + rng.random() * 30, clicks=(("svar", campaign_forms.words(course.language)["yes"]),))
                else:
                    w.later(d, 1 + rng.random() * 30, reply=rng.choice(["JA", "ja", "Ja, jeg tar plassen!"]))
            else:
                mind.offers_ignored += 1  # away: the offer expires after 48 hours
        elif d.kind == "course-answer" and d.outcome == "paused":
            w.later(d, 24 * (13 + rng.random() * 7), reply=rng.choice(["ja", "JA"]))  # back in two or three weeks
        elif d.kind == "course-lesson" and d.member_id not in mind.acted:
            roll = rng.random()
            if roll < 0.02:
                mind.acted.add(d.member_id)
                w.later(d, 2 + rng.random() * 48, reply=rng.choice(["pause", "PAUSE"]))
            elif roll < 0.04:
                mind.acted.add(d.member_id)
                w.later(d, 2 + rng.random() * 48, reply=rng.choice(["hopp over neste", "Hopp over neste"]))
            elif roll < 0.05:
                mind.acted.add(d.member_id)
                w.later(d, 2 + rng.random() * 48, reply="slutt")
        elif d.kind == "course-feedback":
            roll = rng.random()
            if roll > 0.8:
                return  # does not answer
            attended = roll < 0.68
            if not attended:
                w.later(d, 1 + rng.random() * 40, reply=rng.choice(["1 B", "1 nei"]))
                return
            useful = rng.choices([1, 2, 3, 4, 5], [1, 2, 5, 8, 6])[0]
            if rng.random() < 0.45:  # one click each
                w.later(d, 0.5 + rng.random() * 20, clicks=(("attended", "Ja"), ("useful", str(useful))))
            else:
                w.later(d, 1 + rng.random() * 40, reply=rng.choice([f"1 A 2 {useful}", f"1 ja 2 {useful}",
                                                                    f"1) Ja\n2) {useful}"]))

    return react


def run_course(members: int, seed: int, directory: Path, say: Callable[[str], None]) -> ScenarioReport:
    w = World(directory, members, seed, [COURSE], say)
    course = w.campaign(COURSE)
    assert isinstance(course, Course)
    cohort = course.cohorts[0]
    w.plan_ticks()
    mind = _CourseMind()
    w.run(_course_reacts(mind))

    rows = w.enrolments(course.id)
    status = Counter(st for _, st, _ in rows)
    seated = status[SeatState.SEATED.value] + status[SeatState.PAUSED.value]
    offers, accepted, expired = w.offers(course.id)
    lang, zone = course.language, w.settings.panel.timezone
    with w.bot.store.transaction() as s:
        ever_seated = s.scalar(select(func.count(func.distinct(Outbox.member_id))).where(
            Outbox.campaign_id.in_([answer_form_id(course.id), campaign_forms.offer_form_id(course.id)]),
            Outbox.step.like("receipt-seated%"))) or 0
        waitlisted = s.scalar(select(func.count(func.distinct(Outbox.member_id))).where(
            Outbox.campaign_id == answer_form_id(course.id), Outbox.step.like("receipt-waitlisted%"))) or 0
        paused = s.scalar(select(func.count(func.distinct(Outbox.member_id))).where(
            Outbox.campaign_id == answer_form_id(course.id), Outbox.step.like("receipt-paused%"))) or 0
        resumed = s.scalar(select(func.count(func.distinct(Outbox.member_id))).where(
            Outbox.campaign_id == answer_form_id(course.id), Outbox.step.like("receipt-resumed%"))) or 0
        skipping = s.scalar(select(func.count(func.distinct(Outbox.member_id))).where(
            Outbox.campaign_id == answer_form_id(course.id), Outbox.step.like("receipt-skipping%"))) or 0
        closed = s.scalar(select(func.count(func.distinct(Outbox.member_id))).where(
            Outbox.campaign_id == answer_form_id(course.id), Outbox.step.like("receipt-closed%"))) or 0
        left = s.scalar(select(func.count()).select_from(Enrolment).where(
            Enrolment.campaign_id == course.id, Enrolment.status == SeatState.DECLINED.value,
            Enrolment.group_id != "")) or 0
        lessons = []
        for lesson in cohort.lessons:
            form = w.campaign(feedback_form_id(course.id, cohort.id, lesson.number))
            assert isinstance(form, CampaignForm)
            sent = outbox_store.count_sent(s, answer_form_id(course.id), f"lesson-{cohort.id}-{lesson.number}")
            answers = _answers_of_form(s, form)
            yes = sum(1 for a in answers if a.get("attended") == "Ja")
            no = sum(1 for a in answers if a.get("attended") == "Nei")
            ratings = [int(a["useful"]) for a in answers if isinstance(a.get("useful"), int)]
            lessons.append((lesson, sent, yes, no, ratings))
    invited = w.steps_like(answer_form_id(course.id), "invitation")
    n_seats = cohort.capacity or 0
    lines = [
        "",
        f"Course: {course.title} ({course.id})",
        f"  {n_seats} seats, {len(cohort.lessons)} lessons, {formats.datetime_text(cohort.starts, lang, zone)}"
        f" to {formats.datetime_text(cohort.lessons[-1].starts, lang, zone)}",
        f"  invited                        {invited:>4}",
        f"  said yes                       {mind.yes_by['reply'] + mind.yes_by['click']:>4}"
        f"  (by reply {mind.yes_by['reply']}, by click {mind.yes_by['click']})",
        f"  said no                        {mind.no:>4}",
        f"  enrolled (seated at once)      {ever_seated - accepted:>4}",
        f"  waitlisted                     {waitlisted:>4}",
        f"  offers of a freed seat         {offers:>4}  (taken {accepted}, expired {expired})",
        f"  promoted from the waitlist     {accepted:>4}",
        f"  left the course                {left:>4}  ({len(mind.leaving_early)} before it started)",
        f"  paused / back again            {paused:>4} / {resumed}",
        f"  skipped one lesson             {skipping:>4}",
        f"  too late (enrolment closed)    {closed:>4}",
        f"  seated at the end              {seated:>4}  of {n_seats}",
        f"  replies sent by residents      {w.replies_sent:>4}; clicks {w.clicks}; need a human {w.needs_human()}",
        "",
        "  lesson                                 sent  attended  missed  rating (n)",
    ]
    for lesson, sent, yes, no, ratings in lessons:
        avg = f"{mean(ratings):.1f} ({len(ratings)})" if ratings else "-"
        when = formats.datetime_text(lesson.starts, lang, zone)
        lines.append(f"  {lesson.number:>2}. {when:<34} {sent:>4}  {yes:>8}  {no:>6}  {avg}")
    lines += ["", "  emails sent by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(w.sent.items())),
              f"  calendar invitations (.ics) delivered: {w.calendars_delivered()}",
              f"  mailboxes: {w.bot.mailbox_root()}"]
    figures = {"invited": invited, "capacity": n_seats, "seated": seated, "ever_seated": ever_seated,
               "waitlisted": waitlisted, "offers": offers, "accepted": accepted, "expired": expired,
               "left": left, "paused": paused, "resumed": resumed, "skipping": skipping,
               "lessons": len(lessons),
               "max_lesson_sent": max((x[1] for x in lessons), default=0),
               "attended": sum(x[2] for x in lessons), "ratings": sum(len(x[4]) for x in lessons)}
    return ScenarioReport("course", lines, figures, w.directory)


def _answers_of_form(s: Any, form: CampaignForm) -> list[dict[str, Any]]:
    from mailbot.store.models import Response

    ids = [m for m in s.scalars(select(Response.member_id).where(Response.campaign_id == form.id)
                                .order_by(Response.member_id)) if m is not None]
    return [response_store.answers_of(s, form, m) for m in ids]


# ---------------------------------------------------------------- workshops


@dataclass
class _WorkshopMind:
    volunteered: Counter[str] = field(default_factory=Counter)
    by: Counter[tuple[str, str]] = field(default_factory=Counter)
    cancelled: set[int] = field(default_factory=set)
    offers_ignored: int = 0


def _workshop_reacts(mind: _WorkshopMind) -> Callable[[World, Delivered], None]:
    def react(w: World, d: Delivered) -> None:
        rng, r = w.rng, w.by_member[d.member_id]
        parent = str(d.payload.get("campaign", ""))
        if d.kind == "recruitment-invitation" and parent == COMMITTEE:
            if rng.random() < 0.05:
                mind.volunteered[COMMITTEE] += 1
                if rng.random() < 0.3:
                    mind.by[COMMITTEE, "click"] += 1
                    w.later(d, 1 + rng.random() * 150, clicks=(("svar", "Ja"),))
                else:
                    mind.by[COMMITTEE, "reply"] += 1
                    w.later(d, 1 + rng.random() * 150, reply=_say_yes(r, rng))
        elif d.kind == "recruitment-invitation" and parent == USER_TEST:
            roll = rng.random()
            if roll < 0.065:  # 39 of about 600 volunteered for «Min side»
                mind.volunteered[USER_TEST] += 1
                choice = rng.choices(["1", "2", "ja"], [3, 2, 5])[0]
                hours = 1 + (rng.random() ** 2) * 150
                if rng.random() < 0.3:
                    mind.by[USER_TEST, "click"] += 1
                    w.later(d, hours, clicks=(("svar", "Ja" if choice == "ja" else choice),))
                else:
                    mind.by[USER_TEST, "reply"] += 1
                    text = {"1": rng.choice(["1", "1 passer best"]), "2": rng.choice(["2", "2 passer best"]),
                            "ja": _say_yes(r, rng)}[choice]
                    w.later(d, hours, reply=text)
            elif roll < 0.07:
                w.later(d, 3, reply="Workshop 2 hvis det er på kvelden")  # unclear: a human looks at it
        elif d.kind == "recruitment-answer" and d.outcome == "seated" and parent == USER_TEST:
            if d.member_id not in mind.cancelled and rng.random() < 0.12:  # something came up
                mind.cancelled.add(d.member_id)
                w.later(d, 6 + rng.random() * 60, reply=_say_no(r, rng))
        elif d.kind == "recruitment-answer" and d.outcome == "moved":
            if d.member_id not in mind.cancelled and rng.random() < 0.2:  # the new time does not suit
                mind.cancelled.add(d.member_id)
                w.later(d, 2 + rng.random() * 20, reply=rng.choice(["nei", "Nei, da kan jeg ikke"]))
        elif d.kind == "recruitment-answer" and d.outcome == "offered":
            if rng.random() < 0.7:
                if rng.random() < 0.4:
                    w.later(d, 1 + rng.random() * 20, clicks=(("svar", "Ja"),))
                else:
                    w.later(d, 1 + rng.random() * 20, reply=rng.choice(["JA", "ja", "Ja takk!"]))
            else:
                mind.offers_ignored += 1

    return react


def run_workshop(members: int, seed: int, directory: Path, say: Callable[[str], None]) -> ScenarioReport:
    w = World(directory, members, seed, [COMMITTEE, USER_TEST], say)
    planned = w.campaign(USER_TEST)
    assert isinstance(planned, Recruitment)
    w.plan_ticks()
    mind = _WorkshopMind()
    preview: dict[str, Any] = {}

    def approve() -> None:
        """Staff look at the draw (`mailbot selection show`) and approve it (`mailbot selection approve`)."""
        from mailbot import recruitment as seats
        from mailbot.campaign_steps import _stratum_of

        with w.bot.store.transaction() as s:
            people = seats.volunteers(s, planned, _stratum_of(w.settings, s, planned.closes))
            drawn = seats.draw(people, seats.seats_of(planned), planned.selection, f"{planned.seed}:{planned.id}")
            preview["drawn"] = sorted((d.member_id, d.meeting) for d in drawn)
            outbox_store.record_step(s, planned.id, APPROVED, w.now, note="approved by staff")
        chosen = sum(1 for d in drawn if d.meeting)
        say(f"{w.local(w.now)}  staff: selection show {USER_TEST}: {len(people)} volunteers, {chosen} drawn; approved")

    moved_at = datetime(2020, 6, 12, 10, tzinfo=w.zone)

    def move_workshop_2() -> None:
        """Staff move workshop 2 one hour later in the schedule file; the bot restarts with it."""
        f = w.directory / "schedules" / f"{USER_TEST}.toml"
        text = f.read_text("utf-8")
        text = text.replace("starts = 2020-06-18T17:00", "starts = 2020-06-18T18:00").replace(
            "ends = 2020-06-18T19:00", "ends = 2020-06-18T20:00")
        f.write_text(text, "utf-8")
        w.reload()
        say(f"{w.local(w.now)}  staff: workshop-2 moved to 18:00 in schedules/{USER_TEST}.toml")

    w.staff_action(planned.closes + timedelta(hours=2), approve)
    w.staff_action(moved_at, move_workshop_2)
    w.run(_workshop_reacts(mind))

    committee = w.campaign(COMMITTEE)
    test = w.campaign(USER_TEST)
    assert isinstance(committee, Recruitment) and isinstance(test, Recruitment)
    c_rows = Counter(st for _, st, _ in w.enrolments(COMMITTEE))
    t_rows = w.enrolments(USER_TEST)
    with w.bot.store.transaction() as s:
        drawn_seated = s.scalar(select(func.count()).select_from(Outbox).where(
            Outbox.campaign_id == answer_form_id(USER_TEST), Outbox.step.like("seat-seated%"))) or 0
        drawn_waiting = s.scalar(select(func.count()).select_from(Outbox).where(
            Outbox.campaign_id == answer_form_id(USER_TEST), Outbox.step.like("seat-waitlisted%"))) or 0
        wants = Counter(e.wants or "any" for e in seat_store.all_enrolments(s, USER_TEST) if e.member_id)
    per_meeting = {m.id: sum(1 for _, st, g in t_rows if g == m.id and st == SeatState.SEATED.value)
                   for m in test.meetings}
    offers, accepted, expired = w.offers(USER_TEST)
    cancelled = w.steps_like(answer_form_id(USER_TEST), "receipt-declined")
    moved = w.steps_like(answer_form_id(USER_TEST), "moved-")
    reminders = w.steps_like(answer_form_id(USER_TEST), "reminder-")
    volunteers = drawn_seated + drawn_waiting
    lang, zone = test.language, w.settings.panel.timezone
    w2 = test.meeting("workshop-2")
    lines = [
        "",
        f"Committee: {committee.title} ({committee.id}), {committee.selection}, "
        f"{committee.meetings[0].capacity} seats",
        f"  invited                        {w.steps_like(answer_form_id(COMMITTEE), 'invitation'):>4}",
        f"  volunteered                    {mind.volunteered[COMMITTEE]:>4}  (by reply "
        f"{mind.by[COMMITTEE, 'reply']}, by click {mind.by[COMMITTEE, 'click']})",
        f"  drawn (seated)                 {c_rows[SeatState.SEATED.value]:>4}",
        f"  waitlisted                     {c_rows[SeatState.WAITLISTED.value]:>4}",
        "",
        f"User test: {test.title} ({test.id}), {test.selection}, approved by staff, "
        f"{len(test.meetings)} workshops of " + " and ".join(str(m.capacity) for m in test.meetings),
        f"  invited                        {w.steps_like(answer_form_id(USER_TEST), 'invitation'):>4}",
        f"  volunteered                    {volunteers:>4}  (by reply {mind.by[USER_TEST, 'reply']}, by click "
        f"{mind.by[USER_TEST, 'click']}; " + ", ".join(f"{k} {v}" for k, v in sorted(wants.items())) + ")",
        f"  drawn (seated)                 {drawn_seated:>4}",
        f"  waitlisted by the draw         {drawn_waiting:>4}",
        f"  same as `selection show`       {'yes' if _same_draw(preview, w, USER_TEST) else 'NO'}",
        f"  cancelled by reply             {cancelled:>4}",
        f"  offers of a freed seat         {offers:>4}  (taken {accepted}, expired {expired})",
        f"  promoted from the waitlist     {accepted:>4}",
        f"  moved: {w2.title if w2 else '?'} to {formats.datetime_text(w2.starts, lang, zone) if w2 else '?'}"
        f", {moved} told (new .ics, SEQUENCE 1)",
        f"  day-before reminders           {reminders:>4}",
        "  seated at the end              " + ", ".join(f"{m.id} {per_meeting[m.id]}/{m.capacity}"
                                                       for m in test.meetings),
        f"  replies sent by residents      {w.replies_sent:>4}; clicks {w.clicks}; need a human {w.needs_human()}",
        "",
        "  emails sent by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(w.sent.items())),
        f"  calendar invitations (.ics) delivered: {w.calendars_delivered()}",
        f"  mailboxes: {w.bot.mailbox_root()}",
    ]
    figures = {"committee_seats": committee.meetings[0].capacity, "committee_seated": c_rows[SeatState.SEATED.value],
               "volunteers": volunteers, "drawn_seated": drawn_seated, "drawn_waiting": drawn_waiting,
               "capacity": sum(m.capacity for m in test.meetings), "seated": sum(per_meeting.values()),
               **{f"seated_{k}": v for k, v in per_meeting.items()},
               **{f"capacity_{m.id}": m.capacity for m in test.meetings},
               "offers": offers, "accepted": accepted, "expired": expired, "cancelled": cancelled, "moved": moved,
               "reminders": reminders}
    return ScenarioReport("workshop", lines, figures, w.directory)


def _same_draw(preview: dict[str, Any], w: World, campaign_id: str) -> bool:
    """The draw the tick made seats exactly the people `selection show` listed."""
    drawn = preview.get("drawn")
    if drawn is None:
        return False
    with w.bot.store.transaction() as s:
        rows = s.execute(select(Outbox.member_id, Outbox.step, Outbox.payload).where(
            Outbox.campaign_id == answer_form_id(campaign_id), Outbox.step.like("seat-seated%"))).all()
    import json

    made = sorted((m, json.loads(p or "{}").get("group")) for m, _, p in rows)
    return made == sorted((m, g) for m, g in drawn if g is not None)


def run_scenario(name: str, members: int, seed: int, directory: Path,
                 say: Callable[[str], None] = lambda s: None) -> ScenarioReport:
    runs = {"course": run_course, "workshop": run_workshop}
    return runs[name](members, seed, directory, say)
