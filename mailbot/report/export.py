"""CSV files: aggregates for anyone (hidden cells blank, with a note) and raw answers for staff only.

The aggregate CSV is written for Norwegian spreadsheets: UTF-8 with a BOM (so
Excel reads æøå), ";" between fields, decimal commas. The raw export replaces
member ids with a keyed hash (HMAC-SHA256 of campaign and member id), so a
file that travels cannot be joined to the member list without the key, while
the same member keeps one pseudonym within a campaign.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.campaigns import QuestionType, Survey
from mailbot.report.build import Report
from mailbot.store.models import Answer, Response


def number(x: float | int | None, decimals: int = 1) -> str:
    if x is None:
        return ""
    if isinstance(x, int):
        return str(x)
    return f"{x:.{decimals}f}".replace(".", ",")


def hidden_note(k: int) -> str:
    return f"skjult: færre enn {k} svar, eller for å beskytte en annen skjult gruppe"


def write_aggregates(report: Report, out: TextIO) -> None:
    """One CSV of every figure in the report; hidden cells are blank, with a note why."""
    r = report.results
    k = r.min_group_size
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow(["del", "spørsmål", "svar eller gruppe", "antall", "prosent", "vektet prosent", "merknad"])
    w.writerow(["svarprosent", "", "invitert", r.invited, "", "", ""])
    w.writerow(["svarprosent", "", "svarte", r.answered, number(100 * r.rate), "", ""])
    for qr in r.questions:
        q = qr.question
        title = f"{q.number}. {q.text}"
        if qr.suppressed:
            w.writerow(["spørsmål", title, "svarte", "", "", "", hidden_note(k)])
            continue
        w.writerow(["spørsmål", title, "svarte", qr.answered, "", "", ""])
        if q.type == QuestionType.TEXT:
            w.writerow(["spørsmål", title, "fritekst", "", "", "", "vises ikke; bare utvalgte sitater"])
            for quote in qr.quotes:
                w.writerow(["sitat", title, quote, "", "", "", "valgt ut av kommunen"])
            continue
        for o in qr.options:
            if o.suppressed:
                w.writerow(["spørsmål", title, o.label, "", "", "", hidden_note(k)])
            else:
                w.writerow(["spørsmål", title, o.label, o.count, number(o.percent),
                            number(o.weighted_percent), ""])
        if qr.mean is not None:
            w.writerow(["spørsmål", title, "gjennomsnitt", "", number(qr.mean, 2),
                        number(qr.weighted_mean, 2), ""])
            w.writerow(["spørsmål", title, "median", "", number(qr.median, 1), "", ""])
    for table in report.segments:
        part = f"hvem svarte: {table.label.lower()}"
        for row in table.rows:
            note = hidden_note(k) if row.answered is None or row.invited is None else ""
            w.writerow([part, "invitert", row.category, "" if row.invited is None else row.invited,
                        number(_pct(row.invited_share)), "", note])
            w.writerow([part, "svarte", row.category,
                        "" if row.answered is None else row.answered, number(_pct(row.answered_share)),
                        number(_pct(row.weighted_share)), note])
            if row.population_share is not None:
                w.writerow([part, "befolkningen", row.category, "",
                            number(_pct(row.population_share)), "", ""])
    for title, rows in (("svarte med", report.sources), ("svarte etter", report.after_steps)):
        for x in rows:
            w.writerow([title, "", x.label, "" if x.count is None else x.count, number(_pct(x.share)), "",
                        hidden_note(k) if x.count is None else ""])


def _pct(share: float | None) -> float | None:
    return None if share is None else 100 * share


# ------------------------------------------------------------------ raw, staff only


def pseudonym(key: str, campaign_id: str, member_id: int | None, response_id: int) -> str:
    """A stable, keyed stand-in for a member within one campaign ("p-" + 16 base32 characters)."""
    subject = f"m{member_id}" if member_id is not None else f"r{response_id}"  # erased: per response
    mac = hmac.new(key.encode(), f"pseudonym\0{campaign_id}\0{subject}".encode(), hashlib.sha256).digest()
    return "p-" + base64.b32encode(mac[:10]).decode().lower()


def raw_rows(session: Session, survey: Survey, key: str, batch: int = 2000) -> Iterator[list[str]]:
    """Header, then one row per response in id order, read in batches (not the whole campaign at once)."""
    qs = survey.questions
    yield ["pseudonym", "svarte_med", "svarte_etter", "første_svar", *(f"{q.number}_{q.id}" for q in qs)]
    last = 0
    while True:
        responses = session.execute(
            select(Response.id, Response.member_id, Response.source, Response.after_step, Response.first_at)
            .where(Response.campaign_id == survey.id, Response.id > last).order_by(Response.id).limit(batch)
        ).all()
        if not responses:
            return
        ids = [r[0] for r in responses]
        values: dict[int, dict[str, list[str]]] = {}
        for rid, qid, choice, num, text in session.execute(
            select(Answer.response_id, Answer.question_id, Answer.choice, Answer.number, Answer.text)
            .where(Answer.response_id.in_(ids)).order_by(Answer.id)
        ):
            v = choice if choice is not None else str(num) if num is not None else text or ""
            values.setdefault(rid, {}).setdefault(qid, []).append(v)
        for rid, member_id, source, after_step, first_at in responses:
            got = values.get(rid, {})
            yield [pseudonym(key, survey.id, member_id, rid), source, after_step or "",
                   first_at.date().isoformat(),
                   *(" | ".join(_in_survey_order(q.options, got.get(q.id, []))) for q in qs)]
        last = ids[-1]


def _in_survey_order(options: tuple[str, ...], chosen: list[str]) -> list[str]:
    if not options:
        return chosen
    return [o for o in options if o in chosen] + [c for c in chosen if c not in options]


def write_raw(session: Session, survey: Survey, key: str, path: Path) -> int:
    """Write the pseudonymised raw answers; returns the number of responses."""
    n = -1
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\r\n")
        for row in raw_rows(session, survey, key):
            w.writerow(row)
            n += 1
    return n
