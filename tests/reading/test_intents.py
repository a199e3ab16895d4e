"""Commands said in plain words, in nb, nn and en; and sentences that only look like commands."""

from __future__ import annotations

import pytest

from mailbot.reading.commands import find_command


@pytest.mark.parametrize(
    ("text", "name", "value"),
    [
        ("Jeg ønsker ikke å være med i panelet lenger.", "unsubscribe", None),
        ("Eg vil ikkje vere med i panelet lenger. Ver snill og ta meg ut av lista.", "unsubscribe", None),
        ("Jeg vil ikke ha flere slike e-poster.", "unsubscribe", None),
        ("Please take me off your mailing list, I moved to Oslo.", "unsubscribe", None),
        ("Dere kan melde meg av panelet etter dette.", "unsubscribe", None),
        ("Sett meg på pause til mars, er på reise.", "pause", "1. mars"),
        ("Kan de ta ein pause med e-postane til meg fram til 1. juni?", "pause", "1 juni"),
        ("Jeg vil gjerne ha pause fra panelet resten av året, vi venter baby.", "pause", "1. januar"),
        ("Could you send me the surveys in Norwegian (bokmål) from now on?", "language", "nb"),
        ("Please send the emails in Norwegian nynorsk", "language", "nn"),
        ("Kan dere ta en pause med e-postene til meg en stund?", "pause", None),
        ("Could you please pause the emails for a while?", "pause", None),
        ("Eg er på hytta, så ikkje send meg fleire e-postar før 17. april.", "pause", "17 april"),
        ("I'm back in Bærum now, so please start sending me surveys again.", "resume", None),
        ("Kan de sende meg e-postane på nynorsk i staden?", "language", "nn"),
        ("Could you send me these emails in English from now on?", "language", "en"),
        ("Jeg ber om at dere sletter alle opplysninger dere har lagret om meg.", "erase", None),
        ("I would like you to delete all the personal data you hold about me, under GDPR.", "erase", None),
        ("Jeg satte meg på pause i vår, men nå vil jeg gjerne være med på undersøkelsene igjen.", "resume", None),
        ("Kan dere starte opp igjen for meg?", "resume", None),
        ("Sett meg gjerne på pause til 1. juni – skal ut og seile 🙂", "pause", "1 juni"),
        ("PS: ikkje send meg fleire undersøkingar før i februar, eg er mykje bortreist.", "pause", "1. februar"),
    ],
)
def test_a_plain_sentence_is_understood_as_a_command(text: str, name: str, value: str | None) -> None:
    command = find_command("Re: Et aldersvennlig Bærum", f"Hei,\n\n{text}\n\nHilsen Kari")
    assert command is not None and (command.name, command.value) == (name, value)


@pytest.mark.parametrize(
    "text",
    [
        "1 A\n2 B\n5 Stopp nedbyggingen av grøntområdene!",
        "Please stop closing Rykkinn on Saturdays in the summer!",
        "Vet ikke",
        "Flere bøker på engelsk og polsk, takk.",
        "I paused the panel emails last autumn while I was working in Gothenburg.",
        "Start gjerne med Sandvika.",
        "De ansatte trenger flere pauser i løpet av dagen.",
        "Korleis stoppar eg påminningane utan å melde meg ut av heile panelet?",
        "Hvordan melder jeg meg av panelet?",
        "Kan jeg slutte å få påminnelser uten å melde meg ut?",
        "Jeg svarer på norsk, håper det går bra.",
    ],
)
def test_an_answer_or_a_story_is_not_a_command(text: str) -> None:
    assert find_command("Re: Spørreundersøkelse", text) is None
