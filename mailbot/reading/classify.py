"""What kind of inbound mail this is: a resident's reply, a command, a bounce, or an automaton.

Order matters and follows the cost of a mistake: a challenge-response screen is
checked before bounces (it is shaped like one but the address works), bounces before
auto-replies (a bounce is also automatic but carries an address to act on), and a
command only in a message that no automaton sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

from mailbot.reading.autoreplies import judge_auto_reply
from mailbot.reading.bounces import Bounce, read_bounce
from mailbot.reading.commands import Command, find_command
from mailbot.reading.decode import body_text, header_text
from mailbot.reading.quotes import NewText, extract_new_text

KINDS = ("reply", "auto-reply", "bounce", "command")


@dataclass(frozen=True)
class Classification:
    kind: str  # one of KINDS
    bounce: Bounce | None = None
    command: Command | None = None
    auto_signals: tuple[str, ...] = ()
    new_text: NewText | None = None

    @property
    def firmly_automatic(self) -> bool:
        """Automatic by a header only machines set, not by wording alone."""
        return any(
            not s.startswith(("subject", "text", "X-Auto-Response-Suppress", "mailing", "empty"))
            for s in self.auto_signals
        )


def classify(msg: Message, own_addresses: Iterable[str] = ()) -> Classification:
    """Sort a message into reply, command, bounce or auto-reply."""
    own = tuple(a.lower() for a in own_addresses)
    body = body_text(msg)
    new_text = extract_new_text(body.text)
    verdict = judge_auto_reply(msg, body.text)
    if "challenge-response" in verdict.signals:
        return Classification("auto-reply", auto_signals=verdict.signals, new_text=new_text)
    bounce = read_bounce(msg, own)
    if bounce is not None:
        return Classification("bounce", bounce=bounce, auto_signals=verdict.signals, new_text=new_text)
    if _sender(msg) in own:
        # Our own mail come back (a loop, a misconfigured forward): never answer it.
        return Classification("auto-reply", auto_signals=("from our own address",), new_text=new_text)
    if verdict.automatic:
        return Classification("auto-reply", auto_signals=verdict.signals, new_text=new_text)
    command = find_command(header_text(msg, "Subject"), new_text.text)
    if command is not None:
        return Classification("command", command=command, auto_signals=verdict.signals, new_text=new_text)
    return Classification("reply", auto_signals=verdict.signals, new_text=new_text)


def _sender(msg: Message) -> str:
    try:
        pairs = getaddresses([header_text(msg, "From")])
    except Exception:
        return ""
    return pairs[0][1].lower() if pairs else ""
