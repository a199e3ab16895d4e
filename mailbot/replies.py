"""Act on stored inbound mail: find who and what it answers, record, reply.

The reading itself is pure (`mailbot.reading`); this module only looks things
up and writes. A reply is matched by the token in the address it was sent to
first, then by In-Reply-To/References, then by the sender's address. Every
message ends in a state: done, ignored (a machine), or needs-human with the
reason; none is dropped, and a failure on one message never stops the rest.

Read-back, not guess: answers read with less than full confidence
(`Reading.route` READ_BACK) are not recorded; the reading waits in
`mailbot.store.read_backs` and the resident gets "Vi leste svaret ditt slik: …
Stemmer det?" with a signed one-click link (`/stemmer/TOKEN`, mailbot.web). A
reply to that email says yes, no, or corrects it; a newer reply to the survey
replaces it; at close `[replies] unconfirmed_at_close` settles what is left.

Loop safety (RFC 3834): nothing is ever sent in answer to a bounce, an
automatic reply, a mailing list, bulk mail or our own addresses, and one member
gets at most `[replies] max_auto_answers_per_day` automatic answers a day.
Automatic answers are queued like any other email (campaign "panel" or the
survey, step "notice-…" / "receipt-…"; the read-back is "notice-read-back-…")
and composed with `Auto-Submitted: auto-replied`. A reading that cannot be read
back under these rules goes to a person instead, with nothing recorded.
"""

from __future__ import annotations

import calendar
import email.utils
import logging
import re
import time
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot import forms, links, membership
from mailbot.campaigns import AnswerValue, Campaign, CampaignForm, Question, QuestionType, Survey
from mailbot.compose import formats
from mailbot.panel.settings import Settings
from mailbot.people import MemberStatus
from mailbot.reading import Reading, Route, read_message
from mailbot.reading.decode import header_text
from mailbot.states import InboundState
from mailbot.store import Store, answer_counts
from mailbot.store import inbound as inbound_store
from mailbot.store import members as member_store
from mailbot.store import outbox as outbox_store
from mailbot.store import read_backs as read_back_store
from mailbot.store import responses as response_store
from mailbot.store.models import Inbound, Member, Outbox
from mailbot.store.read_backs import Pending, ReadBackState
from mailbot.tokens import BadToken, Keys, token_from_address

log = logging.getLogger("mailbot.replies")

# `mailbot send-test` signs its reply address with this outbox id: no row has it.
TEST_OUTBOX_ID = 0

HEADER_BYTES = 256 * 1024  # enough for any real header block, even 10 000 recipients
MAX_ADDRESSES = 50  # of our own domain, tried for a token; more is not a reply from a person
BATCH = 50  # messages settled in one transaction
BATCH_SECONDS = 0.25  # … or fewer: the transaction (SQLite's write lock) is held no longer than this
PANEL = "panel"  # campaign id of answers that belong to no campaign (commands)
READ_BACK_STEP = "notice-read-back-"  # + inbound id: the read-back email, an automatic answer like a receipt
READ_BACK_LINK = "read-back"  # purpose of the signed "Ja, det stemmer" link: {"m": member, "r": read-back id}


@dataclass
class InboundReport:
    replies: int = 0
    answered: int = 0
    needs_human: int = 0
    machines: int = 0
    commands: int = 0
    read_backs: int = 0  # readings read back to the resident instead of recorded

    def add(self, other: InboundReport) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass(frozen=True)
class Match:
    member_id: int | None
    campaign_id: str | None
    outbox_id: int | None
    step: str | None
    how: str  # token | thread | sender | test | none
    bad_token: bool = False  # an address of ours carried a token we did not sign


def read_inbound(settings: Settings, store: Store, keys: Keys, campaigns: dict[str, Campaign], now: datetime,
                 limit: int = 500, *, batch: int = BATCH, batch_seconds: float = BATCH_SECONDS) -> InboundReport:
    """Act on every stored message that is new, in batches (see `_read_batch`)."""
    report = InboundReport()
    settle_read_backs(settings, store, campaigns, now, report)
    after = 0
    while True:
        with store.transaction() as s:
            ids = inbound_store.new_ids_after(s, after, limit)
        if not ids:
            return report
        after = ids[-1]
        while ids:
            done = _read_batch(settings, store, keys, campaigns, ids[:batch], now, report, batch_seconds)
            ids = ids[done:]


def _read_batch(settings: Settings, store: Store, keys: Keys, campaigns: dict[str, Campaign], ids: list[int],
                now: datetime, report: InboundReport, seconds: float) -> int:
    """Settle the first of `ids` in one transaction, a savepoint each; returns how many it took.

    One message that fails rolls back to its savepoint and is settled "needs a human" with the error;
    the others in the batch stand. The answer counts of the batch are written once, at the end
    (`answer_counts.gathered`), and `report` counts only what was committed. If the batch itself
    cannot be committed, nothing of it stands and its messages are read again one transaction each.
    A batch ends after `seconds` too (on SQLite it holds the write lock meanwhile).
    """
    taken = 0
    batch_report = InboundReport()
    try:
        with store.transaction() as s:
            counts = answer_counts.Pending()
            ends = time.monotonic() + seconds
            for inbound_id in ids:
                taken += 1
                row = inbound_store.claim_new(s, inbound_id)
                if row is not None:
                    _read_in_savepoint(settings, s, keys, campaigns, row, now, batch_report, counts)
                if time.monotonic() >= ends:
                    break
            counts.flush(s)
    except Exception:
        log.exception("inbound batch of %s failed (ids %s-%s); reading them one at a time", taken, ids[0],
                      ids[taken - 1])
        for inbound_id in ids[:taken]:
            _read_alone(settings, store, keys, campaigns, inbound_id, now, report)
        return taken
    report.add(batch_report)
    return taken


def _read_in_savepoint(settings: Settings, s: Session, keys: Keys, campaigns: dict[str, Campaign],
                       row: inbound_store.NewMessage, now: datetime, report: InboundReport,
                       counts: answer_counts.Pending) -> None:
    mine = InboundReport()
    try:
        with answer_counts.gathered(s) as changed, s.begin_nested():
            _read_one(settings, s, keys, campaigns, row, now, mine)
    except Exception as exc:  # never lose it, never stop the others
        log.exception("inbound failed id=%s", row.id)
        s.expunge_all()
        inbound_store.settle(s, row.id, InboundState.NEEDS_HUMAN, now,
                             reason=f"could not be processed: {type(exc).__name__}: {exc}"[:500])
        report.needs_human += 1
        return
    # The next message sees the database, not objects this one loaded (as in a session of its own).
    s.expunge_all()
    counts.merge(changed)
    report.add(mine)


def _read_alone(settings: Settings, store: Store, keys: Keys, campaigns: dict[str, Campaign], inbound_id: int,
                now: datetime, report: InboundReport) -> None:
    """One message in its own transaction (after its batch failed as a whole)."""
    mine = InboundReport()
    try:
        with store.transaction() as s:
            row = inbound_store.claim_new(s, inbound_id)
            if row is not None:
                _read_one(settings, s, keys, campaigns, row, now, mine)
    except Exception as exc:
        log.exception("inbound failed id=%s", inbound_id)
        with store.transaction() as s:
            inbound_store.settle(s, inbound_id, InboundState.NEEDS_HUMAN, now,
                                 reason=f"could not be processed: {type(exc).__name__}: {exc}"[:500])
        report.needs_human += 1
        return
    report.add(mine)


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
        address = member_store.email_of(self.s, member_id)
        if not address or is_own_address(self.settings, address):
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


def _read_one(settings: Settings, s: Session, keys: Keys, campaigns: dict[str, Campaign],
              row: inbound_store.NewMessage, now: datetime, report: InboundReport) -> None:
    inbound_id = row.id
    raw = row.raw
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
    address = member_store.email_of(s, member_id)
    if address and sender and sender.lower() != address.lower():
        act.notes.append(f"sent from another address ({sender[:200]})")
    if isinstance(survey, CampaignForm) and survey.acts:  # course and recruitment answers: mailbot.forms
        acted = forms.handle_reply(s, campaigns, survey, member_id, reading, headers.get("Message-ID"), now)
        if acted is not None:
            report.replies += 1
            settle(*acted)
            return
    with_answers = bool(reading.answers or reading.unsure)
    if reading.kind == "command" or (reading.command and reading.kind == "reply" and not with_answers):
        report.commands += 1
        state, reason = _command(act, member_id, reading)
        settle(state, reason)
        return
    if reading.command and reading.kind == "reply":
        # Answers and a command in one reply ("1 A 2 B … og sett meg på pause til mars"): both are meant.
        report.commands += 1
        done_state, done_reason = _command(act, member_id, reading)
        settle = _also(settle, done_state, done_reason)
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


def _also(settle: Any, state: InboundState, reason: str) -> Any:
    """`settle` for a reply that also carried a command: its outcome is kept with the answers'."""
    def both(answered: InboundState, why: str | None = None, *args: Any) -> None:
        worst = InboundState.NEEDS_HUMAN if InboundState.NEEDS_HUMAN in (answered, state) else answered
        settle(worst, "; ".join(r for r in (reason, why) if r), *args)
    return both


def _reply(act: _Answering, survey: Survey, member_id: int, match: Match, reading: Reading,
           report: InboundReport, settle: Any) -> None:
    """Record what was read, or read it back to the resident first when it was not read with confidence.

    A reply to a read-back email answers the reading that waits (`_answer_to_read_back`); any other
    reply with answers replaces a reading that waits (the newest reading wins).
    """
    s = act.s
    pending = read_back_store.waiting(s, survey, member_id)
    to_read_back = bool(match.step and match.step.startswith(READ_BACK_STEP))
    if to_read_back and _answer_to_read_back(act, survey, member_id, reading, pending, report, settle):
        return
    if reading.route == Route.READ_BACK and reading.answers:
        _read_back(act, survey, member_id, match.step, dict(reading.answers), reading.confirm, dict(reading.unsure),
                   report, settle)
        return
    if pending is not None and reading.answers:
        read_back_store.move(s, pending.id, ReadBackState.SUPERSEDED, act.now)
        act.notes.append(f"replaces the reading that waited for confirmation (read-back {pending.id})")
    _record(act, survey, member_id, dict(reading.answers), dict(reading.unsure), "reply", match.step, reading,
            report, settle)


def _record(act: _Answering, survey: Survey, member_id: int, answers: dict[str, AnswerValue],
            unsure: dict[str, str], source: str, after_step: str | None, reading: Reading, report: InboundReport,
            settle: Any) -> None:
    """Record `answers`; tell the resident what was recorded, what is missing, and what could not be read.

    Questions answered in a way that could not be read are asked again in the receipt: the resident
    is asked instead of a person, unless the receipt cannot go (loop safety), or nothing was read.
    """
    s = act.s
    if answers:
        response_store.record(s, survey, member_id, answers, source=source, after_step=after_step, now=act.now)
        report.answered += 1
    step = f"receipt-{act.inbound_id}"
    asked = False
    if answers or unsure:
        current = response_store.answers_of(s, survey, member_id)
        missing = [q.id for q in survey.questions
                   if q.required and q.id not in current and q.id not in unsure]
        asked = act.answer(member_id, survey.id, step, {"kind": "receipt", "recorded": _jsonable(current),
                                                         "missing": missing, "unsure": unsure})
    else:
        act.answer(member_id, survey.id, step, {"kind": "not-understood"})
    recorded = f"recorded {', '.join(answers)}" if answers else None
    if source != "reply" and recorded:
        recorded += f" ({source})"
    why_unsure = "; ".join(f"{q}: {r}" for q, r in unsure.items()) if unsure else None
    if not answers:
        settle(InboundState.NEEDS_HUMAN, why_unsure or reading.needs_human or "no answer could be read")
    elif unsure and not asked:
        settle(InboundState.NEEDS_HUMAN, "; ".join(r for r in (why_unsure, recorded) if r))
    elif unsure:
        settle(InboundState.DONE, f"{recorded}; could not read {', '.join(unsure)}: the receipt asks the resident "
               f"({why_unsure})")
    else:
        settle(InboundState.DONE, recorded)


def _read_back(act: _Answering, survey: Survey, member_id: int, after_step: str | None,
               answers: dict[str, AnswerValue], confirm: tuple[str, ...], unsure: dict[str, str],
               report: InboundReport, settle: Any, *, source: str = read_back_store.CONFIRMED_SOURCE) -> None:
    """Keep the reading, record nothing, and ask the resident "Vi leste svaret ditt slik: … Stemmer det?"."""
    s, now = act.s, act.now
    summary = reading_summary(survey, answers, act.settings.panel.language)
    if not act.may_answer(member_id):
        # Nobody can be asked, so a person decides; the newest reading still replaces a waiting one.
        read_back_store.supersede(s, survey.id, member_id, now)
        settle(InboundState.NEEDS_HUMAN, f"read as {summary} (not sure of {', '.join(confirm)}), but no read-back "
               "could be sent: nothing recorded")
        return
    read_back_id = read_back_store.add(s, survey, member_id, act.inbound_id, answers, confirm, unsure, now,
                                       after_step=after_step, source=source)
    member = s.get(Member, member_id)
    lang = formats.language_of(member.language if member else None, act.settings.panel.language)
    context = read_back_context(survey, answers, confirm, unsure, lang, act.settings.panel.timezone,
                                read_back_url(act.settings, act.keys, member_id, read_back_id),
                                correction=source == read_back_store.CORRECTED_SOURCE)
    step = f"{READ_BACK_STEP}{act.inbound_id}"
    act.answer(member_id, survey.id, step, {"kind": "read-back", "context": context})
    outbox_id = s.scalar(select(Outbox.id).where(Outbox.campaign_id == survey.id, Outbox.step == step,
                                                 Outbox.member_id == member_id))
    read_back_store.set_outbox(s, read_back_id, outbox_id)
    report.read_backs += 1
    settle(InboundState.DONE, f"read back to the resident (read-back {read_back_id}): {summary}; not sure of "
           f"{', '.join(confirm)}; nothing recorded until confirmed")


def _answer_to_read_back(act: _Answering, survey: Survey, member_id: int, reading: Reading, pending: Pending | None,
                         report: InboundReport, settle: Any) -> bool:
    """A reply to a read-back email: yes (record as read), no (a person reads it), or corrections.

    Corrections replace the waiting answers for the questions they answer; the rest stands. False
    when the reply is to be handled as any other reply (no reading waits and it is not a plain yes/no).
    """
    s, now = act.s, act.now
    verdict = read_back_verdict(reading.text)
    if pending is None:
        if verdict == "yes":
            settle(InboundState.DONE, "said yes to a read-back that no longer waits (already recorded or replaced)")
            return True
        if verdict == "no":
            settle(InboundState.NEEDS_HUMAN, "says a read-back is wrong, but it no longer waits: check the answers")
            return True
        return False
    if verdict == "yes":
        if not read_back_store.move(s, pending.id, ReadBackState.CONFIRMED, now):
            settle(InboundState.DONE, "said yes to a read-back already confirmed")
            return True
        act.notes.append(f"confirmed read-back {pending.id} by reply")
        _record(act, survey, member_id, pending.answers, pending.unsure, pending.source, pending.after_step, reading,
                report, settle)
        return True
    if verdict == "no":
        read_back_store.move(s, pending.id, ReadBackState.REJECTED, now)
        summary = reading_summary(survey, pending.answers, act.settings.panel.language)
        settle(InboundState.NEEDS_HUMAN, f"says the read-back is wrong (read as {summary}) and wrote no correction: "
               f"nothing recorded; see message {pending.inbound_id}")
        return True
    if not reading.answers:
        settle(InboundState.NEEDS_HUMAN, f"a reply to the read-back that could not be read "
               f"({reading.needs_human or 'no answer'}); read-back {pending.id} still waits for confirmation")
        act.answer(member_id, survey.id, f"receipt-{act.inbound_id}", {"kind": "not-understood"})
        return True
    if not read_back_store.move(s, pending.id, ReadBackState.CORRECTED, now):
        return False
    merged = {**pending.answers, **reading.answers}
    unsure = {q: r for q, r in {**pending.unsure, **reading.unsure}.items() if q not in reading.answers}
    act.notes.append(f"corrects read-back {pending.id} ({', '.join(reading.answers)})")
    if reading.route == Route.READ_BACK:
        # The correction itself was not read with confidence: read the corrected reading back once more.
        _read_back(act, survey, member_id, pending.after_step, merged, reading.confirm, unsure, report, settle,
                   source=read_back_store.CORRECTED_SOURCE)
        return True
    _record(act, survey, member_id, merged, unsure, read_back_store.CORRECTED_SOURCE, pending.after_step, reading,
            report, settle)
    return True


# ---------------------------------------------------------------- read-backs


def read_back_url(settings: Settings, keys: Keys, member_id: int, read_back_id: int) -> str:
    """The signed one-click "Ja, det stemmer" link (GET shows the reading, POST records it)."""
    token = keys.link_token(READ_BACK_LINK, {"m": member_id, "r": read_back_id})
    return f"{links.base_url(settings.panel)}/stemmer/{token}"


_QUOTES = {"nb": ("«", "»"), "nn": ("«", "»"), "en": ("“", "”")}
SHORT_TEXT = 24  # characters of a free-text answer in the one-line summary


def answer_words(q: Question, value: AnswerValue, lang: str, *, short: bool = False) -> str:
    """An answer as the resident would say it: option texts (not letters), a scale value, quoted text."""
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if q.type == QuestionType.TEXT:
        words = " ".join(str(value).split())
        if short and len(words) > SHORT_TEXT:
            cut = words[:SHORT_TEXT].rsplit(" ", 1)[0] if " " in words[:SHORT_TEXT] else words[:SHORT_TEXT]
            words = cut.rstrip(",.;:") + " …"
        left, right = _QUOTES.get(lang, _QUOTES["nb"])
        return f"{left}{words}{right}"
    return str(value)


def reading_summary(survey: Survey, answers: dict[str, AnswerValue], lang: str) -> str:
    """ "1 Ja · 2 Møbler, Bøker · 3 2 · 4 «Sandvika …»": the reading on one line, in question order."""
    return " · ".join(f"{q.number} {answer_words(q, answers[q.id], lang, short=True)}"
                      for q in survey.questions if q.id in answers)


def read_back_context(survey: Survey, answers: dict[str, AnswerValue], confirm: tuple[str, ...],
                      unsure: dict[str, str], lang: str, zone: str, confirm_url: str, *,
                      correction: bool = False) -> dict[str, Any]:
    """What the `notice-read-back` templates print (JSON: it is kept in the outbox payload)."""
    read = [q for q in survey.questions if q.id in answers]
    unreadable = [q for q in survey.questions if q.id in unsure and q.id not in answers]
    to_check = [q for q in survey.questions if q.id in confirm] or read
    return {
        "title": survey.title,
        "summary": reading_summary(survey, answers, lang),
        "reading_lines": [f"{q.number}. {q.text} — {answer_words(q, answers[q.id], lang)}" for q in read],
        "unreadable_lines": [f"{q.number}. {q.text}" for q in unreadable],
        "confirm_url": confirm_url,
        "example": formats.example_answer(to_check, lang),
        "closes": formats.datetime_text(survey.closes, lang, zone),
        "correction": correction,
    }


_CLOSING = re.compile(r"\b(?:hilsen|helsing|mvh|vh|regards|cheers|sendt fra|sent from)\b.*$")
_THANKS = re.compile(r"(?:\s*(?:og\s+)?(?:tusen\s+takk|takk|thanks|thank\s+you))+$")
_YES = re.compile(
    r"(?:ja|jo|jepp|japp|yes|yep|yeah|ok|okay|okei)?\s*(?:"
    r"(?:det|dette|that|that\s+is|that's|it|it's|it\s+is)?\s*(?:er\s+)?(?:helt\s+|heilt\s+|all\s+)?"
    r"(?:stemmer(?:\s+bra)?|riktig|rett|korrekt|correct|right|bekreftet|bekrefter|stadfestar|confirmed)"
    r"|i\s+confirm|jeg\s+bekrefter|eg\s+stadfestar)?")
_NO = re.compile(
    r"(?:nei|no|nope)?\s*(?:"
    r"(?:det|dette|that|that\s+is|that's|it|it's|it\s+is)?\s*(?:er\s+)?"
    r"(?:stemmer\s+ikke|stemmer\s+ikkje|ikke\s+riktig|ikkje\s+riktig|ikke\s+rett|ikkje\s+rett|feil|"
    r"not\s+right|not\s+correct|wrong|incorrect))?")


def read_back_verdict(text: str) -> str | None:
    """ "yes" for a plain "Ja, det stemmer" / "Riktig" / "Yes, that's right", "no" for a plain "Nei, det
    stemmer ikke" / "Feil", None for anything else (corrections, answers, questions).

    Only the first line counts; what follows may be a greeting and a name, nothing more.
    """
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines or len(lines) > 4:
        return None
    greeted = False
    for line in lines[1:]:
        low = line.lower().strip(" .!,")
        if _CLOSING.search(low) or _THANKS.fullmatch(" " + low):
            greeted = True
        elif not (greeted and len(line) <= 40 and not any(c.isdigit() for c in line)):
            return None  # more than a greeting and the name under it: an answer or a correction
    first = _CLOSING.sub("", lines[0].lower())
    first = " ".join(re.sub(r"[^\w'’ ]+", " ", first).replace("’", "'").split())
    first = _THANKS.sub("", first).strip()
    if not first:
        return None
    if _NO.fullmatch(first):
        return "no"
    if _YES.fullmatch(first):
        return "yes"
    return None


def settle_read_backs(settings: Settings, store: Store, campaigns: dict[str, Campaign], now: datetime,
                      report: InboundReport | None = None) -> int:
    """Readings still waiting when their survey has closed: as `[replies] unconfirmed_at_close` says.

    "human" (default): the reply goes to the human queue with the reading; "record": recorded as
    read (source "read-back-unconfirmed"); "drop": nothing recorded, the reply keeps a note. Runs
    before each round of replies, so before the close step's results are counted.
    """
    policy = settings.config.replies.unconfirmed_at_close
    with store.transaction() as s:
        read_back_store.forget_erased(s, now)
        campaign_ids = read_back_store.waiting_campaigns(s)
    settled = 0
    for campaign_id in campaign_ids:
        survey = campaigns.get(campaign_id)
        if not isinstance(survey, Survey) or now < survey.closes:
            continue
        while True:
            with store.transaction() as s:
                batch = read_back_store.waiting_in(s, campaign_id)
                for pending in batch:
                    n = _settle_at_close(s, settings, survey, pending, policy, now)
                    settled += n
                    if report is not None and policy == "human":
                        report.needs_human += n
            if len(batch) < 500:
                break
    return settled


def _settle_at_close(s: Session, settings: Settings, survey: Survey, pending: Pending, policy: str,
                     now: datetime) -> int:
    answers = read_back_store.answers_from_json(survey, read_back_store.jsonable(pending.answers))
    summary = reading_summary(survey, answers, settings.panel.language)
    why = f"the survey closed before read-back {pending.id} was answered"
    if policy == "record":
        if not read_back_store.move(s, pending.id, ReadBackState.RECORDED_AT_CLOSE, now):
            return 0
        if pending.member_id is not None and answers:
            response_store.record(s, survey, pending.member_id, answers, source=read_back_store.UNCONFIRMED_SOURCE,
                                  after_step=pending.after_step, now=now)
        read_back_store.note_on_message(s, pending.inbound_id, f"{why}: recorded as read ({summary})")
    elif policy == "drop":
        if not read_back_store.move(s, pending.id, ReadBackState.DROPPED_AT_CLOSE, now):
            return 0
        read_back_store.note_on_message(s, pending.inbound_id, f"{why}: dropped, nothing recorded ({summary})")
    else:
        if not read_back_store.move(s, pending.id, ReadBackState.TO_HUMAN, now):
            return 0
        read_back_store.note_on_message(s, pending.inbound_id, f"{why}: read as {summary}; nothing recorded "
                                        "(record it with `mailbot inbox resolve`)", to_human=True)
    return 1


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
    log.info("member marked undeliverable member=%s hard_bounces=%s soft_bounces=%s", member_id, hard, soft)


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
        addressed = outbox_store.addressed(s, outbox_id)
        if addressed is not None:
            return Match(addressed.member_id, addressed.campaign_id, addressed.id, addressed.step, "token")
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
