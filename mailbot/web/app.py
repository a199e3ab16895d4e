"""The web edge: one-click answers, the survey form, confirming a read-back (`/stemmer/TOKEN`), leaving,
joining, profile, export, erasure and the public results report of a closed survey (`/resultater/CAMPAIGN`).

Thin by design: each handler reads a signed token, opens one transaction and
calls the core (`mailbot.store.responses.record`, `mailbot.membership`).
GET never changes anything (mail scanners and link previews follow every
link); every change is a POST carrying the form guard of its token (see
`mailbot.web.guard`), except the RFC 8058 one-click unsubscribe that mail
providers POST with `List-Unsubscribe=One-Click` and nothing else.

A link that is not ours (`BadToken`) and one that is ours but too old
(`ExpiredToken`, or a survey past its close plus GRACE) get different pages,
each saying what happened and what to do. Pages never say whether an
address is a member.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from mailbot import links, membership
from mailbot.campaigns import AnswerValue, Campaign, Question, QuestionType, ResultsPolicy, Survey
from mailbot.panel.settings import Settings
from mailbot.people import MemberStatus
from mailbot.replies import READ_BACK_LINK, answer_words
from mailbot.store import Store, utcnow
from mailbot.store import read_backs as read_back_store
from mailbot.store import responses as response_store
from mailbot.store.models import Member
from mailbot.store.read_backs import Pending, ReadBackState
from mailbot.tokens import BadToken, ExpiredToken, Keys
from mailbot.web.guard import Guard, RateLimit, check_guard, form_guard
from mailbot.web.pages import Pages

GRACE = timedelta(days=7)  # answer links keep explaining themselves this long after the survey closed
MAX_TEXT = 5000  # characters in a free-text answer
MAX_BODY = 64 * 1024
REPORT_RECHECK = 1.0  # seconds a kept report is served before the answers are looked at again
# Topics of interest a member may tick on the profile page; stored as tags of the same name.
TOPICS = ("klima", "avfall", "helse", "eldre", "byutvikling", "digitale-tjenester", "kultur", "samferdsel")


class Bad(Exception):
    """Stop handling: show this response (a page saying what happened and what to do)."""

    def __init__(self, response: Response):
        super().__init__("bad request")
        self.response = response


@dataclass(frozen=True)
class AnswerLink:
    token: str
    member_id: int
    survey: Survey
    lang: str


class Web:
    def __init__(self, settings: Settings, store: Store, keys: Keys, campaigns: Mapping[str, Campaign], *,
                 clock: Callable[[], datetime], topics: Sequence[str]):
        self.settings = settings
        self.store = store
        self.keys = keys
        self.campaigns = dict(campaigns)
        self.clock = clock
        self.topics = tuple(topics)
        self.pages = Pages(settings.templates_dir)
        self.zone = settings.panel.timezone
        self._css = self.pages.static("site.css") or b""
        # campaign id -> (answers version, report HTML, when the version was last checked); see results_get
        self._reports: dict[str, tuple[tuple[object, ...], str, float]] = {}
        self._report_locks: dict[str, threading.Lock] = {}
        self._report_locks_mutex = threading.Lock()

    @contextmanager
    def tx(self) -> Iterator[Session]:
        """One short transaction per request (SQLite takes its write lock at BEGIN)."""
        with self.store.transaction() as s:
            yield s

    # ------------------------------------------------------------ rendering

    def page(self, name: str, lang: str, http_status: int = 200, **context: Any) -> HTMLResponse:
        panel = self.settings.panel
        html = self.pages.render(name, lang, panel=panel, zone=self.zone, **context)
        return HTMLResponse(html, status_code=http_status)

    def bad_link(self, lang: str, what: str = "link") -> Bad:
        return Bad(self.page("bad-link.html", lang, 400, what=what))

    def expired(self, lang: str, what: str, **context: Any) -> Bad:
        return Bad(self.page("expired.html", lang, 410, what=what, **context))

    def lang_of(self, request: Request) -> str:
        wanted = request.query_params.get("lang", "")
        return wanted if wanted in membership.LANGUAGES else self.settings.panel.language

    def read(self, purpose: str, token: str, lang: str, *, days: int | None = None) -> dict[str, object]:
        try:
            return self.keys.read_link_token(purpose, token, max_age_seconds=days * 86400 if days else None)
        except ExpiredToken as exc:
            raise self.expired(lang, purpose, signed_at=exc.signed_at) from None
        except BadToken:
            raise self.bad_link(lang, purpose) from None

    def member_of(self, s: Session, data: Mapping[str, object], lang: str) -> Member:
        member_id = data.get("m")
        if not isinstance(member_id, int):
            raise self.bad_link(lang)
        m = s.get(Member, member_id)
        if m is None or m.email is None or m.status == MemberStatus.ERASED:
            raise Bad(self.page("gone.html", lang, 410))
        return m

    # ------------------------------------------------------------ answers

    def answer_link(self, s: Session, token: str, now: datetime) -> AnswerLink:
        lang: str = self.settings.panel.language
        data = self.read(links.ANSWER, token, lang)
        m = self.member_of(s, data, lang)
        lang = m.language
        campaign = self.campaigns.get(str(data.get("c")))
        if not isinstance(campaign, Survey):
            raise Bad(self.page("gone.html", lang, 410, what="survey"))
        if now >= campaign.closes + GRACE:
            raise self.expired(lang, "answer", survey=campaign)
        if now >= campaign.closes:
            raise Bad(self.page("closed.html", lang, 410, survey=campaign))
        if now < campaign.opens:
            raise Bad(self.page("not-open.html", lang, 403, survey=campaign))
        return AnswerLink(token, m.id, campaign, lang)

    def chosen_value(self, q: Question, raw: str) -> AnswerValue | None:
        """A one-click or form value checked against the question; None if it is not one of its answers."""
        if q.type == QuestionType.CHOICE:
            return raw if raw in q.options else None
        if q.type == QuestionType.SCALE:
            try:
                n = int(raw)
            except ValueError:
                return None
            return n if q.min is not None and q.max is not None and q.min <= n <= q.max else None
        return None

    def survey_view(self, a: AnswerLink, current: Mapping[str, AnswerValue], **context: Any) -> dict[str, Any]:
        return {"survey": a.survey, "token": a.token, "current": current,
                "guard": form_guard(self.keys, "survey", a.token),
                "form_url": f"/svar/{a.token}", "errors": {}, "nothing": False, **context}

    def one_click_get(self, token: str, qid: str, value: str) -> Response:
        now = self.clock()
        with self.tx() as s:
            a = self.answer_link(s, token, now)
            q = a.survey.question(qid)
            chosen = self.chosen_value(q, value) if q else None
            if q is None or chosen is None:
                raise self.bad_link(a.lang, "answer-value")
            return self.page("answer-one.html", a.lang, **self.survey_view(
                a, {}, question=q, chosen=chosen, action=f"/svar/{token}/{qid}/{value}",
                one_guard=form_guard(self.keys, "answer", token)))

    def one_click_post(self, token: str, qid: str, value: str, form: FormData) -> Response:
        now = self.clock()
        for attempt in range(3):
            try:
                with self.tx() as s:
                    a = self.answer_link(s, token, now)
                    if not check_guard(self.keys, "answer", token, _one(form, "guard")):
                        raise Bad(self.page("forbidden.html", a.lang, 403))
                    q = a.survey.question(qid)
                    chosen = self.chosen_value(q, _one(form, "answer") or value) if q else None
                    if q is None or chosen is None:
                        raise self.bad_link(a.lang, "answer-value")
                    response_store.record(s, a.survey, a.member_id, {q.id: chosen}, source="click",
                                          after_step=None, now=now)
                    current = response_store.answers_of(s, a.survey, a.member_id)
                break
            except IntegrityError:
                # Two first answers at once (a double click on PostgreSQL): the retry sees the first's row.
                if attempt == 2:
                    raise
        remaining = [x for x in a.survey.questions if x.id not in current]
        return self.page("answered.html", a.lang, **self.survey_view(
            a, current, question=q, chosen=chosen, remaining=remaining))

    def record(self, a: AnswerLink, answers: Mapping[str, AnswerValue], now: datetime) -> dict[str, AnswerValue]:
        """Record and return the member's answers now; retried when two first answers race."""
        for attempt in range(3):
            try:
                with self.tx() as s:
                    response_store.record(s, a.survey, a.member_id, answers, source="click", after_step=None,
                                          now=now)
                    return response_store.answers_of(s, a.survey, a.member_id)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def form_get(self, token: str) -> Response:
        now = self.clock()
        with self.tx() as s:
            a = self.answer_link(s, token, now)
            current = response_store.answers_of(s, a.survey, a.member_id)
        return self.page("survey.html", a.lang, **self.survey_view(a, current, errors={}))

    def form_post(self, token: str, form: FormData) -> Response:
        now = self.clock()
        with self.tx() as s:
            a = self.answer_link(s, token, now)
        if not check_guard(self.keys, "survey", token, _one(form, "guard")):
            raise Bad(self.page("forbidden.html", a.lang, 403))
        answers: dict[str, AnswerValue] = {}
        errors: dict[str, str] = {}
        for q in a.survey.questions:
            values = [v for v in form.getlist(f"q-{q.id}") if isinstance(v, str) and v.strip()]
            if not values:
                continue
            if q.type == QuestionType.MULTI:
                picked = tuple(o for o in q.options if o in values)
                if len(picked) != len(set(values)):
                    errors[q.id] = "option"
                elif picked:
                    answers[q.id] = picked
            elif q.type == QuestionType.TEXT:
                text = values[0].strip()
                if len(text) > MAX_TEXT:
                    errors[q.id] = "too_long"
                else:
                    answers[q.id] = text
            else:
                chosen = self.chosen_value(q, values[0])
                if chosen is None:
                    errors[q.id] = "option"
                else:
                    answers[q.id] = chosen
        if errors or not answers:
            return self.page("survey.html", a.lang, 400 if errors else 200, **self.survey_view(
                a, answers, errors=errors, nothing=not answers and not errors))
        current = self.record(a, answers, now)
        remaining = [x for x in a.survey.questions if x.id not in current]
        return self.page("answered.html", a.lang, **self.survey_view(
            a, current, question=None, chosen=None, remaining=remaining))

    # ------------------------------------------------------------ read-backs ("Ja, det stemmer")

    def read_back_of(self, s: Session, token: str) -> tuple[Pending, Survey, Member]:
        """The reading a read-back link names, its survey and its member; a page saying why not otherwise."""
        lang: str = self.settings.panel.language
        data = self.read(READ_BACK_LINK, token, lang)
        m = self.member_of(s, data, lang)
        read_back_id = data.get("r")
        if not isinstance(read_back_id, int):
            raise self.bad_link(m.language)
        found = read_back_store.get(s, read_back_id)
        if found is None or found.member_id != m.id:
            raise self.bad_link(m.language)
        survey = self.campaigns.get(found.campaign_id)
        if not isinstance(survey, Survey):
            raise Bad(self.page("gone.html", m.language, 410, what="survey"))
        pending = read_back_store.get(s, read_back_id, survey)
        assert pending is not None
        return pending, survey, m

    def read_back_view(self, token: str, pending: Pending, survey: Survey, m: Member, now: datetime,
                       state: str) -> dict[str, Any]:
        lang = m.language
        lines = [(q.number, q.text, answer_words(q, pending.answers[q.id], lang)) for q in survey.questions
                 if q.id in pending.answers]
        unreadable = [(q.number, q.text) for q in survey.questions
                      if q.id in pending.unsure and q.id not in pending.answers]
        open_now = survey.opens <= now < survey.closes
        form_url = f"/svar/{self.keys.link_token(links.ANSWER, {'m': m.id, 'c': survey.id})}" if open_now else None
        return {"state": state, "survey": survey, "token": token, "lines": lines, "unreadable": unreadable,
                "guard": form_guard(self.keys, "read-back", token), "form_url": form_url}

    def read_back_state(self, pending: Pending, survey: Survey, m: Member, now: datetime) -> str:
        """What the link shows: the question ("ask"), or how the reading has ended."""
        if pending.status in (ReadBackState.CONFIRMED, ReadBackState.CORRECTED, ReadBackState.RECORDED_AT_CLOSE):
            return "recorded"
        if pending.status == ReadBackState.SUPERSEDED:
            return "replaced"
        if pending.status == ReadBackState.REJECTED:
            return "rejected"
        if pending.status == ReadBackState.ERASED:
            raise Bad(self.page("gone.html", m.language, 410))
        if now >= survey.closes + GRACE:
            raise self.expired(m.language, "answer", survey=survey)
        if now >= survey.closes or pending.status != ReadBackState.WAITING:
            raise Bad(self.page("closed.html", m.language, 410, survey=survey))
        return "ask"

    def read_back_get(self, token: str) -> Response:
        now = self.clock()
        with self.tx() as s:
            pending, survey, m = self.read_back_of(s, token)
            state = self.read_back_state(pending, survey, m, now)
            return self.page("read-back.html", m.language, **self.read_back_view(token, pending, survey, m, now,
                                                                                  state))

    def read_back_post(self, token: str, form: FormData) -> Response:
        """Record the reading as read, once: a second press (or a reply that confirmed it) changes nothing."""
        now = self.clock()
        for attempt in range(3):
            try:
                with self.tx() as s:
                    pending, survey, m = self.read_back_of(s, token)
                    if not check_guard(self.keys, "read-back", token, _one(form, "guard")):
                        raise Bad(self.page("forbidden.html", m.language, 403))
                    state = self.read_back_state(pending, survey, m, now)
                    if state == "ask" and read_back_store.move(s, pending.id, ReadBackState.CONFIRMED, now):
                        response_store.record(s, survey, m.id, pending.answers, source=pending.source,
                                              after_step=pending.after_step, now=now)
                        read_back_store.note_on_message(s, pending.inbound_id,
                                                        f"read-back {pending.id} confirmed by the resident (link)")
                        state = "done"
                    elif state == "ask":
                        state = "recorded"
                    return self.page("read-back.html", m.language, **self.read_back_view(
                        token, pending, survey, m, now, state))
            except IntegrityError:
                # Two first answers at once (PostgreSQL): the retry sees the other's response row.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # ------------------------------------------------------------ leaving and pausing

    def unsubscribe_view(self, token: str, m: Member, now: datetime, **context: Any) -> dict[str, Any]:
        today = now.astimezone(self.settings.panel.zone).date()
        return {"token": token, "member_status": m.status, "paused_until": m.paused_until,
                "guard": form_guard(self.keys, "unsubscribe", token),
                "profile_url": membership.profile_url(self.settings, self.keys, m.id),
                "default_pause": (today + timedelta(days=90)).isoformat(),
                "min_pause": (today + timedelta(days=1)).isoformat(),
                "max_pause": (today + timedelta(days=366)).isoformat(),
                "consent": self.consent(m.language), **context}

    def unsubscribe_get(self, token: str) -> Response:
        now = self.clock()
        lang = self.settings.panel.language
        with self.tx() as s:
            data = self.read(links.UNSUBSCRIBE, token, lang)
            m = self.member_of(s, data, lang)
            return self.page("unsubscribe.html", m.language, **self.unsubscribe_view(token, m, now, done=None))

    def unsubscribe_post(self, token: str, form: FormData) -> Response:
        now = self.clock()
        lang = self.settings.panel.language
        one_click = _one(form, "List-Unsubscribe") == "One-Click"
        with self.tx() as s:
            data = self.read(links.UNSUBSCRIBE, token, lang)
            m = self.member_of(s, data, lang)
            if one_click:  # RFC 8058: a mail provider POSTs this; act at once, answer briefly
                membership.leave(s, m.id, now, via="one-click")
                return PlainTextResponse(self.pages.words[m.language].left_short)
            if not check_guard(self.keys, "unsubscribe", token, _one(form, "guard")):
                raise Bad(self.page("forbidden.html", m.language, 403))
            action = _one(form, "action")
            error = None
            if action == "leave":
                membership.leave(s, m.id, now, via="web")
                done = "left"
            elif action == "pause":
                until = self.pause_until(_one(form, "until"), now)
                if until is None:
                    done, error = None, "pause_date"
                else:
                    membership.pause(s, m.id, until, now)
                    done = "paused"
            elif action in ("rejoin", "resume"):
                membership.rejoin(s, m.id, self.consent(m.language), now)
                done = "rejoined"
            else:
                raise self.bad_link(m.language, "form")
            return self.page("unsubscribe.html", m.language, 400 if error else 200,
                             **self.unsubscribe_view(token, m, now, done=done, error=error))

    def pause_until(self, raw: str | None, now: datetime) -> datetime | None:
        try:
            day = date.fromisoformat((raw or "").strip())
        except ValueError:
            return None
        today = now.astimezone(self.settings.panel.zone).date()
        if not today < day <= today + timedelta(days=366):
            return None
        return datetime.combine(day, time(0), tzinfo=self.settings.panel.zone)

    # ------------------------------------------------------------ joining

    def consent(self, lang: str) -> membership.ConsentWording:
        lang = lang if lang in membership.LANGUAGES else "nb"
        t = self.pages.words[lang]
        return membership.ConsentWording(t.consent_text.format(panel=self.settings.panel.name,
                                                               organisation=self.settings.panel.organisation),
                                         lang)

    def join_view(self, lang: str, **context: Any) -> dict[str, Any]:
        guard = self.keys.link_token("form", {"f": "join"})
        postcodes = ", ".join(self.settings.panel.postcodes)
        return {"guard": guard, "consent": self.consent(lang), "min_age": self.settings.panel.min_age,
                "postcodes": postcodes, "values": {}, "errors": {}, **context}

    def join_get(self, lang: str) -> Response:
        return self.page("join.html", lang, **self.join_view(lang))

    def join_post(self, lang: str, form: FormData) -> Response:
        now = self.clock()
        lang = _one(form, "language") or lang
        lang = lang if lang in membership.LANGUAGES else self.settings.panel.language
        try:
            self.keys.read_link_token("form", _one(form, "guard") or "", max_age_seconds=86400)
        except (BadToken, ExpiredToken):
            return self.page("join.html", lang, 400, **self.join_view(lang, values=_values(form),
                                                                       errors={"form": "stale"}))
        values = _values(form)
        errors: dict[str, str] = {}
        email = membership.normalise_email(values.get("email", ""))
        if email is None:
            errors["email"] = "email"
        birth_year = _int(values.get("birth_year"))
        postcode = membership.normalise_postcode(values.get("postcode"))
        today = now.astimezone(self.settings.panel.zone).date()
        for problem in membership.eligibility(self.settings, birth_year, postcode, today):
            errors["birth_year" if problem in ("age", "birth_year") else "postcode"] = problem
        if values.get("postcode") and postcode is None:
            errors["postcode"] = "postcode_format"
        if values.get("consent") != "yes":
            errors["consent"] = "consent"
        if errors:
            return self.page("join.html", lang, 400, **self.join_view(lang, values=values, errors=errors))
        assert email is not None
        with self.tx() as s:
            membership.request_join(s, self.settings, self.keys, email, now, via="web", language=lang,
                                    birth_year=birth_year, postcode=postcode, consent=self.consent(lang))
        # The same page whatever happened: it must not tell who is a member.
        return self.page("join-sent.html", lang, days=membership.PENDING_DAYS)

    def confirm_view(self, token: str, p: membership.PendingSignup, **context: Any) -> dict[str, Any]:
        return {"token": token, "signup": p, "guard": form_guard(self.keys, "join", token),
                "consent": self.consent(p.language), "min_age": self.settings.panel.min_age,
                "values": {}, "errors": {}, **context}

    def signup_of(self, s: Session, token: str, lang: str, now: datetime) -> membership.PendingSignup:
        data = self.read(membership.JOIN, token, lang, days=membership.PENDING_DAYS)
        signup_id = data.get("s")
        p = membership.pending_signup(s, signup_id, now) if isinstance(signup_id, int) else None
        if p is None:
            raise self.expired(lang, membership.JOIN)  # purged after expiry, or erased: sign up again
        if p.expired and not p.confirmed:
            raise self.expired(p.language, membership.JOIN)
        return p

    def confirm_get(self, token: str, lang: str) -> Response:
        now = self.clock()
        with self.tx() as s:
            p = self.signup_of(s, token, lang, now)
            if p.confirmed:
                return self.page("joined.html", p.language, outcome="already", profile_url=None)
            return self.page("join-confirm.html", p.language, **self.confirm_view(token, p))

    def confirm_post(self, token: str, lang: str, form: FormData) -> Response:
        now = self.clock()
        with self.tx() as s:
            p = self.signup_of(s, token, lang, now)
            if not check_guard(self.keys, "join", token, _one(form, "guard")):
                raise Bad(self.page("forbidden.html", p.language, 403))
            values = _values(form)
            consent = self.consent(p.language) if values.get("consent") == "yes" else None
            result = membership.confirm_join(
                s, self.settings, self.keys, p.id, now,
                birth_year=_int(values.get("birth_year")) if p.birth_year is None else None,
                postcode=values.get("postcode") if p.postcode is None else None,
                consent=consent if not p.has_consent else None)
            if result.outcome in ("needs", "ineligible"):
                errors = {("birth_year" if x in ("age", "birth_year") else x): x for x in result.problems}
                return self.page("join-confirm.html", p.language, 400,
                                 **self.confirm_view(token, p, values=values, errors=errors))
            if result.outcome == "expired":
                raise self.expired(p.language, membership.JOIN)
            if result.member_id is None:
                raise self.bad_link(p.language, membership.JOIN)
            return self.page("joined.html", p.language, outcome=result.outcome,
                             profile_url=membership.profile_url(self.settings, self.keys, result.member_id))

    # ------------------------------------------------------------ profile

    def profile_view(self, token: str, p: membership.Profile, **context: Any) -> dict[str, Any]:
        return {"token": token, "profile": p, "guard": form_guard(self.keys, "profile", token),
                "topics": self.topics, "languages": membership.LANGUAGES, "errors": {}, "done": None,
                "unsubscribe_url": membership.unsubscribe_link(self.settings, self.keys, p.member_id),
                "export_url": f"/innsyn/{self.keys.link_token(membership.EXPORT, {'m': p.member_id})}",
                "erase_url": f"/slett/{self.keys.link_token(membership.ERASE, {'m': p.member_id})}",
                **context}

    def profile_of(self, s: Session, token: str) -> membership.Profile:
        lang = self.settings.panel.language
        data = self.read(membership.PROFILE, token, lang, days=membership.LINK_DAYS[membership.PROFILE])
        m = self.member_of(s, data, lang)
        p = membership.profile(s, self.settings, m.id)
        if p is None:
            raise Bad(self.page("gone.html", lang, 410))
        return p

    def profile_get(self, token: str) -> Response:
        with self.tx() as s:
            p = self.profile_of(s, token)
        return self.page("profile.html", p.language, **self.profile_view(token, p))

    def profile_post(self, token: str, form: FormData) -> Response:
        now = self.clock()
        with self.tx() as s:
            p = self.profile_of(s, token)
            if not check_guard(self.keys, "profile", token, _one(form, "guard")):
                raise Bad(self.page("forbidden.html", p.language, 403))
            values = _values(form)
            action = values.get("action")
            if action == "email":
                sent = membership.request_email_change(s, self.settings, self.keys, p.member_id,
                                                       values.get("new_email", ""), now)
                errors = {} if sent else {"new_email": "email"}
                return self.page("profile.html", p.language, 400 if errors else 200, **self.profile_view(
                    token, p, errors=errors, done="email" if sent else None))
            if action != "save":
                raise self.bad_link(p.language, "form")
            year_raw = values.get("birth_year", "")
            problems = membership.change_profile(
                s, self.settings, p.member_id, now, language=values.get("language", p.language),
                birth_year=_int(year_raw), postcode=values.get("postcode") or None,
                topics=[t for t in form.getlist("topics") if isinstance(t, str)], managed_topics=self.topics)
            if year_raw and _int(year_raw) is None:
                problems = (*problems, "birth_year")
            if problems:
                return self.page("profile.html", p.language, 400, **self.profile_view(
                    token, p, errors={x: x for x in problems}))
            saved = membership.profile(s, self.settings, p.member_id)
            assert saved is not None
        return self.page("profile.html", saved.language, **self.profile_view(token, saved, done="saved"))

    def email_change_get(self, token: str) -> Response:
        lang = self.settings.panel.language
        self.read(membership.EMAIL_CHANGE, token, lang, days=membership.PENDING_DAYS)
        return self.page("email-change.html", lang, token=token, done=None,
                         guard=form_guard(self.keys, "email-change", token))

    def email_change_post(self, token: str, form: FormData) -> Response:
        now = self.clock()
        lang = self.settings.panel.language
        data = self.read(membership.EMAIL_CHANGE, token, lang, days=membership.PENDING_DAYS)
        if not check_guard(self.keys, "email-change", token, _one(form, "guard")):
            raise Bad(self.page("forbidden.html", lang, 403))
        request_id = data.get("r")
        if not isinstance(request_id, int):
            raise self.bad_link(lang)
        with self.tx() as s:
            outcome = membership.confirm_email_change(s, request_id, now)
        if outcome == "expired":
            raise self.expired(lang, membership.EMAIL_CHANGE)
        if outcome == "unknown":
            raise self.expired(lang, membership.EMAIL_CHANGE)
        return self.page("email-change.html", lang, 409 if outcome == "taken" else 200, token=token,
                         done=outcome, guard="")

    # ------------------------------------------------------------ export and erasure

    def erase_get(self, token: str) -> Response:
        lang = self.settings.panel.language
        with self.tx() as s:
            data = self.read(membership.ERASE, token, lang, days=membership.PENDING_DAYS)
            m = self.member_of(s, data, lang)
            return self.page("erase.html", m.language, token=token, done=False,
                             guard=form_guard(self.keys, "erase", token))

    def erase_post(self, token: str, form: FormData) -> Response:
        now = self.clock()
        lang: str = self.settings.panel.language
        with self.tx() as s:
            data = self.read(membership.ERASE, token, lang, days=membership.PENDING_DAYS)
            m = self.member_of(s, data, lang)
            lang = m.language
            if not check_guard(self.keys, "erase", token, _one(form, "guard")):
                raise Bad(self.page("forbidden.html", lang, 403))
            membership.erase(s, m.id, now, actor="resident (link)")
        return self.page("erase.html", lang, token=token, done=True, guard="")

    # ------------------------------------------------------------ results

    def results_get(self, campaign: str) -> Response:
        """The full results report of a closed survey: public, aggregates only, minimum group size applied.

        Built by `mailbot.report` (with population.toml and curated quotes when present) in a reading
        session (on SQLite outside the write lock), one build at a time per campaign, and kept in memory
        until an answer is recorded, replaced or erased (`responses.answers_version`, looked at no more
        than once every `REPORT_RECHECK` seconds): answers still arrive after close from read-backs
        settled at close and from staff resolving replies by hand.
        """
        lang = self.settings.panel.language
        survey = self.campaigns.get(campaign)
        now = self.clock()
        if not isinstance(survey, Survey) or survey.results == ResultsPolicy.NONE or now < survey.closes:
            return self.page("error.html", lang, 404, code=404)
        return HTMLResponse(self.report_of(survey, now), headers={"cache-control": "public, max-age=3600"})

    def report_of(self, survey: Survey, now: datetime) -> str:
        """The report's HTML: the kept one while no answer has changed, else built anew (once)."""
        kept = self._reports.get(survey.id)
        if kept is not None and monotonic() - kept[2] < REPORT_RECHECK:
            return kept[1]
        with self._report_lock(survey.id):
            with self.store.reading() as s:
                version = response_store.answers_version(s, survey.id)
            kept = self._reports.get(survey.id)
            if kept is not None and kept[0] == version:
                self._reports[survey.id] = (version, kept[1], monotonic())
                return kept[1]
            html = self.report_html(survey, now)
            self._reports[survey.id] = (version, html, monotonic())
            return html

    def _report_lock(self, campaign_id: str) -> threading.Lock:
        with self._report_locks_mutex:
            return self._report_locks.setdefault(campaign_id, threading.Lock())

    def report_html(self, survey: Survey, now: datetime) -> str:
        from mailbot.panel.problems import ConfigError
        from mailbot.report.build import build_report, cell_scheme, load_quotes, quotes_path
        from mailbot.report.html import render_html
        from mailbot.report.population import Population, default_path, load_population
        from mailbot.store import report_cells

        population: Population | None = None
        quotes: dict[str, tuple[str, ...]] = {}
        try:  # a broken file is staff's to fix (mailbot validate); the report is shown without it meanwhile
            if default_path(self.settings).exists():
                population = load_population(default_path(self.settings), self.settings)
        except ConfigError:
            population = None
        try:
            quotes = load_quotes(quotes_path(self.settings, survey.id), survey)
        except ConfigError:
            quotes = {}
        report_cells.prepare(self.store, survey.id, cell_scheme(survey, self.settings, population), self.clock())
        with self.store.reading() as s:
            report = build_report(s, survey, self.settings, population, quotes)
        return render_html(report, now.astimezone(self.settings.panel.zone).date())

    def export_get(self, token: str) -> Response:
        lang = self.settings.panel.language
        with self.tx() as s:
            data = self.read(membership.EXPORT, token, lang, days=membership.PENDING_DAYS)
            m = self.member_of(s, data, lang)
            return self.page("export.html", m.language, token=token,
                             guard=form_guard(self.keys, "export", token))

    def export_post(self, token: str, form: FormData) -> Response:
        now = self.clock()
        lang = self.settings.panel.language
        with self.tx() as s:
            data = self.read(membership.EXPORT, token, lang, days=membership.PENDING_DAYS)
            m = self.member_of(s, data, lang)
            if not check_guard(self.keys, "export", token, _one(form, "guard")):
                raise Bad(self.page("forbidden.html", m.language, 403))
            exported = membership.export_member(s, self.settings, m.id)
            membership.audit(s, "resident (link)", "export", m.id, now)
        body = membership.export_json(exported or {})
        return Response(body, media_type="application/json; charset=utf-8", headers={
            "content-disposition": 'attachment; filename="mine-data.json"'})


def _one(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def _values(form: FormData) -> dict[str, str]:
    return {k: v.strip()[:400] for k, v in form.multi_items() if isinstance(v, str)}


def _int(value: str | None) -> int | None:
    try:
        return int((value or "").strip())
    except ValueError:
        return None


# ---------------------------------------------------------------- the app


def create_app(settings: Settings, store: Store, keys: Keys, campaigns: Mapping[str, Campaign] | Sequence[Campaign],
               *, clock: Callable[[], datetime] = utcnow, rate_limit: RateLimit | None = None,
               topics: Sequence[str] = TOPICS) -> Starlette:
    """The ASGI app. `rate_limit` defaults to 2 requests a second per client with bursts of 40."""
    by_id = dict(campaigns) if isinstance(campaigns, Mapping) else {c.id: c for c in campaigns}
    web = Web(settings, store, keys, by_id, clock=clock, topics=topics)

    def sync(handler: Callable[..., Response]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            params = dict(request.path_params)
            if request.method == "POST":
                if int(request.headers.get("content-length") or 0) > MAX_BODY:
                    return web.page("error.html", web.lang_of(request), 413, code=413)
                if request.headers.get("sec-fetch-site") == "cross-site" and not _is_one_click(request):
                    return web.page("forbidden.html", web.lang_of(request), 403)
                try:
                    params["form"] = await request.form(max_files=0, max_fields=200)
                except Exception:  # noqa: BLE001 - a malformed body is the client's mistake, not a crash
                    return web.page("error.html", web.lang_of(request), 400, code=400)
            if handler in (web.join_get, web.join_post, web.confirm_get, web.confirm_post):
                params["lang"] = web.lang_of(request)
            try:
                return await run_in_threadpool(handler, **params)
            except Bad as bad:
                return bad.response

        return endpoint

    async def home(request: Request) -> Response:
        return web.page("home.html", web.lang_of(request))

    async def css(request: Request) -> Response:
        return Response(web._css, media_type="text/css; charset=utf-8",
                        headers={"cache-control": "public, max-age=3600"})

    async def not_found(request: Request, exc: Exception) -> Response:
        code = exc.status_code if isinstance(exc, HTTPException) else 500
        return web.page("error.html", web.lang_of(request), code, code=code)

    routes = [
        Route("/", home, methods=["GET"]),
        Route("/static/site.css", css, methods=["GET"]),
        Route("/svar/{token}", sync(web.form_get), methods=["GET"]),
        Route("/svar/{token}", sync(web.form_post), methods=["POST"]),
        Route("/svar/{token}/{qid}/{value:path}", sync(web.one_click_get), methods=["GET"]),
        Route("/svar/{token}/{qid}/{value:path}", sync(web.one_click_post), methods=["POST"]),
        Route("/stemmer/{token}", sync(web.read_back_get), methods=["GET"]),
        Route("/stemmer/{token}", sync(web.read_back_post), methods=["POST"]),
        Route("/avmeld/{token}", sync(web.unsubscribe_get), methods=["GET"]),
        Route("/avmeld/{token}", sync(web.unsubscribe_post), methods=["POST"]),
        Route("/bli-med", sync(web.join_get), methods=["GET"]),
        Route("/bli-med", sync(web.join_post), methods=["POST"]),
        Route("/bli-med/bekreft/{token}", sync(web.confirm_get), methods=["GET"]),
        Route("/bli-med/bekreft/{token}", sync(web.confirm_post), methods=["POST"]),
        Route("/profil/{token}", sync(web.profile_get), methods=["GET"]),
        Route("/profil/{token}", sync(web.profile_post), methods=["POST"]),
        Route("/ny-adresse/{token}", sync(web.email_change_get), methods=["GET"]),
        Route("/ny-adresse/{token}", sync(web.email_change_post), methods=["POST"]),
        Route("/slett/{token}", sync(web.erase_get), methods=["GET"]),
        Route("/slett/{token}", sync(web.erase_post), methods=["POST"]),
        Route("/innsyn/{token}", sync(web.export_get), methods=["GET"]),
        Route("/innsyn/{token}", sync(web.export_post), methods=["POST"]),
        Route("/resultater/{campaign}", sync(web.results_get), methods=["GET"]),
    ]
    limit = rate_limit if rate_limit is not None else RateLimit()

    def too_many(wait: float) -> bytes:
        return web.pages.render("error.html", settings.panel.language, panel=settings.panel, zone=web.zone,
                                code=429).encode()

    return Starlette(routes=routes, exception_handlers={HTTPException: not_found, 404: not_found, 405: not_found},
                     middleware=[Middleware(Guard, limit=limit if limit.per_second > 0 else None,
                                            too_many=too_many)])


def _is_one_click(request: Request) -> bool:
    return request.url.path.startswith("/avmeld/")
