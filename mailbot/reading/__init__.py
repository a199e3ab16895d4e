"""Understanding inbound mail: pure functions from a message to what it means.

decode        bytes -> Message, body text (charsets repaired, HTML rendered)
quotes        body text -> the words the sender typed
classify      Message -> reply | auto-reply | bounce | command
bounces       delivery failures, VERP tokens
autoreplies   vacation notices and other automata
commands      STOPP, PAUSE, START, SPRÅK, SLETT, BLI MED
answers       typed text + Survey -> answers, and what is unsure
inbound       read_message: all of the above for one message
"""

from mailbot.reading.answers import ParsedAnswers, parse_answers
from mailbot.reading.bounces import Bounce, read_bounce, verp_token
from mailbot.reading.classify import Classification, classify
from mailbot.reading.commands import Command, find_command
from mailbot.reading.decode import MAX_MESSAGE_BYTES, body_text, decode
from mailbot.reading.inbound import Reading, Route, read_message
from mailbot.reading.quotes import NewText, extract_new_text

__all__ = [
    "MAX_MESSAGE_BYTES",
    "Bounce",
    "Classification",
    "Command",
    "NewText",
    "ParsedAnswers",
    "Reading",
    "Route",
    "body_text",
    "classify",
    "decode",
    "extract_new_text",
    "find_command",
    "parse_answers",
    "read_bounce",
    "read_message",
    "verp_token",
]
