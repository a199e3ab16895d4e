"""Commands are whole short lines in the subject or the first typed lines, never prose or quotes."""

from __future__ import annotations

import pytest

from mailbot.reading.commands import find_command


@pytest.mark.parametrize(
    ("line", "name", "value"),
    [
        ("STOPP", "unsubscribe", None),
        ("stopp.", "unsubscribe", None),
        ("AVMELD", "unsubscribe", None),
        ("Meld meg av, takk.", "unsubscribe", None),
        ("Unsubscribe", "unsubscribe", None),
        ("PAUSE", "pause", None),
        ("PAUSE til 1. mars", "pause", "1. mars"),
        ("pause until March", "pause", "1. march"),  # the first of March, as "til mars" is
        ("PAUSE til august, er mye borte i vår og sommer", "pause", "1. august"),
        ("START", "resume", None),
        ("Fortsett", "resume", None),
        ("SPRÅK NN", "language", "nn"),
        ("språk nynorsk", "language", "nn"),
        ("LANGUAGE EN", "language", "en"),
        ("SLETT", "erase", None),
        ("Slett meg", "erase", None),
        ("BLI MED", "join", None),
    ],
)
def test_command_line_is_understood(line: str, name: str, value: str | None) -> None:
    command = find_command("Re: Spørreundersøkelse", f"Hei,\n\n{line}\n\nOla")
    assert command is not None
    assert (command.name, command.value) == (name, value)


@pytest.mark.parametrize(
    "text",
    [
        "Nei takk",
        "nei takk.",
        "Dere må stoppe å sende meg dette.",
        "Jeg tar gjerne en pause fra jobben for å svare: 1 A",
        "Slett ikke dumt med en butikk!",
        "Start gjerne med Sandvika.",
        "1 A 2 B",
    ],
)
def test_prose_and_answers_are_not_commands(text: str) -> None:
    assert find_command("Re: Spørreundersøkelse", text) is None


def test_command_in_a_quote_is_ignored_because_only_typed_text_is_read() -> None:
    assert find_command("Re: x", "Takk for at dere spør!") is None


def test_command_only_in_the_subject_is_found() -> None:
    command = find_command("unsubscribe", "")
    assert command is not None and command.name == "unsubscribe" and command.source == "subject"


def test_survey_title_after_re_is_not_a_command() -> None:
    assert find_command("Re: Pause i undervisningen", "") is None


def test_command_far_down_the_text_is_not_read() -> None:
    assert find_command("Re: x", "Hei\nlinje en\nlinje to\nlinje tre\nlinje fire\nSTOPP") is None
