"""`mailbot inbox`: the messages that need a person, and what staff do with them.

    mailbot inbox [--json] [--all]          list the queue (or every message with a note)
    mailbot inbox show ID                   the message's text, as the resident wrote it
    mailbot inbox resolve ID --answers "1 A 2 B"   record answers read by a person
    mailbot inbox dismiss ID --reason "…"   nothing to record; take it off the queue
    mailbot inbox undeliverable [--json]    members whose address bounced, and why

The typed text is shown to staff only; it is personal data and never leaves
this command. Exit codes: 0 done, 2 a bad id or answers that cannot be read
(nothing was changed).
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from mailbot import membership
from mailbot.campaigns import Survey
from mailbot.cli.app import EXIT_BAD_INPUT, app
from mailbot.cli.common import ConfigOption, open_store, settings_or_exit
from mailbot.panel.problems import ConfigError
from mailbot.panel.settings import Settings
from mailbot.people import MemberStatus
from mailbot.reading import read_message
from mailbot.reading.answers import parse_answers
from mailbot.reading.decode import body_text, decode, header_text
from mailbot.schedules import load_campaigns
from mailbot.states import InboundState
from mailbot.store import inbound as inbound_store
from mailbot.store import members as member_store
from mailbot.store import responses as response_store
from mailbot.store.models import Inbound, Member

inbox_app = typer.Typer(
    help="Messages that need a person: list, show, resolve, dismiss; undeliverable addresses.",
    invoke_without_command=True,
)
app.add_typer(inbox_app, name="inbox")

err = Console(stderr=True, soft_wrap=True, highlight=False)
out = Console(soft_wrap=True, highlight=False)


IdArgument = Annotated[int, typer.Argument(help="The message id shown by `mailbot inbox`.", show_default=False)]
ByOption = Annotated[str | None, typer.Option("--by", help="Who is acting (default: your login name).")]


@dataclass(frozen=True)
class QueuedMessage:
    """One inbound message as staff see it in the list."""

    id: int
    received: str
    status: str
    member_id: int | None
    member: str | None
    campaign: str | None
    reason: str | None
    text: str




def _bad(message: str) -> typer.Exit:
    err.print(message, markup=False)
    return typer.Exit(EXIT_BAD_INPUT)


def _typed_text(raw: bytes | None) -> str:
    if raw is None:
        return "(deleted after the retention period)"
    try:
        return read_message(raw).text
    except Exception as exc:  # a message the reader cannot open still belongs in the list
        return f"(could not be read: {type(exc).__name__})"


def _received(row: Inbound, settings: Settings) -> str:
    return row.received_at.astimezone(settings.panel.zone).strftime("%Y-%m-%d %H:%M")


def _queued(row: Inbound, settings: Settings, email: str | None) -> QueuedMessage:
    return QueuedMessage(row.id, _received(row, settings), row.status, row.member_id, email, row.campaign_id,
                         row.reason, _typed_text(row.raw))


@inbox_app.callback()
def inbox(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for scripts.")] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also messages already dealt with that carry a note (flags, bounces).")
    ] = False,
    config: ConfigOption = Path("config.toml"),
) -> None:
    """List the messages waiting for a person: id, received, member, campaign, reason, typed text.

    Example: mailbot inbox --json
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_or_exit(config)
    store = open_store(settings)
    try:
        with store.transaction() as s:
            query = select(Inbound, Member.email).join(Member, Member.id == Inbound.member_id, isouter=True)
            if show_all:
                query = query.where(Inbound.reason.is_not(None) | (Inbound.status == InboundState.NEEDS_HUMAN.value))
            else:
                query = query.where(Inbound.status == InboundState.NEEDS_HUMAN.value)
            rows = [_queued(row, settings, email) for row, email in s.execute(query.order_by(Inbound.id))]
    finally:
        store.dispose()
    if as_json:
        print(json.dumps([r.__dict__ for r in rows], ensure_ascii=False, indent=1))
        return
    if not rows:
        out.print("Nothing waits for a person.")
        return
    table = Table(title="Messages that need a person" if not show_all else "Messages with a note")
    for column in ("id", "received", *(("status",) if show_all else ()), "member", "campaign", "reason", "text"):
        table.add_column(column, no_wrap=column in ("id", "received"), overflow="fold")
    for r in rows:
        member = f"{r.member_id} {r.member or ''}".strip() if r.member_id else "(not a member)"
        text = " ".join(r.text.split())
        table.add_row(str(r.id), r.received, *((r.status,) if show_all else ()), member, r.campaign or "",
                      r.reason or "", text[:200] + ("…" if len(text) > 200 else ""))
    out.print(table)
    out.print(f"{len(rows)} message(s). See one with: mailbot inbox show ID", markup=False)


def _row(s: Any, inbound_id: int) -> Inbound:
    row = inbound_store.get(s, inbound_id)
    if row is None:
        raise _bad(f"There is no message with id {inbound_id}; nothing was changed. "
                   "See the ids with: mailbot inbox --all")
    return row


@inbox_app.command("show")
def show(inbound_id: IdArgument, config: ConfigOption = Path("config.toml")) -> None:
    """Print a message's sender, subject, date, why it is here, and its whole text part.

    Example: mailbot inbox show 12
    """
    settings = settings_or_exit(config)
    store = open_store(settings)
    try:
        with store.transaction() as s:
            row = _row(s, inbound_id)
            raw, reason, status, received = row.raw, row.reason, row.status, _received(row, settings)
            member, campaign = row.member_id, row.campaign_id
    finally:
        store.dispose()
    out.print(f"Message {inbound_id}, received {received}, {status}", markup=False)
    out.print(f"Member: {member or '(not a member)'}   Campaign: {campaign or '-'}", markup=False)
    if reason:
        out.print(f"Why: {reason}", markup=False)
    if raw is None:
        out.print("\nThe message itself was deleted after the retention period.", markup=False)
        return
    decoded = decode(raw)
    if decoded.message is None:
        out.print(f"\nThe message cannot be opened: {decoded.refused}", markup=False)
        return
    msg = decoded.message
    for name in ("From", "To", "Subject", "Date"):
        out.print(f"{name}: {header_text(msg, name)[:300]}", markup=False)
    out.print("", markup=False)
    try:
        out.print(body_text(msg).text, markup=False)
    except Exception as exc:
        out.print(f"(the text cannot be shown: {type(exc).__name__})", markup=False)


def _survey(settings: Settings, campaign_id: str | None) -> Survey:
    try:
        campaigns = {c.id: c for c in load_campaigns(settings)}
    except ConfigError as exc:
        for p in exc.problems:
            err.print(str(p), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if campaign_id is None:
        raise _bad("The message names no campaign; nothing was changed. Add --campaign ID "
                   f"(one of: {', '.join(campaigns) or 'none'}).")
    survey = campaigns.get(campaign_id)
    if not isinstance(survey, Survey):
        raise _bad(f"There is no survey {campaign_id!r} in {settings.schedules_dir}; nothing was changed.")
    return survey


@inbox_app.command("resolve")
def resolve(
    inbound_id: IdArgument,
    answers: Annotated[str, typer.Option("--answers", help='The answers as a resident would write them: "1 A 2 B".',
                                         show_default=False)],
    member_id: Annotated[int | None, typer.Option("--member", help="The member the answers belong to, when the "
                                                  "message names nobody (see mailbot members list).")] = None,
    campaign_id: Annotated[str | None, typer.Option("--campaign", help="The survey, when the message names none.")]
    = None,
    by: ByOption = None,
    config: ConfigOption = Path("config.toml"),
) -> None:
    """Record answers for a message a person has read, and take it off the queue.

    The answers are read with the same reader as replies, against the
    message's survey, and recorded with source "staff". Nothing is changed if
    any of them cannot be read.

    Example: mailbot inbox resolve 12 --answers "1 A 2 B,C 3 4"
    """
    settings = settings_or_exit(config)
    actor = by or getpass.getuser()
    now = datetime.now(UTC)
    store = open_store(settings)
    try:
        with store.transaction() as s:
            row = _row(s, inbound_id)
            if row.status == InboundState.NEW.value:
                raise _bad(f"Message {inbound_id} has not been read yet; run mailbot tick first. Nothing was changed.")
            survey = _survey(settings, campaign_id or row.campaign_id)
            who = member_id or row.member_id
            if who is None:
                raise _bad(f"Message {inbound_id} names no member; nothing was changed. Add --member ID "
                           "(see mailbot members list).")
            member = member_store.get_member(s, who)
            if member is None or member.status == MemberStatus.ERASED:
                raise _bad(f"There is no member {who} (or the member was erased); nothing was changed.")
            parsed = parse_answers(answers, survey)
            if not parsed.answers or parsed.unsure:
                problems = "; ".join(f"{q}: {why}" for q, why in parsed.unsure.items()) or "no answer found"
                raise _bad(f"Could not read {answers!r} as answers to {survey.id}: {problems}. "
                           f"Write them like: 1 A 2 B,C 3 4. Nothing was changed.")
            response_store.record(s, survey, who, parsed.answers, source="staff", after_step=None, now=now)
            recorded = ", ".join(parsed.answers)
            note = f"resolved by {actor}: recorded {recorded}"
            inbound_store.settle(s, row.id, InboundState.DONE, now, kind=row.kind, member_id=who,
                                 campaign_id=survey.id, outbox_id=row.outbox_id,
                                 reason="; ".join(r for r in (row.reason, note) if r)[:2000])
            membership.audit(s, actor, "manual-answer", who, now, f"inbound {row.id}, {survey.id}: {recorded}")
    finally:
        store.dispose()
    out.print(f"Recorded for member {who} in {survey.id}:", markup=False)
    for q in survey.questions:
        if q.id in parsed.answers:
            value = parsed.answers[q.id]
            shown = ", ".join(str(v) for v in value) if isinstance(value, tuple) else str(value)
            out.print(f"  {q.number}. {q.text}: {shown}", markup=False)
    out.print(f"Message {inbound_id} is done.", markup=False)


@inbox_app.command("dismiss")
def dismiss(
    inbound_id: IdArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why nothing is recorded (kept with the message).",
                                        show_default=False)],
    by: ByOption = None,
    config: ConfigOption = Path("config.toml"),
) -> None:
    """Take a message off the queue without recording anything, saying why.

    Example: mailbot inbox dismiss 12 --reason "a question for the planning office, forwarded"
    """
    settings = settings_or_exit(config)
    if not reason.strip():
        raise _bad("Write why with --reason \"…\"; nothing was changed.")
    actor = by or getpass.getuser()
    now = datetime.now(UTC)
    store = open_store(settings)
    try:
        with store.transaction() as s:
            row = _row(s, inbound_id)
            if row.status == InboundState.NEW.value:
                raise _bad(f"Message {inbound_id} has not been read yet; run mailbot tick first. Nothing was changed.")
            note = f"dismissed by {actor}: {' '.join(reason.split())}"
            inbound_store.settle(s, row.id, InboundState.IGNORED, now, kind=row.kind, member_id=row.member_id,
                                 campaign_id=row.campaign_id, outbox_id=row.outbox_id,
                                 reason="; ".join(r for r in (row.reason, note) if r)[:2000])
    finally:
        store.dispose()
    out.print(f"Message {inbound_id} dismissed.", markup=False)


@inbox_app.command("undeliverable")
def undeliverable(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for scripts.")] = False,
    config: ConfigOption = Path("config.toml"),
) -> None:
    """Members no email goes to because their address bounced, with the reason.

    Example: mailbot inbox undeliverable
    """
    settings = settings_or_exit(config)
    store = open_store(settings)
    try:
        with store.transaction() as s:
            rows = [{"id": m.id, "email": m.email, "name": m.name, "since": _local(m.changed_at, settings),
                     "reason": m.status_reason}
                    for m in s.scalars(select(Member).where(Member.status == MemberStatus.UNDELIVERABLE.value)
                                       .order_by(Member.id))]
    finally:
        store.dispose()
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        out.print("No member is marked undeliverable.")
        return
    table = Table(title="Undeliverable addresses")
    for column in ("id", "email", "name", "since", "reason"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(*(str(r[c] or "") for c in ("id", "email", "name", "since", "reason")))
    out.print(table)


def _local(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(settings.panel.zone).strftime("%Y-%m-%d %H:%M")
