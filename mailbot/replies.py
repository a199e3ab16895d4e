"""Act on stored inbound mail: find who and what it answers, record, reply.

The reading itself is pure (`mailbot.reading`); this module only looks things
up and writes. A reply is matched by the token in the address it was sent to
first, then by In-Reply-To/References, then by the sender's address. Every
message ends in a state: done, ignored (a machine), or needs-human with the
reason; none is dropped, and a failure on one message never stops the rest.
"""

from __future__ import annotations

import email.utils
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.campaigns import Campaign, Survey
from mailbot.config import Settings
from mailbot.people import MemberStatus
from mailbot.reading import read_message
from mailbot.states import InboundState
from mailbot.store import Store
from mailbot.store import inbound as inbound_store
from mailbot.store import members as member_store
from mailbot.store import outbox as outbox_store
from mailbot.store import responses as response_store
from mailbot.store.models import Member, Outbox
from mailbot.tokens import BadToken, Keys, token_from_address

log = logging.getLogger("mailbot.replies")


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
    how: str  # token | thread | sender | none


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


def _read_one(settings: Settings, s: Session, keys: Keys, campaigns: dict[str, Campaign], inbound_id: int,
              now: datetime, report: InboundReport) -> None:
    row = inbound_store.get(s, inbound_id)
    if row is None or row.status != InboundState.NEW.value:
        return
    raw = row.raw or b""
    headers = message_from_bytes(raw[:65536], policy=policy.compat32)
    recipients = [a for a in (row.envelope_to or "").split(",") if a]
    match = _match(settings, s, keys, headers, recipients)
    survey = campaigns.get(match.campaign_id) if match.campaign_id else None
    reading = read_message(raw, survey if isinstance(survey, Survey) else None, _own_addresses(settings))

    def settle(state: InboundState, reason: str | None = None, member_id: int | None = match.member_id) -> None:
        inbound_store.settle(s, inbound_id, state, now, kind=reading.kind, member_id=member_id,
                             campaign_id=match.campaign_id, outbox_id=match.outbox_id, reason=reason)

    if reading.kind == "bounce":
        report.machines += 1
        member_id = _bounced_member(settings, s, keys, reading, recipients) or match.member_id
        if member_id and reading.bounce and reading.bounce.permanent:
            member_store.set_status(s, member_id, MemberStatus.UNDELIVERABLE,
                                    f"hard bounce: {', '.join(reading.bounce.addresses)[:200]}", now)
        settle(InboundState.IGNORED, "bounce", member_id)
        return
    if reading.kind == "auto-reply":
        report.machines += 1
        settle(InboundState.IGNORED, "automatic reply")
        return
    sender = _sender(headers)
    if sender.lower() in {a.lower() for a in _own_addresses(settings)}:
        settle(InboundState.IGNORED, "from ourselves")
        return
    member_id = match.member_id
    if member_id is None:
        settle(InboundState.NEEDS_HUMAN, "sender is not a member and the message names no campaign")
        report.needs_human += 1
        return
    if reading.kind == "command":
        report.commands += 1
        _command(settings, s, member_id, reading, inbound_id, headers, now)
        settle(InboundState.DONE, f"command {reading.command}")
        return
    report.replies += 1
    if not isinstance(survey, Survey):
        settle(InboundState.NEEDS_HUMAN, "a reply, but not to a survey we can find")
        report.needs_human += 1
        return
    if now >= survey.closes:
        _auto_answer(settings, s, member_id, survey.id, "notice-closed", {"kind": "closed"}, headers, now)
        settle(InboundState.DONE, "arrived after close")
        return
    flags = []
    member = s.get(Member, member_id)
    if member is not None and member.email and sender and sender.lower() != member.email.lower():
        flags.append(f"sent from another address ({sender})")
    answers = dict(reading.answers)
    unsure = dict(getattr(reading, "unsure", {}) or {})
    if answers:
        response_store.record(s, survey, member_id, answers, source="reply", after_step=match.step, now=now)
        report.answered += 1
        current = response_store.answers_of(s, survey, member_id)
        missing = [q.id for q in survey.questions if q.required and q.id not in current and q.id not in unsure]
        _auto_answer(settings, s, member_id, survey.id, f"receipt-{inbound_id}",
                     {"kind": "receipt", "recorded": _jsonable(current), "missing": missing, "unsure": unsure},
                     headers, now)
    else:
        _auto_answer(settings, s, member_id, survey.id, f"receipt-{inbound_id}", {"kind": "not-understood"},
                     headers, now)
    why = reading.needs_human or ("; ".join(f"{q}: {r}" for q, r in unsure.items()) if unsure else None)
    if not answers and not why:
        why = "no answer could be read"
    reasons = [r for r in (why, *flags) if r]
    if why:
        settle(InboundState.NEEDS_HUMAN, "; ".join(reasons))
        report.needs_human += 1
    else:
        settle(InboundState.DONE, "; ".join(reasons) or None)


def _jsonable(answers: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in answers.items()}


def _auto_answer(settings: Settings, s: Session, member_id: int, campaign_id: str, step: str,
                 payload: dict[str, Any], headers: Message, now: datetime) -> bool:
    """Queue an automatic answer, at most N per member per day (loop and flood safety)."""
    limit = settings.config.replies.max_auto_answers_per_day
    if outbox_store.automatic_answers_since(s, member_id, now - timedelta(days=1)) >= limit:
        log.info("automatic answer withheld (daily limit) member=%s campaign=%s", member_id, campaign_id)
        return False
    mid = headers.get("Message-ID")
    if mid:
        payload = {**payload, "in_reply_to": str(mid).strip()}
    return outbox_store.queue_one(s, campaign_id, step, member_id, now, payload=payload)


def _command(settings: Settings, s: Session, member_id: int, reading: Any, inbound_id: int, headers: Message,
             now: datetime) -> None:
    command = reading.command
    value = getattr(reading, "command_value", None)
    context: dict[str, Any] = {"command": command}
    if command == "unsubscribe":
        member_store.set_status(s, member_id, MemberStatus.UNSUBSCRIBED, "asked by email", now)
    elif command == "pause":
        member_store.set_status(s, member_id, MemberStatus.PAUSED, "asked by email", now)
    elif command == "resume":
        member_store.set_status(s, member_id, MemberStatus.ACTIVE, "asked by email", now)
    elif command == "language" and value in ("nb", "nn", "en"):
        member = s.get(Member, member_id)
        if member is not None:
            member.language = str(value)
            member.changed_at = now
        context["language"] = value
    _auto_answer(settings, s, member_id, "panel", f"notice-{command}-{inbound_id}",
                 {"kind": str(command), "context": context}, headers, now)


def _sender(headers: Message) -> str:
    return email.utils.parseaddr(str(headers.get("From", "")))[1]


def _match(settings: Settings, s: Session, keys: Keys, headers: Message, recipients: list[str]) -> Match:
    local = settings.panel.local_part
    addresses = list(recipients)
    for h in ("To", "Cc", "Delivered-To", "X-Original-To"):
        addresses += [a for _, a in email.utils.getaddresses([str(v) for v in headers.get_all(h, [])])]
    for address in addresses:
        token = token_from_address(address, local)
        if not token:
            continue
        try:
            outbox_id = keys.read_address_token(token)
        except BadToken:
            continue
        row = s.get(Outbox, outbox_id)
        if row is not None:
            return Match(row.member_id, row.campaign_id, row.id, row.step, "token")
    refs = " ".join(str(headers.get(h, "")) for h in ("In-Reply-To", "References")).split()
    row = outbox_store.by_message_id(s, refs)
    if row is not None:
        return Match(row.member_id, row.campaign_id, row.id, row.step, "thread")
    sender = _sender(headers)
    member = member_store.member_by_email(s, sender) if sender else None
    if member is not None:
        latest = s.scalars(select(Outbox).where(Outbox.member_id == member.id, Outbox.step == "invitation")
                           .order_by(Outbox.id.desc())).first()
        return Match(member.id, latest.campaign_id if latest else None, latest.id if latest else None,
                     latest.step if latest else None, "sender")
    return Match(None, None, None, None, "none")


def _bounced_member(settings: Settings, s: Session, keys: Keys, reading: Any, recipients: list[str]) -> int | None:
    tokens = [t for t in (getattr(reading.bounce, "token", None),) if t]
    tokens += [t for t in (token_from_address(a, "bounces") for a in recipients) if t]
    for token in tokens:
        try:
            row = s.get(Outbox, keys.read_address_token(token, "bounce"))
        except BadToken:
            continue
        if row is not None:
            return row.member_id
    for address in getattr(reading.bounce, "addresses", ()) or ():
        member = member_store.member_by_email(s, address)
        if member is not None:
            return member.id
    return None
