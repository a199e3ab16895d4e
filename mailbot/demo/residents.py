"""Synthetic residents for the demo: Norwegian names, Bærum postcodes, and the
ways real people answer an email (top-posted over the client's quote,
bottom-posted, partial, with signatures, in words), all from one seed.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

from mailbot.campaigns import QuestionType, Survey

FIRST = ["Ingrid", "Ole", "Kari", "Lars", "Anne", "Per", "Marit", "Jon", "Solveig", "Bjørn", "Astrid", "Knut",
         "Liv", "Erik", "Sigrid", "Håkon", "Ragnhild", "Øystein", "Berit", "Tor", "Åse", "Magnus", "Nora",
         "Emil", "Sofie", "Jakob", "Ida", "Sander", "Thea", "Mohammed", "Fatima", "Piotr", "Agnieszka",
         "Amina", "Jørgen", "Hilde", "Geir", "Randi", "Terje", "Tone", "Vegard", "Synnøve"]
LAST = ["Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen",
        "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen", "Johannessen", "Andreassen",
        "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Lie", "Strand", "Sæther", "Bråten", "Løvås", "Østby",
        "Kowalski", "Ali", "Ahmed", "Nguyen"]
POSTCODES = ["1300", "1302", "1303", "1306", "1307", "1311", "1314", "1317", "1318", "1337", "1338", "1339",
             "1340", "1341", "1344", "1346", "1348", "1349", "1350", "1351", "1352", "1353", "1354", "1356",
             "1357", "1358", "1359", "1360", "1362", "1363", "1364", "1365", "1366", "1367", "1368", "1369"]
_ASCII = {ord("ø"): "o", ord("å"): "a", ord("æ"): "ae"}
DOMAINS = ["gmail.com", "online.no", "hotmail.com", "outlook.com", "icloud.com", "yahoo.no", "live.no"]


@dataclass(frozen=True)
class Resident:
    email: str
    name: str
    language: str
    birth_year: int
    postcode: str
    tags: tuple[str, ...]
    client: str  # outlook, gmail, iphone, thunderbird, samsung
    style: str  # how they answer: codes, lines, words, partial, never
    eagerness: float  # 0..1: how soon they answer; > 0.75 only after a reminder


def residents(n: int, rng: random.Random) -> list[Resident]:
    out: list[Resident] = []
    seen: set[str] = set()
    while len(out) < n:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = f"{first}.{last}".lower().translate(_ASCII)
        email = f"{local}{rng.randint(1, 999)}@{rng.choice(DOMAINS)}"
        if email in seen:
            continue
        seen.add(email)
        style = rng.choices(["codes", "lines", "words", "partial", "never"], [30, 15, 10, 8, 37])[0]
        out.append(Resident(
            email=email, name=f"{first} {last}",
            language=rng.choices(["nb", "nn", "en"], [88, 7, 5])[0],
            birth_year=rng.randint(1935, 2008), postcode=rng.choice(POSTCODES),
            tags=tuple(t for t in ("frivillig", "innspillkart") if rng.random() < 0.15),
            client=rng.choice(["outlook", "gmail", "iphone", "thunderbird", "samsung"]),
            style=style, eagerness=rng.random(),
        ))
    return out


def write_roster(people: Sequence[Resident], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["email", "name", "language", "birth_year", "postcode", "tags"])
        for p in people:
            w.writerow([p.email, p.name, p.language, p.birth_year, p.postcode, ";".join(p.tags)])


def choose_answers(survey: Survey, rng: random.Random) -> dict[str, object]:
    """What this resident thinks: weighted towards the first options, like a real panel."""
    out: dict[str, object] = {}
    for q in survey.questions:
        if q.type == QuestionType.CHOICE:
            weights = [6, 2, 1, 1, 1][: len(q.options)] + [1] * max(0, len(q.options) - 5)
            out[q.id] = rng.choices(range(len(q.options)), weights)[0]
        elif q.type == QuestionType.MULTI:
            k = rng.randint(1, min(3, len(q.options)))
            out[q.id] = sorted(rng.sample(range(len(q.options)), k))
        elif q.type == QuestionType.SCALE:
            assert q.min is not None and q.max is not None
            out[q.id] = rng.choices(list(q.scale_values), [1, 2, 4, 3, 2][: q.max - q.min + 1]
                                    + [2] * max(0, q.max - q.min + 1 - 5))[0]
        else:
            out[q.id] = rng.choice(["Sandvika sentrum", "Bekkestua", "Ved Fornebu senter", "Kolsås",
                                    "Nær Stabekk stasjon", "Rykkinn"])
    return out


WORDS = {1: "en", 2: "to", 3: "tre", 4: "fire", 5: "fem"}
SIGNATURES = {
    "outlook": "\n\nMed vennlig hilsen\n{name}\n",
    "gmail": "\n\nHilsen {first}\n",
    "iphone": "\n\nSendt fra min iPhone\n",
    "thunderbird": "\n\n-- \n{name}\n",
    "samsung": "\n\nSendt fra min Galaxy\n",
}


def reply_text(survey: Survey, choice: dict[str, object], style: str, rng: random.Random) -> str:
    """The words the resident types, in their style."""
    parts: list[str] = []
    for q in survey.questions:
        a = choice[q.id]
        if style == "partial" and q.number > 2:
            break
        if q.type == QuestionType.CHOICE:
            assert isinstance(a, int)
            value = q.options[a] if style in ("words", "lines") else "ABCDEFGHIJ"[a]
        elif q.type == QuestionType.MULTI:
            assert isinstance(a, list)
            value = (" og ".join(q.options[i].lower() for i in a) if style == "words"
                     else ",".join("ABCDEFGHIJ"[i] for i in a))
        elif q.type == QuestionType.SCALE:
            assert isinstance(a, int)
            value = WORDS.get(a, str(a)) if style == "words" and rng.random() < 0.5 else str(a)
        else:
            value = str(a)
        if style == "lines":
            parts.append(f"{q.number}) {value}")
        elif style == "words":
            parts.append(f"{q.number}: {value}")
        else:
            parts.append(f"{q.number} {value}")
    sep = "\n" if style in ("lines", "words") else "   "
    return sep.join(parts)


def reply_message(resident: Resident, invitation: EmailMessage, text: str, date: str, rng: random.Random) -> bytes:
    """A reply as the resident's client would send it: their text, a signature, the quoted original."""
    original = invitation.get_body(("plain",))
    quoted_body = original.get_content() if original is not None else ""
    first = resident.name.split()[0]
    signature = SIGNATURES[resident.client].format(name=resident.name, first=first)
    sent = str(invitation["Date"])
    if resident.client == "outlook":
        quote = (f"\n________________________________\nFra: {invitation['From']}\nSendt: {sent}\n"
                 f"Til: {resident.email}\nEmne: {invitation['Subject']}\n\n{quoted_body}")
        body = text + signature + quote
    elif resident.client == "thunderbird" and rng.random() < 0.5:
        # Bottom-posted under the quote, as some Thunderbird users do.
        quoted = "\n".join("> " + line for line in quoted_body.splitlines())
        body = f"Den {sent}, skrev {invitation['From']}:\n{quoted}\n\n{text}{signature}"
    else:
        quoted = "\n".join("> " + line for line in quoted_body.splitlines())
        body = f"{text}{signature}\n{sent} skrev {invitation['From']}:\n\n{quoted}\n"
    msg = EmailMessage()
    msg["From"] = formataddr((resident.name, resident.email))
    msg["To"] = str(invitation["Reply-To"])
    msg["Subject"] = "SV: " + str(invitation["Subject"])
    msg["Date"] = date
    msg["Message-ID"] = make_msgid(domain=resident.email.split("@")[1])
    msg["In-Reply-To"] = str(invitation["Message-ID"])
    msg["References"] = str(invitation["Message-ID"])
    msg.set_content(body)
    return msg.as_bytes(policy=policy.SMTP)  # CRLF: smtplib sends bytes as they are


def format_date(dt: object) -> str:
    return format_datetime(dt)  # type: ignore[arg-type]
