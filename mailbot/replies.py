"""Act on stored inbound mail: find who and what it answers, record, reply.

The reading itself is pure (`mailbot.reading`); this module only looks things
up and writes. A reply is matched by the token in the address it was sent to
first, then by In-Reply-To/References, then by the sender's address. Every
message ends in a state: done, ignored (a machine), or needs-human with the
reason; none is dropped, and a failure on one message never stops the rest.

Loop safety (RFC 3834): nothing is ever sent in answer to a bounce, an
automatic reply, a mailing list, bulk mail or our own addresses, and one member
gets at most `[replies] max_auto_answers_per_day` automatic answers a day.
Automatic answers are queued like any other email (campaign "panel" or the
survey, step "notice-…" / "receipt-…") and composed with `Auto-Submitted:
auto-replied`.
"""

from __future__ import annotations

import calendar
import email.utils
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot import forms, membership
from mailbot.campaigns import Campaign, CampaignForm, Survey
from mailbot.compose import formats
from mailbot.config import Settings
from mailbot.people import MemberStatus
from mailbot.reading import Reading, read_message
from mailbot.reading.decode import header_text
from mailbot.states import InboundState
from mailbot.store import Store
from mailbot.store import inbound as inbound_store
from mailbot.store import members as member_store
from mailbot.store import outbox as outbox_store
from mailbot.store import responses as response_store
from mailbot.store.models import Inbound, Member, Outbox
from mailbot.tokens import BadToken, Keys, token_from_address

log = logging.getLogger("mailbot.replies")

# `mailbot send-test` signs its reply address with this outbox id: no row has it.
TEST_OUTBOX_ID = 0

HEADER_BYTES = 256 * 1024  # enough for any real header block, even 10 000 recipients
MAX_ADDRESSES = 50  # of our own domain, tried for a token; more is not a reply from a person
PANEL = "panel"  # campaign id of answers that belong to no campaign (commands)


@dataclass
class InboundReport:
    replies: int = 0
    answered: int = 0
    needs_human: int = 0
    machines: int = 0
    commands: int = 0


@dataclass(frozen=True)
class Match:
    member_id: int | None
    campaign_id: str | None
    outbox_id: int | None
    step: str | None
    how: str  # token | thread | sender | test | none
    bad_token: bool = False  # an address of ours carried a token we did not sign


def read_inbound(settings: Settings, store: Store, keys: Keys, campaigns: dict[str, Campaign], now: datetime,
                 limit: int = 500) -> InboundReport:
    report = InboundReport()
    while True:
        with store.transaction() as s:
            ids = inbound_store.new_ids(s, limit)
        if not ids:
            return report
        for inbound_id in ids:
            try:
                with store.transaction() as s:
                    _read_one(settings, s, keys, campaigns, inbound_id, now, report)
            except Exception as exc:  # never lose it, never stop the others
                log.exception("inbound failed id=%s", inbound_id)
                with store.transaction() as s:
                    inbound_store.settle(s, inbound_id, InboundState.NEEDS_HUMAN, now,
                                         reason=f"could not be processed: {type(exc).__name__}: {exc}"[:500])
                report.needs_human += 1


def _own_addresses(settings: Settings) -> tuple[str, ...]:
    p = settings.panel
    return (p.address, f"{p.local_part}@{p.reply_domain}", f"bounces@{p.reply_domain}")


def is_own_address(settings: Settings, address: str) -> bool:
    """The panel's address, or any address at the reply domain (panel+TOKEN@, bounces+TOKEN@)."""
    a = address.strip().strip("<>").lower()
    if "@" not in a:
        return False
    return a == settings.panel.address.lower() or a.rsplit("@", 1)[1] == settings.panel.reply_domain


def list_reason(headers: Message) -> str | None:
    """Why this message came from a mailing list (RFC 2919 List-Id, Precedence: list), or None."""
    for name in ("List-Id", "List-Post"):
        if headers.get(name) is not None:
            return f"came through a mailing list ({name})"
    if header_text(headers, "Precedence").strip().lower() == "list":
        return "came through a mailing list (Precedence: list)"
    return None


def quiet_reason(headers: Message) -> str | None:
    """Why no automatic answer may go back although the message is read (RFC 3834 bulk/junk), or None."""
    precedence = header_text(headers, "Precedence").strip().lower()
    if precedence in ("bulk", "junk"):
        return f"Precedence: {precedence}"
    return None


@dataclass
class _Answering:
    """One inbound message being acted on: what is queued in answer, and notes for staff."""

    settings: Settings
    s: Session
    keys: Keys
    inbound_id: int
    headers: Message
    now: datetime
    sender: str = ""
    quiet: str | None = None
    notes: list[str] = field(default_factory=list)

    def may_answer(self, member_id: int) -> bool:
        """True if an automatic email to this member is allowed now (loop and flood safety)."""
        if self.quiet:
            self._note(f"no automatic answer: {self.quiet}")
            return False
        member = self.s.get(Member, member_id)
        if member is None or not member.email or is_own_address(self.settings, member.email):
            self._note("no automatic answer: the member has no address we may write to")
            return False
        limit = self.settings.config.replies.max_auto_answers_per_day
        if outbox_store.automatic_answers_since(self.s, member_id, self.now - timedelta(days=1)) >= limit:
            log.info("automatic answer withheld (daily limit) member=%s inbound=%s", member_id,
                     self.inbound_id)
            self._note(f"no automatic answer: daily limit of {limit} reached")
            return False
        return True

    def answer(self, member_id: int, campaign_id: str, step: str, payload: dict[str, Any]) -> bool:
        """Queue an automatic answer if `may_answer`; True if queued."""
        if not self.may_answer(member_id):
            return False
        mid = self.headers.get("Message-ID")
        if mid:
            payload = {**payload, "in_reply_to": str(mid).strip()[:250]}
        return outbox_store.queue_one(self.s, campaign_id, step, member_id, self.now, payload=payload)

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)


def _read_one(settings: Settings, s: Session, keys: Keys, campaigns: dict[str, Campaign], inbound_id: int,
              now: datetime, report: InboundReport) -> None:
    row = inbound_store.get(s, inbound_id)
    if row is None or row.status != InboundState.NEW.value:
        return
    raw = row.raw or b""
    headers = message_from_bytes(raw[:HEADER_BYTES], policy=policy.compat32)
    recipients = [a for a in (row.envelope_to or "").split(",") if a][:MAX_ADDRESSES]
    match = _match(settings, s, keys, headers, recipients)
    survey = campaigns.get(match.campaign_id) if match.campaign_id else None
    reading = read_message(raw, survey if isinstance(survey, Survey) else None, _own_addresses(settings))
    sender = _sender(headers)
    act = _Answering(settings, s, keys, inbound_id, headers, now, sender=sender, quiet=quiet_reason(headers))

    def settle(state: InboundState, reason: str | None = None, member_id: int | None = match.member_id,
               outbox_id: int | None = match.outbox_id) -> None:
        flags = ["an address of ours carried a token we did not sign"] if match.bad_token else []
        text = "; ".join(r for r in (reason, *act.notes, *flags) if r)
        inbound_store.settle(s, inbound_id, state, now, kind=reading.kind, member_id=member_id,
                             campaign_id=match.campaign_id, outbox_id=outbox_id, reason=text[:2000] or None)
        if state == InboundState.NEEDS_HUMAN:
            report.needs_human += 1

    if reading.refused:
        # Too big or not a message at all: we cannot even tell a machine from a person.
        settle(InboundState.NEEDS_HUMAN, f"could not be read: {reading.needs_human}")
        return
    if reading.kind == "bounce":
        report.machines += 1
        _bounce(settings, s, keys, reading, recipients, match, now, settle)
        return
    if reading.kind == "auto-reply":
        report.machines += 1
        settle(InboundState.IGNORED, "automatic reply")
        return
    if is_own_address(settings, sender) or is_own_address(settings, row.envelope_from or ""):
        report.machines += 1
        settle(InboundState.IGNORED, "from ourselves")
        return
    from_list = list_reason(headers)
    if from_list:
        settle(InboundState.NEEDS_HUMAN, f"{from_list}: nothing recorded, nothing sent")
        return
    member_id = match.member_id
    if match.how == "test":
        settle(InboundState.IGNORED, "a reply to a test email (mailbot send-test): nothing recorded", None)
        return
    if member_id is None:
        if match.how == "none" and not match.bad_token and sender and reading.kind == "reply" and not act.quiet:
            # Anyone may join by writing to the panel address, with any text; the confirmation
            # link makes it their choice. What they wrote stays for a person to read.
            report.commands += 1
            joined = membership.request_join(s, settings, keys, sender, now, via="email")
            settle(InboundState.NEEDS_HUMAN, f"a non-member wrote to the panel: join {joined.outcome.value}; "
                   "the text may need an answer", None)
            return
        if reading.kind == "command" and reading.command == "join" and sender:
            report.commands += 1
            if act.quiet:
                settle(InboundState.NEEDS_HUMAN, f"join asked by a non-member, not answered ({act.quiet})",
                       None)
                return
            joined = membership.request_join(s, settings, keys, sender, now, via="email")
            settle(InboundState.DONE, f"join asked by email: {joined.outcome.value}", None)
            return
        settle(InboundState.NEEDS_HUMAN, "sender is not a member and the message names no campaign")
        return
    member = s.get(Member, member_id)
    if member is not None and member.email and sender and sender.lower() != member.email.lower():
        act.notes.append(f"sent from another address ({sender[:200]})")
    if isinstance(survey, CampaignForm) and survey.acts:  # course and recruitment answers: mailbot.forms
        acted = forms.handle_reply(s, campaigns, survey, member_id, reading, headers.get("Message-ID"), now)
        if acted is not None:
            report.replies += 1
            settle(*acted)
            return
    if reading.kind == "command":
        report.commands += 1
        state, reason = _command(act, member_id, reading)
        settle(state, reason)
        return
    report.replies += 1
    if not isinstance(survey, Survey):
        settle(InboundState.NEEDS_HUMAN, "a reply, but not to a survey we can find")
        return
    if now >= survey.closes:
        # One polite notice per member and survey: the outbox key makes a second one a no-op.
        act.answer(member_id, survey.id, "notice-closed", {"kind": "closed"})
        settle(InboundState.DONE, "arrived after close")
        return
    _reply(act, survey, member_id, match, reading, report, settle)


def _reply(act: _Answering, survey: Survey, member_id: int, match: Match, reading: Reading,
           report: InboundReport, settle: Any) -> None:
    """Record what was read; tell the resident what was recorded, what is missing, what is unclear."""
    s = act.s
    answers = dict(reading.answers)
    unsure = dict(reading.unsure)
    if answers:
        response_store.record(s, survey, member_id, answers, source="reply", after_step=match.step,
                              now=act.now)
        report.answered += 1
    step = f"receipt-{act.inbound_id}"
    if answers or unsure:
        current = response_store.answers_of(s, survey, member_id)
        missing = [q.id for q in survey.questions
                   if q.required and q.id not in current and q.id not in unsure]
        act.answer(member_id, survey.id, step,
                   {"kind": "receipt", "recorded": _jsonable(current), "missing": missing, "unsure": unsure})
    else:
        act.answer(member_id, survey.id, step, {"kind": "not-understood"})
    recorded = f"recorded {', '.join(answers)}" if answers else None
    if unsure:
        why = "; ".join(f"{q}: {r}" for q, r in unsure.items())
    elif not answers:
        why = reading.needs_human or "no answer could be read"
    else:
        why = None
    if why:
        settle(InboundState.NEEDS_HUMAN, "; ".join(r for r in (why, recorded) if r))
    else:
        settle(InboundState.DONE, recorded)


def _jsonable(answers: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in answers.items()}


# ---------------------------------------------------------------- commands


def _command(act: _Answering, member_id: int, reading: Reading) -> tuple[InboundState, str]:
    """Carry out a command from a member and queue the answer saying what was done."""
    s, now, settings = act.s, act.now, act.settings
    command = str(reading.command)
    value = reading.command_value
    record = member_store.get_member(s, member_id)
    if record is None or record.status == MemberStatus.ERASED or record.email is None:
        return InboundState.IGNORED, f"command {command} from an erased member: nothing to do"
    status = record.status
    step = f"notice-{command}-{act.inbound_id}"
    context: dict[str, Any] = {"command": command}

    def answer(kind: str, ctx: dict[str, Any]) -> None:
        act.answer(member_id, PANEL, step, {"kind": kind, "context": ctx})

    if status == MemberStatus.UNDELIVERABLE and command != "erase":
        return InboundState.NEEDS_HUMAN, (f"command {command} from a member marked undeliverable "
                                          f"({record.status_reason}): check the address, then act by hand")
    if command == "unsubscribe":
        left = membership.leave(s, member_id, now, via="email")
        answer("unsubscribe", context)
        return InboundState.DONE, "command unsubscribe: left the panel" if left else \
            "command unsubscribe: had already left"
    if command in ("join", "resume") and status == MemberStatus.UNSUBSCRIBED:
        # Coming back after leaving is a new consent: the double opt-in link, as on the web.
        if not act.may_answer(member_id):
            return InboundState.NEEDS_HUMAN, f"command {command} from a former member; link not sent"
        joined = membership.request_join(s, settings, act.keys, record.email, now, via="email",
                                         language=record.language)
        return InboundState.DONE, f"command {command} from a former member: {joined.outcome.value}"
    if command == "join" and act.sender and act.sender.lower() != record.email.lower():
        # A forwarded invitation answered by someone else: the sender asks for themselves.
        if act.quiet:
            return InboundState.NEEDS_HUMAN, f"command join from {act.sender[:200]}, not answered ({act.quiet})"
        joined = membership.request_join(s, settings, act.keys, act.sender, now, via="email")
        return InboundState.DONE, f"command join from {act.sender[:200]}, not the member: {joined.outcome.value}"
    if command == "join":
        if not act.may_answer(member_id):
            return InboundState.NEEDS_HUMAN, "command join from a member; not answered"
        joined = membership.request_join(s, settings, act.keys, record.email, now, via="email",
                                         language=record.language)
        return InboundState.DONE, f"command join: {joined.outcome.value}"
    if command == "pause":
        if status == MemberStatus.UNSUBSCRIBED:
            return InboundState.DONE, "command pause from a member who has left: nothing to do"
        until = read_pause_date(value, now, settings.panel.zone) if value else None
        why = "paused by email"
        if until is not None:
            lang = formats.language_of(record.language, settings.panel.language)
            context["until_date"] = until.date().isoformat()
            context["until_text"] = formats.date_text(until.date(), lang, settings.panel.timezone)
            why += f" until {until.date().isoformat()}"
        elif value:
            context["unclear"] = value[:60]
        member_store.set_status(s, member_id, MemberStatus.PAUSED, why, now, paused_until=until)
        answer("pause", context)
        if value and until is None:
            return InboundState.DONE, f"command pause: date {value[:60]!r} not understood, paused until START"
        return InboundState.DONE, f"command pause: {why}"
    if command == "resume":
        member_store.set_status(s, member_id, MemberStatus.ACTIVE, "resumed by email", now)
        answer("resume", context)
        return InboundState.DONE, "command resume: active again"
    if command == "language":
        if value not in formats.LANGUAGES:
            return InboundState.NEEDS_HUMAN, f"command language: {value!r} is not nb, nn or en"
        member = s.get(Member, member_id)
        if member is not None and member.language != value:
            member.language = str(value)
            member.changed_at = now
        context["language"] = value
        answer("language", context)
        return InboundState.DONE, f"command language: now {value}"
    if command == "erase":
        if not act.may_answer(member_id):
            return InboundState.NEEDS_HUMAN, "command erase: confirmation link not sent; erase by hand"
        membership.request_erasure(s, settings, act.keys, member_id, now, key=f"i{act.inbound_id}")
        return InboundState.DONE, "command erase: confirmation link sent"
    return InboundState.NEEDS_HUMAN, f"command {command} is not one we act on"


# ---------------------------------------------------------------- pause dates

_MONTHS = {
    "januar": 1, "jan": 1, "january": 1,
    "februar": 2, "feb": 2, "february": 2,
    "mars": 3, "mar": 3, "march": 3,
    "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7,
    "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "october": 10, "oct": 10,
    "november": 11, "nov": 11,
    "desember": 12, "des": 12, "december": 12, "dec": 12,
}
_MONTH = "(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?:,?\s+(?P<year>\d{4}))?"
_DAY_MONTH = re.compile(r"(?P<day>\d{1,2})\.?\s*(?:of\s+)?" + _MONTH + _YEAR)
_MONTH_DAY = re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?" + _YEAR)
_NUMERIC = re.compile(r"(?P<day>\d{1,2})[./](?P<month>\d{1,2})(?:[./](?P<year>\d{4}|\d{2}))?\.?")
_ISO = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})")
_NUMBER_WORDS = {"en": 1, "ei": 1, "ett": 1, "one": 1, "a": 1, "to": 2, "two": 2, "tre": 3, "three": 3,
                 "fire": 4, "four": 4, "fem": 5, "five": 5, "seks": 6, "six": 6}
_RELATIVE = re.compile(r"(?P<n>\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")\s+"
                       r"(?P<unit>dag|dager|dagar|days?|uke|uker|veke|veker|weeks?|måned|måneder|månad|månader"
                       r"|months?|år|years?)")
_FILLER = re.compile(r"^(?:til|until|till|to|fram\s+til|frem\s+til|den|the|om|in|for|i|"
                     r"mandag|tirsdag|onsdag|torsdag|fredag|lørdag|søndag|måndag|tysdag|laurdag|sundag|"
                     r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)[\s,]+", re.I)
MAX_PAUSE = timedelta(days=3 * 366)


def read_pause_date(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """The start of the day (panel time) a pause lasts until: "1. mars", "til 15.01.2027", "2 uker".

    A date without a year is the next one to come. None if the text is not a
    date, or is in the past, or more than three years ahead.
    """
    t = " ".join(text.lower().split())[:80].strip(" .!,")
    while True:
        shorter = _FILLER.sub("", t, count=1)
        if shorter == t:
            break
        t = shorter
    today = now.astimezone(zone).date()
    day = _date_in(t, today)
    if day is None:
        return None
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    if day <= today or start - now > MAX_PAUSE:
        return None
    return start


def _date_in(t: str, today: date) -> date | None:
    relative = _RELATIVE.fullmatch(t)
    if relative:
        n_text = relative.group("n")
        n = int(n_text) if n_text.isdigit() else _NUMBER_WORDS[n_text]
        unit = relative.group("unit")
        if unit.startswith(("dag", "day")):
            return today + timedelta(days=n)
        if unit.startswith(("uke", "veke", "week")):
            return today + timedelta(weeks=n)
        months = n * 12 if unit.startswith(("år", "year")) else n
        years, month0 = divmod(today.month - 1 + months, 12)
        year, month = today.year + years, month0 + 1
        return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))
    for pattern in (_ISO, _DAY_MONTH, _MONTH_DAY, _NUMERIC):
        found = pattern.fullmatch(t)
        if found is None:
            continue
        month_text = found.group("month")
        month = int(month_text) if month_text.isdigit() else _MONTHS[month_text]
        day = int(found.group("day"))
        year_text = found.group("year")
        if year_text:
            year = int(year_text) + (2000 if len(year_text) == 2 else 0)
            return _safe_date(year, month, day)
        this_year = _safe_date(today.year, month, day)
        if this_year is None:
            return _safe_date(today.year + 1, month, day)
        return this_year if this_year > today else _safe_date(today.year + 1, month, day)
    return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# ---------------------------------------------------------------- bounces


def _bounce(settings: Settings, s: Session, keys: Keys, reading: Reading, recipients: list[str], match: Match,
            now: datetime, settle: Any) -> None:
    """Note the bounce on the member it names; mark the address undeliverable when the policy says so."""
    bounce = reading.bounce
    member_id, outbox_id = _bounced_member(s, keys, reading, recipients)
    if member_id is None:
        member_id, outbox_id = match.member_id, match.outbox_id
    addresses = ", ".join(bounce.addresses)[:200] if bounce and bounce.addresses else "no address named"
    if member_id is None:
        if reading.needs_human:
            settle(InboundState.NEEDS_HUMAN, f"bounce: {reading.needs_human}", None, outbox_id)
        else:
            settle(InboundState.IGNORED, f"bounce for an address not on the panel: {addresses}", None,
                   outbox_id)
        return
    hard = bool(bounce and bounce.permanent)
    # The reason starts with "hard bounce"/"soft bounce": that is what the policy counts.
    settle(InboundState.IGNORED, f"{'hard' if hard else 'soft'} bounce: {addresses}", member_id, outbox_id)
    _apply_bounce_policy(settings, s, member_id, now)


def _apply_bounce_policy(settings: Settings, s: Session, member_id: int, now: datetime) -> None:
    rules = settings.config.bounces
    since = now - timedelta(days=rules.soft_window_days)

    def count(prefix: str) -> int:
        return s.scalar(select(func.count()).select_from(Inbound).where(
            Inbound.member_id == member_id, Inbound.kind == "bounce", Inbound.received_at >= since,
            Inbound.reason.like(f"{prefix}%"))) or 0

    hard, soft = count("hard bounce"), count("soft bounce")
    if hard >= rules.hard_before_undeliverable:
        why = f"{hard} hard bounce{'s' if hard > 1 else ''}"
    elif soft >= rules.soft_before_undeliverable:
        why = f"{soft} soft bounces in {rules.soft_window_days} days"
    else:
        return
    record = member_store.get_member(s, member_id)
    if record is None or record.status not in (MemberStatus.ACTIVE, MemberStatus.PAUSED):
        return
    last = s.scalars(select(Inbound.reason).where(Inbound.member_id == member_id, Inbound.kind == "bounce")
                     .order_by(Inbound.id.desc())).first()
    day = now.astimezone(settings.panel.zone).date().isoformat()
    reason = f"{why}, last {day} ({last})"[:500]
    member_store.set_status(s, member_id, MemberStatus.UNDELIVERABLE, reason, now)
    log.info("member=%s marked undeliverable: %s", member_id, why)


def _bounced_member(s: Session, keys: Keys, reading: Reading,
                    recipients: list[str]) -> tuple[int | None, int | None]:
    tokens = [t for t in (getattr(reading.bounce, "token", None),) if t]
    tokens += [t for t in (token_from_address(a, "bounces") for a in recipients) if t]
    for token in tokens:
        try:
            row = s.get(Outbox, keys.read_address_token(token, "bounce"))
        except BadToken:
            continue
        if row is not None:
            return row.member_id, row.id
    for address in getattr(reading.bounce, "addresses", ()) or ():
        member = member_store.member_by_email(s, address)
        if member is not None:
            return member.id, None
    return None, None


# ---------------------------------------------------------------- matching


def _sender(headers: Message) -> str:
    return email.utils.parseaddr(header_text(headers, "From"))[1]


def _match(settings: Settings, s: Session, keys: Keys, headers: Message, recipients: list[str]) -> Match:
    local = settings.panel.local_part
    addresses = list(recipients)
    for h in ("To", "Cc", "Delivered-To", "X-Original-To"):
        values = [str(v)[:HEADER_BYTES] for v in headers.get_all(h, [])]
        try:
            addresses += [a for _, a in email.utils.getaddresses(values)]
        except Exception:  # a header the parser chokes on names nobody we can use
            continue
    ours = [a for a in addresses if is_own_address(settings, a)][:MAX_ADDRESSES]
    bad_token = False
    for address in ours:
        token = token_from_address(address, local)
        if not token:
            continue
        try:
            outbox_id = keys.read_address_token(token)
        except BadToken:
            bad_token = True
            continue
        if outbox_id == TEST_OUTBOX_ID:  # a reply to `mailbot send-test`: nobody's answer
            return Match(None, None, None, None, "test", bad_token)
        row = s.get(Outbox, outbox_id)
        if row is not None:
            return Match(row.member_id, row.campaign_id, row.id, row.step, "token")
    refs = " ".join(header_text(headers, h) for h in ("In-Reply-To", "References")).split()[:50]
    row = outbox_store.by_message_id(s, refs)
    if row is not None:
        return Match(row.member_id, row.campaign_id, row.id, row.step, "thread", bad_token)
    sender = _sender(headers)
    member = member_store.member_by_email(s, sender) if sender else None
    if member is not None:
        latest = s.scalars(select(Outbox).where(Outbox.member_id == member.id, Outbox.step == "invitation")
                           .order_by(Outbox.id.desc())).first()
        return Match(member.id, latest.campaign_id if latest else None, latest.id if latest else None,
                     latest.step if latest else None, "sender", bad_token)
    return Match(None, None, None, None, "none", bad_token)
