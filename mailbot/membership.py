"""The membership life cycle, as functions over a `Session`.

join request -> (confirmation link, double opt-in) -> member + consent record
-> welcome; profile changes; change of address confirmed from the new
address; pause until a date; leave; re-join; export of everything stored as
JSON; erasure that keeps the answers counting, detached from anybody.

Every function takes the session of the caller's `store.transaction()` and
`now`; nothing here reads the clock or sends mail: emails are queued in the
outbox (campaign "panel", step "notice-membership-…") and composed by the
sender from the templates `templates/<lang>/notice-membership-<what>.txt|html`.

A sign-up is not a member: it waits in `signups` (7 days) and becomes one only
when confirmed, so an address typed by somebody else never lands on the panel.
Emails to a sign-up (no member yet) and to a new address (not yet the
member's) carry the address in the outbox payload as `to`.

Whether an address is a member is never told to whoever asks: every join
request gets the same answer on the page; the email says the rest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from mailbot import links
from mailbot.membership_models import Consent, EmailChange, Signup, StaffAudit
from mailbot.panel.settings import Settings
from mailbot.people import MemberStatus
from mailbot.store import outbox as outbox_store
from mailbot.store import read_backs as read_back_store
from mailbot.store import report_cells
from mailbot.store.models import Answer, Inbound, Member, MemberTag, Outbox, Response
from mailbot.tokens import Keys

PENDING_DAYS = 7  # a sign-up or an address change not confirmed within this is forgotten
MAX_REQUESTS_PER_DAY = 3  # confirmation emails to one address per day: nobody can mail-bomb through us
LANGUAGES = ("nb", "nn", "en")
CAMPAIGN = "panel"
_FINISHED = ("sent", "failed", "skipped")

# Link purposes (salts): a token made for one can never be used for another.
JOIN = "join"
PROFILE = "profile"
EMAIL_CHANGE = "email-change"
ERASE = "erase"
EXPORT = "export"
LINK_DAYS = {PROFILE: 30, ERASE: PENDING_DAYS, EXPORT: PENDING_DAYS, EMAIL_CHANGE: PENDING_DAYS,
             JOIN: PENDING_DAYS}


class JoinOutcome(StrEnum):
    CONFIRMATION_SENT = "confirmation-sent"  # new address, or a former member: confirm by link
    ALREADY_MEMBER = "already-member"  # told so by email, not on the page
    INELIGIBLE = "ineligible"  # too young or outside the municipality (what the form said)
    TOO_MANY = "too-many"  # MAX_REQUESTS_PER_DAY reached: nothing sent
    INVALID = "invalid"  # not an email address


@dataclass(frozen=True)
class JoinRequest:
    outcome: JoinOutcome
    signup_id: int | None = None
    problems: tuple[str, ...] = ()  # eligibility problem codes: "age", "postcode", "birth_year"


@dataclass(frozen=True)
class Confirmed:
    member_id: int | None
    outcome: str  # "joined", "rejoined", "already", "expired", "unknown", "ineligible", "needs"
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConsentWording:
    """The consent text shown, its language and a version naming that exact text."""

    text: str
    language: str

    @property
    def version(self) -> str:
        return f"{self.language}-{hashlib.sha256(self.text.encode()).hexdigest()[:12]}"


# ---------------------------------------------------------------- pure checks


def normalise_email(value: str) -> str | None:
    """The address lower-cased and trimmed, or None if it does not look like one."""
    address = value.strip().lower()
    if len(address) > 254 or address.count("@") != 1:
        return None
    local, domain = address.split("@")
    if not local or "." not in domain or any(c.isspace() or c in "<>,;:\"()[]\\" for c in address):
        return None
    if domain.startswith(".") or domain.endswith(".") or ".." in domain:
        return None
    return address


def normalise_postcode(value: str | None) -> str | None:
    if value is None:
        return None
    code = value.strip().replace(" ", "")
    return code if code.isdigit() and len(code) == 4 else None


def eligibility(settings: Settings, birth_year: int | None, postcode: str | None, today: date) -> tuple[str, ...]:
    """What stops someone joining: "birth_year" (missing/impossible), "age" (too young), "postcode"."""
    problems: list[str] = []
    if birth_year is None or not (today.year - 120 <= birth_year <= today.year):
        problems.append("birth_year")
    elif today.year - birth_year < settings.panel.min_age:
        # Birth year only: someone who turns min_age this year is let in (the panel asks no birthday).
        problems.append("age")
    if postcode is None or not settings.postcode_allowed(postcode):
        problems.append("postcode")
    return tuple(problems)


# ---------------------------------------------------------------- helpers


def _link(settings: Settings, path: str, token: str) -> str:
    return f"{links.base_url(settings.panel)}/{path}/{token}"


def profile_url(settings: Settings, keys: Keys, member_id: int) -> str:
    return _link(settings, "profil", keys.link_token(PROFILE, {"m": member_id}))


def unsubscribe_link(settings: Settings, keys: Keys, member_id: int) -> str:
    return links.unsubscribe_url(settings.panel, keys.link_token(links.UNSUBSCRIBE, {"m": member_id}))


def _queue(session: Session, what: str, key: str, member_id: int | None, now: datetime,
           context: Mapping[str, Any], to: Mapping[str, str] | None = None) -> bool:
    payload: dict[str, Any] = {"kind": f"membership-{what}", "context": dict(context)}
    if to is not None:
        payload["to"] = dict(to)
    return outbox_store.queue(session, CAMPAIGN, f"notice-membership-{what}-{key}",
                              [member_id], now, payload=payload) > 0  # type: ignore[list-item]


def _member(session: Session, member_id: int) -> Member | None:
    return session.get(Member, member_id)


def _member_by_email(session: Session, address: str) -> Member | None:
    return session.scalars(
        select(Member).where(func.lower(Member.email) == address).order_by(Member.id)
    ).first()


def _set_tags(session: Session, member_id: int, wanted: Iterable[str], managed: Iterable[str]) -> None:
    """Make the member's tags among `managed` exactly `wanted`; other tags (set by staff) stay."""
    managed_set = set(managed)
    want = set(wanted) & managed_set
    have = set(session.scalars(select(MemberTag.tag).where(MemberTag.member_id == member_id)))
    gone = (have & managed_set) - want
    if gone:
        session.execute(delete(MemberTag).where(MemberTag.member_id == member_id, MemberTag.tag.in_(gone)))
    for tag in sorted(want - have):
        session.add(MemberTag(member_id=member_id, tag=tag))


def record_consent(session: Session, member_id: int, wording: ConsentWording, via: str, now: datetime) -> int:
    c = Consent(member_id=member_id, given_at=now, via=via, wording_version=wording.version,
                wording_language=wording.language, wording=wording.text)
    session.add(c)
    session.flush()
    return c.id


# ---------------------------------------------------------------- joining


def request_join(session: Session, settings: Settings, keys: Keys, email: str, now: datetime, *,
                 via: str = "email", language: str | None = None, birth_year: int | None = None,
                 postcode: str | None = None, consent: ConsentWording | None = None) -> JoinRequest:
    """Someone asks to join (web form, or "BLI MED" / any mail from a non-member): queue the right email.

    New or former members get a confirmation link (valid PENDING_DAYS); a
    current member gets a note saying they are already on the panel. Data
    given on the web form is checked for eligibility first (INELIGIBLE: nothing
    queued). By email, birth year and postcode are asked on the confirmation page.
    """
    address = normalise_email(email)
    if address is None:
        return JoinRequest(JoinOutcome.INVALID)
    lang = language if language in LANGUAGES else settings.panel.language
    code = normalise_postcode(postcode)
    if via == "web":
        problems = eligibility(settings, birth_year, code, now.astimezone(settings.panel.zone).date())
        if problems:
            return JoinRequest(JoinOutcome.INELIGIBLE, problems=problems)
    since = now - timedelta(days=1)
    recent = session.scalar(select(func.count()).select_from(Signup)
                            .where(Signup.email == address, Signup.created_at >= since)) or 0
    if recent >= MAX_REQUESTS_PER_DAY:
        return JoinRequest(JoinOutcome.TOO_MANY)
    signup = Signup(email=address, language=lang, birth_year=birth_year, postcode=code, via=via,
                    consent_version=consent.version if consent else None,
                    consent_text=consent.text if consent else None,
                    created_at=now, expires_at=now + timedelta(days=PENDING_DAYS))
    session.add(signup)
    session.flush()
    member = _member_by_email(session, address)
    if member is not None and member.status in (MemberStatus.ACTIVE, MemberStatus.PAUSED):
        signup.member_id = member.id
        signup.confirmed_at = now  # nothing to confirm; kept only for the per-day count, purged with the rest
        _queue(session, "already", f"s{signup.id}", member.id, now,
               {"profile_url": profile_url(settings, keys, member.id),
                "unsubscribe_url": unsubscribe_link(settings, keys, member.id)})
        return JoinRequest(JoinOutcome.ALREADY_MEMBER, signup.id)
    token = keys.link_token(JOIN, {"s": signup.id})
    _queue(session, "confirm", f"s{signup.id}", member.id if member else None, now,
           {"confirm_url": _link(settings, "bli-med/bekreft", token), "expires": now.isoformat(),
            "days": PENDING_DAYS},
           to={"email": address, "language": lang})
    return JoinRequest(JoinOutcome.CONFIRMATION_SENT, signup.id)


@dataclass(frozen=True)
class PendingSignup:
    id: int
    email: str
    language: str
    birth_year: int | None
    postcode: str | None
    has_consent: bool
    expired: bool
    confirmed: bool


def pending_signup(session: Session, signup_id: int, now: datetime) -> PendingSignup | None:
    s = session.get(Signup, signup_id)
    if s is None or s.email is None:
        return None
    return PendingSignup(s.id, s.email, s.language, s.birth_year, s.postcode, s.consent_version is not None,
                         s.expires_at <= now, s.confirmed_at is not None)


def confirm_join(session: Session, settings: Settings, keys: Keys, signup_id: int, now: datetime, *,
                 birth_year: int | None = None, postcode: str | None = None, language: str | None = None,
                 consent: ConsentWording | None = None) -> Confirmed:
    """The confirmation link was used (POST): make the member, record consent, queue the welcome.

    Values given here fill what the sign-up lacks (a join by email asked
    nothing). Using the link twice is harmless ("already").
    """
    s = session.get(Signup, signup_id, with_for_update=True)
    if s is None or s.email is None:
        return Confirmed(None, "unknown")
    if s.confirmed_at is not None:
        return Confirmed(s.member_id, "already")
    if s.expires_at <= now:
        return Confirmed(None, "expired")
    year = birth_year if birth_year is not None else s.birth_year
    code = normalise_postcode(postcode) if postcode else s.postcode
    lang = language if language in LANGUAGES else s.language
    wording = consent or (ConsentWording(s.consent_text, s.language) if s.consent_text else None)
    if wording is None:
        return Confirmed(None, "needs", ("consent",))
    problems = eligibility(settings, year, code, now.astimezone(settings.panel.zone).date())
    if problems:
        return Confirmed(None, "ineligible", problems)
    member = _member_by_email(session, s.email)
    outcome = "joined"
    if member is None:
        member = Member(email=s.email, language=lang, birth_year=year, postcode=code,
                        status=MemberStatus.ACTIVE.value, joined_at=now, changed_at=now)
        session.add(member)
        session.flush()
    else:
        outcome = "already" if member.status in (MemberStatus.ACTIVE, MemberStatus.PAUSED) else "rejoined"
        if outcome == "rejoined":
            member.status = MemberStatus.ACTIVE.value
            member.status_reason = "joined again"
            member.paused_until = None
        with report_cells.moving(session, [member.id]):  # their answers move to their new age band, district
            member.language, member.birth_year, member.postcode = lang, year, code
            member.changed_at = now
    s.confirmed_at = now
    s.member_id = member.id
    record_consent(session, member.id, wording, s.via, now)
    if outcome != "already":
        _queue(session, "welcome", f"s{s.id}", member.id, now,
               {"profile_url": profile_url(settings, keys, member.id),
                "unsubscribe_url": unsubscribe_link(settings, keys, member.id)})
    return Confirmed(member.id, outcome)


# ---------------------------------------------------------------- profile


@dataclass(frozen=True)
class Profile:
    member_id: int
    email: str
    language: str
    birth_year: int | None
    postcode: str | None
    district: str | None
    status: MemberStatus
    paused_until: datetime | None
    tags: tuple[str, ...]


def profile(session: Session, settings: Settings, member_id: int) -> Profile | None:
    """The member as the profile page shows them; None if unknown or erased."""
    m = _member(session, member_id)
    if m is None or m.email is None or m.status == MemberStatus.ERASED:
        return None
    tags = tuple(session.scalars(select(MemberTag.tag).where(MemberTag.member_id == m.id).order_by(MemberTag.tag)))
    return Profile(m.id, m.email, m.language, m.birth_year, m.postcode, settings.district_of(m.postcode),
                   MemberStatus(m.status), m.paused_until, tags)


def change_profile(session: Session, settings: Settings, member_id: int, now: datetime, *, language: str,
                   birth_year: int | None, postcode: str | None, topics: Sequence[str],
                   managed_topics: Sequence[str]) -> tuple[str, ...]:
    """Save the profile form; returns problems ("language", "birth_year", "postcode"), nothing saved if any."""
    m = _member(session, member_id)
    if m is None or m.email is None or m.status == MemberStatus.ERASED:
        return ("unknown",)
    problems = []
    if language not in LANGUAGES:
        problems.append("language")
    today = now.astimezone(settings.panel.zone).date()
    if birth_year is not None and not (today.year - 120 <= birth_year <= today.year):
        problems.append("birth_year")
    code = normalise_postcode(postcode) if postcode else None
    if postcode and (code is None or not settings.postcode_allowed(code)):
        problems.append("postcode")
    if problems:
        return tuple(problems)
    with report_cells.moving(session, [m.id]):  # their answers move to their new age band, district, gender
        m.language, m.birth_year, m.postcode, m.changed_at = language, birth_year, code, now
        _set_tags(session, m.id, topics, managed_topics)
    return ()


def request_email_change(session: Session, settings: Settings, keys: Keys, member_id: int, new_email: str,
                         now: datetime) -> bool:
    """Queue a confirmation link to the new address; False if it is not an address (or the limit is reached)."""
    address = normalise_email(new_email)
    m = _member(session, member_id)
    if address is None or m is None or m.email is None or m.status == MemberStatus.ERASED:
        return False
    recent = session.scalar(select(func.count()).select_from(EmailChange)
                            .where(EmailChange.member_id == member_id,
                                   EmailChange.created_at >= now - timedelta(days=1))) or 0
    if recent >= MAX_REQUESTS_PER_DAY:
        return False
    change = EmailChange(member_id=member_id, new_email=address, created_at=now,
                         expires_at=now + timedelta(days=PENDING_DAYS))
    session.add(change)
    session.flush()
    token = keys.link_token(EMAIL_CHANGE, {"r": change.id})
    _queue(session, "email-confirm", f"r{change.id}", member_id, now,
           {"confirm_url": _link(settings, "ny-adresse", token), "days": PENDING_DAYS},
           to={"email": address, "language": m.language})
    return True


def confirm_email_change(session: Session, request_id: int, now: datetime) -> str:
    """Move the member to the new address: "changed", "already", "expired", "taken" or "unknown"."""
    change = session.get(EmailChange, request_id, with_for_update=True)
    if change is None or change.new_email is None:
        return "unknown"
    if change.confirmed_at is not None:
        return "already"
    if change.expires_at <= now:
        return "expired"
    m = _member(session, change.member_id)
    if m is None or m.email is None or m.status == MemberStatus.ERASED:
        return "unknown"
    other = _member_by_email(session, change.new_email)
    if other is not None and other.id != m.id:
        return "taken"
    old = m.email
    m.email, m.changed_at = change.new_email, now
    change.confirmed_at = now
    _queue(session, "email-changed", f"r{change.id}", m.id, now, {"new_email": change.new_email},
           to={"email": old, "language": m.language})
    return "changed"


# ---------------------------------------------------------------- leave, pause, re-join


def leave(session: Session, member_id: int, now: datetime, *, via: str = "web") -> bool:
    """Unsubscribe at once (RFC 8058 one-click, footer link, STOPP); True if the member was on the panel."""
    m = _member(session, member_id)
    if m is None or m.status in (MemberStatus.ERASED, MemberStatus.UNSUBSCRIBED):
        return False
    m.status, m.status_reason, m.paused_until, m.changed_at = (
        MemberStatus.UNSUBSCRIBED.value, f"left ({via})", None, now)
    session.execute(update(Consent).where(Consent.member_id == member_id, Consent.withdrawn_at.is_(None))
                    .values(withdrawn_at=now))
    return True


def pause(session: Session, member_id: int, until: datetime, now: datetime) -> bool:
    """No panel emails until `until` (then they start again by themselves)."""
    m = _member(session, member_id)
    if m is None or m.email is None or m.status in (MemberStatus.ERASED, MemberStatus.UNDELIVERABLE):
        return False
    if until <= now:
        return False
    m.status, m.status_reason, m.paused_until, m.changed_at = MemberStatus.PAUSED.value, "paused (web)", until, now
    return True


def rejoin(session: Session, member_id: int, wording: ConsentWording, now: datetime, *, via: str = "web") -> bool:
    """A member who left (or paused) comes back; consent is recorded again with the wording shown."""
    m = _member(session, member_id)
    if m is None or m.email is None or m.status in (MemberStatus.ERASED, MemberStatus.UNDELIVERABLE):
        return False
    m.status, m.status_reason, m.paused_until, m.changed_at = MemberStatus.ACTIVE.value, "joined again", None, now
    record_consent(session, member_id, wording, f"{via}-rejoin", now)
    return True


# ---------------------------------------------------------------- audit


def audit(session: Session, actor: str, action: str, member_id: int | None, now: datetime,
          detail: str | None = None) -> None:
    """Note a use of personal data (export, erase, manual-answer, import). Never put an address in `detail`."""
    session.add(StaffAudit(at=now, actor=actor[:120], action=action[:30], member_id=member_id, detail=detail))


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    member_id: int | None
    detail: str | None


def audit_log(session: Session, since: datetime | None = None) -> list[AuditEntry]:
    q = select(StaffAudit).order_by(StaffAudit.id)
    if since is not None:
        q = q.where(StaffAudit.at >= since)
    return [AuditEntry(a.at, a.actor, a.action, a.member_id, a.detail) for a in session.scalars(q)]


# ---------------------------------------------------------------- export and erasure


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_member(session: Session, settings: Settings, member_id: int) -> dict[str, Any] | None:
    """Everything stored about a member, JSON-ready (GDPR art. 15 and 20); None if unknown or erased."""
    m = _member(session, member_id)
    if m is None or m.email is None:
        return None
    tags = list(session.scalars(select(MemberTag.tag).where(MemberTag.member_id == m.id).order_by(MemberTag.tag)))
    responses = []
    for r in session.scalars(select(Response).where(Response.member_id == m.id).order_by(Response.id)):
        answers = [
            {"question": a.question_id, "choice": a.choice, "number": a.number, "text": a.text}
            for a in session.scalars(select(Answer).where(Answer.response_id == r.id).order_by(Answer.id))
        ]
        responses.append({"campaign": r.campaign_id, "source": r.source, "first_at": _iso(r.first_at),
                          "updated_at": _iso(r.updated_at), "answers": answers})
    emails = [
        {"campaign": o.campaign_id, "step": o.step, "status": o.status, "queued_at": _iso(o.created_at),
         "sent_at": _iso(o.sent_at)}
        for o in session.scalars(select(Outbox).where(Outbox.member_id == m.id).order_by(Outbox.id))
    ]
    inbound = [
        {"received_at": _iso(i.received_at), "from": i.envelope_from, "kind": i.kind, "status": i.status,
         "campaign": i.campaign_id, "message": i.raw.decode("utf-8", "replace") if i.raw else None}
        for i in session.scalars(select(Inbound).where(Inbound.member_id == m.id).order_by(Inbound.id))
    ]
    consents = [
        {"given_at": _iso(c.given_at), "via": c.via, "wording_version": c.wording_version,
         "wording": c.wording, "withdrawn_at": _iso(c.withdrawn_at)}
        for c in session.scalars(select(Consent).where(Consent.member_id == m.id).order_by(Consent.id))
    ]
    return {
        "panel": settings.panel.name,
        "organisation": settings.panel.organisation,
        "member": {
            "id": m.id, "email": m.email, "name": m.name, "language": m.language, "birth_year": m.birth_year,
            "gender": m.gender, "postcode": m.postcode, "district": settings.district_of(m.postcode),
            "status": m.status,
            "status_reason": m.status_reason, "paused_until": _iso(m.paused_until),
            "joined_at": _iso(m.joined_at), "changed_at": _iso(m.changed_at), "tags": tags,
        },
        "consents": consents,
        "responses": responses,
        "emails": emails,
        "messages_received": inbound,
    }


def export_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)


def request_erasure(session: Session, settings: Settings, keys: Keys, member_id: int, now: datetime,
                    key: str = "") -> bool:
    """"SLETT" by email: queue a link that erases when used (POST). False if nothing to erase."""
    m = _member(session, member_id)
    if m is None or m.email is None or m.status == MemberStatus.ERASED:
        return False
    token = keys.link_token(ERASE, {"m": member_id})
    return _queue(session, "erase-confirm", key or now.strftime("%Y%m%d%H%M%S"), member_id, now,
                  {"confirm_url": _link(settings, "slett", token), "days": PENDING_DAYS})


def request_export(session: Session, settings: Settings, keys: Keys, member_id: int, now: datetime,
                   key: str = "") -> bool:
    """Queue a link to download all stored data (valid PENDING_DAYS)."""
    m = _member(session, member_id)
    if m is None or m.email is None or m.status == MemberStatus.ERASED:
        return False
    token = keys.link_token(EXPORT, {"m": member_id})
    return _queue(session, "export", key or now.strftime("%Y%m%d%H%M%S"), member_id, now,
                  {"export_url": _link(settings, "innsyn", token), "days": PENDING_DAYS})


@dataclass(frozen=True)
class Erased:
    member_id: int
    responses_kept: int
    outbox_anonymised: int
    inbound_forgotten: int


def erase(session: Session, member_id: int, now: datetime, *, actor: str) -> Erased | None:
    """Remove a member's personal data; their answers keep counting with no one behind them.

    Gone: address, name, birth year, postcode, tags, raw messages and their
    senders, consent records, pending sign-ups and address changes, the link
    between answers and the member, and the member in outbox rows and their
    payloads. Left: a row with status "erased" (never mailed again) and the
    audit entry. None if no such member; erasing twice is harmless.
    """
    m = session.get(Member, member_id, with_for_update=True)
    if m is None:
        return None
    with report_cells.moving(session, [m.id]):  # their answers keep counting, in the unknown cell
        kept = _erase(session, m, now)
    read_back_store.forget_erased(session, now)  # a reading waiting for the resident holds their words
    audit(session, actor, "erase", member_id, now,
          f"responses kept anonymously: {kept[0]}; outbox rows anonymised: {kept[1]}; "
          f"messages forgotten: {kept[2]}")
    return Erased(member_id, *kept)


def _erase(session: Session, m: Member, now: datetime) -> tuple[int, int, int]:
    addresses = {a for a in (m.email,) if a}
    addresses |= {a for a in session.scalars(select(EmailChange.new_email).where(EmailChange.member_id == m.id)) if a}
    kept = _count(session.execute(update(Response).where(Response.member_id == m.id).values(member_id=None)))
    anonymised = _count(session.execute(
        update(Outbox).where(Outbox.member_id == m.id)
        .values(member_id=None, payload=None, smtp_response=None, message_id=None)
    ))
    inbound_cond = Inbound.member_id == m.id
    if addresses:
        inbound_cond = inbound_cond | func.lower(Inbound.envelope_from).in_(sorted(addresses))
    forgotten = _count(session.execute(
        update(Inbound).where(inbound_cond)
        .values(raw=None, envelope_from=None, envelope_to=None, member_id=None, reason=None, outbox_id=None)
    ))
    session.execute(delete(MemberTag).where(MemberTag.member_id == m.id))
    session.execute(delete(Consent).where(Consent.member_id == m.id))
    session.execute(delete(EmailChange).where(EmailChange.member_id == m.id))
    signup_cond = Signup.member_id == m.id
    if addresses:
        signup_cond = signup_cond | Signup.email.in_(sorted(addresses))
    _forget_signups(session, signup_cond, erasing=True)
    m.email = m.name = m.postcode = m.status_reason = None
    m.birth_year = None
    m.gender = None
    m.paused_until = None
    m.language = "nb"
    m.status = MemberStatus.ERASED.value
    m.joined_at = m.changed_at = now  # the join date could single someone out
    session.flush()
    return kept, anonymised, forgotten


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _forget_signups(session: Session, condition: Any, *, erasing: bool = False) -> int:
    ids = list(session.scalars(select(Signup.id).where(condition)))
    if not ids:
        return 0
    steps = [f"notice-membership-{w}-s{i}" for i in ids for w in ("confirm", "already", "welcome")]
    rows = update(Outbox).where(Outbox.campaign_id == CAMPAIGN, Outbox.step.in_(steps))
    if erasing:
        session.execute(rows.values(payload=None, member_id=None))
    else:  # only mail already handled: a queued welcome still needs its payload
        session.execute(rows.where(Outbox.status.in_(_FINISHED)).values(payload=None))
    session.execute(delete(Signup).where(Signup.id.in_(ids)))
    return len(ids)


def purge_expired(session: Session, now: datetime) -> int:
    """Forget sign-ups and address changes past their expiry (and confirmed ones after a day).

    Run from every tick: a sign-up never confirmed leaves no address behind
    after PENDING_DAYS. Returns how many rows were removed.
    """
    cutoff = now - timedelta(days=1)
    n = _forget_signups(session, (Signup.expires_at <= now)
                        | (Signup.confirmed_at.is_not(None) & (Signup.confirmed_at <= cutoff)))
    changes = list(session.scalars(select(EmailChange.id).where(
        (EmailChange.expires_at <= now) | (EmailChange.confirmed_at.is_not(None) & (EmailChange.confirmed_at <= cutoff))
    )))
    if changes:
        steps = [f"notice-membership-{w}-r{i}" for i in changes for w in ("email-confirm", "email-changed")]
        session.execute(update(Outbox).where(Outbox.campaign_id == CAMPAIGN, Outbox.step.in_(steps),
                                             Outbox.status.in_(_FINISHED))
                        .values(payload=None))
        session.execute(delete(EmailChange).where(EmailChange.id.in_(changes)))
    return n + len(changes)
