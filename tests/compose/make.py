"""Small factories for compose tests: a survey, a member, links, addressing, results."""

from __future__ import annotations

import email
from datetime import datetime
from email import policy
from email.message import EmailMessage
from urllib.parse import quote
from zoneinfo import ZoneInfo

from mailbot.campaigns import Question, QuestionType, Survey
from mailbot.compose import Links, Sender
from mailbot.panel.settings import PanelSection
from mailbot.people import Recipient
from mailbot.results import OptionCount, QuestionResult, Results

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2022, 12, 5, 9, 0, tzinfo=OSLO)


def panel(**kw: object) -> PanelSection:
    values: dict[str, object] = {"name": "Innbyggerpanelet", "organisation": "Bærum kommune",
                                 "address": "innbyggerpanel@example.no", "reply_domain": "svar.example.no",
                                 "public_url": "https://panel.example.no"}
    return PanelSection(**{**values, **kw})  # type: ignore[arg-type]


def choice(qid: str, number: int, text: str, *options: str) -> Question:
    return Question(qid, number, text, QuestionType.CHOICE, tuple(options))


def multi(qid: str, number: int, text: str, *options: str) -> Question:
    return Question(qid, number, text, QuestionType.MULTI, tuple(options))


def scale(qid: str, number: int, text: str, lo: int = 1, hi: int = 5, low: str | None = None,
          high: str | None = None) -> Question:
    return Question(qid, number, text, QuestionType.SCALE, min=lo, max=hi, min_label=low, max_label=high)


def text(qid: str, number: int, words: str) -> Question:
    return Question(qid, number, words, QuestionType.TEXT)


def survey(*questions: Question, title: str = "Behov for en ombruksbutikk i Bærum", **kw: object) -> Survey:
    qs = questions or (
        choice("need", 1, "Er det behov for en ombruksbutikk i Bærum?", "Ja", "Nei", "Vet ikke"),
        multi("goods", 2, "Hva ville du levert der?", "Møbler", "Klær", "Sportsutstyr"),
        scale("today", 3, "Hvor fornøyd er du med dagens ordning?", 1, 5,
              "svært misfornøyd", "svært fornøyd"),
        text("where", 4, "Hvor i Bærum bør butikken ligge?"),
    )
    values: dict[str, object] = {"id": "ombruk-2022", "title": title, "questions": qs,
                                 "opens": datetime(2022, 12, 1, 9, 0, tzinfo=OSLO),
                                 "closes": datetime(2022, 12, 15, 23, 59, tzinfo=OSLO)}
    return Survey(**{**values, **kw})  # type: ignore[arg-type]


def member(name: str | None = "Kari Nordmann", email_address: str = "kari.nordmann@example.no",
           language: str = "nb", member_id: int = 7) -> Recipient:
    return Recipient(member_id=member_id, email=email_address, name=name, language=language)


def links(s: Survey, token: str = "tok7") -> Links:
    base = f"https://panel.example.no/svar/{token}"
    answers: dict[tuple[str, str], str] = {}
    for q in s.questions:
        values = (list(q.options) if q.type == QuestionType.CHOICE else
                  [str(v) for v in q.scale_values] if q.type == QuestionType.SCALE else [])
        for v in values:
            answers[(q.id, v)] = f"{base}/{q.id}/{quote(v, safe='')}"
    return Links(form_url=base, unsubscribe_url=f"https://panel.example.no/avmeld/{token}",
                 unsubscribe_mailto=f"mailto:innbyggerpanel+{token}@svar.example.no?subject=STOPP",
                 answer_urls=answers, report_url=f"https://panel.example.no/resultater/{s.id}")


def sender(token: str = "abc7", in_reply_to: str | None = None) -> Sender:
    return Sender(from_addr="Innbyggerpanelet <innbyggerpanel@example.no>",
                  reply_to=f"innbyggerpanel+{token}@svar.example.no", message_id=f"<7.{token}@example.no>",
                  list_id="Innbyggerpanelet <innbyggerpanel.example.no>", in_reply_to=in_reply_to)


def results(s: Survey, *, invited: int = 427, answered: int = 128, min_group_size: int = 5) -> Results:
    need, goods, today, where = s.questions
    return Results(
        campaign_id=s.id, invited=invited, answered=answered, min_group_size=min_group_size,
        questions=(
            QuestionResult(need, 120, (OptionCount("Ja", 84, 70.0), OptionCount("Nei", 24, 20.0),
                                       OptionCount("Vet ikke", 12, 10.0))),
            QuestionResult(goods, 3, (), suppressed=True),
            QuestionResult(today, 100, tuple(OptionCount(str(v), c, float(c)) for v, c in
                                             ((1, 5), (2, 10), (3, 30), (4, 40), (5, 15))),
                           mean=3.5, median=4.0),
            QuestionResult(where, 64, ()),
        ),
    )


def parse(msg: EmailMessage) -> EmailMessage:
    """The message as a receiving client sees it: its bytes parsed back."""
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def plain(msg: EmailMessage) -> str:
    part = parse(msg).get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]


def html(msg: EmailMessage) -> str:
    part = parse(msg).get_body(("html",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]
