"""Addresses and links in an outgoing email, each carrying a signed token.

Built at send time from the outbox row: the reply address names the row
(member, campaign, step); the bounce address (VERP) names it too, so a bounce
finds its member even when its body is unreadable; links carry itsdangerous
tokens bound to member, campaign and purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from mailbot.campaigns import QuestionType, Survey
from mailbot.panel.settings import PanelSection
from mailbot.tokens import Keys, reply_address

ANSWER = "answer"
UNSUBSCRIBE = "unsubscribe"


@dataclass(frozen=True)
class Addressing:
    reply_to: str
    return_path: str
    message_id: str
    answer_token: str
    unsubscribe_token: str


def addressing(keys: Keys, panel: PanelSection, outbox_id: int, member_id: int, campaign_id: str) -> Addressing:
    reply = keys.address_token(outbox_id)
    domain = panel.address.rsplit("@", 1)[1]
    return Addressing(
        reply_to=reply_address(panel.local_part, reply, panel.reply_domain),
        return_path=reply_address("bounces", keys.address_token(outbox_id, "bounce"), panel.reply_domain),
        message_id=f"<{outbox_id}.{reply[-10:]}@{domain}>",
        answer_token=keys.link_token(ANSWER, {"m": member_id, "c": campaign_id}),
        unsubscribe_token=keys.link_token(UNSUBSCRIBE, {"m": member_id}),
    )


def base_url(panel: PanelSection) -> str:
    return panel.public_url.rstrip("/")


def form_url(panel: PanelSection, answer_token: str) -> str:
    return f"{base_url(panel)}/svar/{answer_token}"


def answer_url(panel: PanelSection, answer_token: str, question_id: str, value: str) -> str:
    return f"{base_url(panel)}/svar/{answer_token}/{quote(question_id)}/{quote(value, safe='')}"


def unsubscribe_url(panel: PanelSection, token: str) -> str:
    return f"{base_url(panel)}/avmeld/{token}"


def unsubscribe_mailto(a: Addressing) -> str:
    return f"mailto:{a.reply_to}?subject=STOPP"


def one_click_urls(panel: PanelSection, survey: Survey, answer_token: str) -> dict[tuple[str, str], str]:
    """A link per option of every choice and scale question."""
    out: dict[tuple[str, str], str] = {}
    for q in survey.questions:
        if q.type == QuestionType.CHOICE:
            values = list(q.options)
        elif q.type == QuestionType.SCALE:
            values = [str(v) for v in q.scale_values]
        else:
            continue
        for v in values:
            out[(q.id, v)] = answer_url(panel, answer_token, q.id, v)
    return out
