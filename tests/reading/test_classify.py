"""Bounces, auto-replies and replies are told apart; a person is never taken for a machine."""

from __future__ import annotations

from mailbot.reading import classify, decode, read_bounce, verp_token


def _msg(headers: str, body: str = "Hei\n"):
    message = decode((headers.strip() + "\n\n" + body).encode()).message
    assert message is not None
    return message


DSN = """From: MAILER-DAEMON@mx.example.no (Mail Delivery System)
To: bounces+k7qx2mz9pl@svar.baerum.example.no
Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/report; report-type=delivery-status; boundary="b"
"""


def _dsn(status: str, action: str, address: str = "ola@bredband-nett.example.no") -> str:
    return (
        "--b\nContent-Type: text/plain\n\nCould not deliver.\n\n"
        "--b\nContent-Type: message/delivery-status\n\n"
        f"Reporting-MTA: dns; mx.example.no\n\nFinal-Recipient: rfc822; {address}\nAction: {action}\n"
        f"Status: {status}\n\n--b--\n"
    )


def test_dsn_with_5xx_status_is_a_permanent_bounce() -> None:
    bounce = read_bounce(_msg(DSN, _dsn("5.1.1", "failed")))
    assert bounce is not None
    assert bounce.addresses == ("ola@bredband-nett.example.no",)
    assert bounce.permanent is True


def test_dsn_with_4xx_status_or_delayed_action_is_temporary() -> None:
    bounce = read_bounce(_msg(DSN, _dsn("4.4.1", "delayed")))
    assert bounce is not None and bounce.permanent is False


def test_verp_token_is_taken_from_the_bounce_address() -> None:
    assert verp_token(_msg(DSN, _dsn("5.1.1", "failed"))) == "k7qx2mz9pl"


def test_address_at_a_hyphenated_domain_is_found_in_a_non_standard_bounce() -> None:
    headers = "From: Mail Delivery System <Mailer-Daemon@mx.example.no>\nSubject: Mail delivery failed"
    body = (
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\nrecipients. "
        "This is a permanent error. The following address(es) failed:\n\n"
        "  kari@fjord-nett.example.no\n    550 5.1.1 No such user\n"
    )
    bounce = read_bounce(_msg(headers, body))
    assert bounce is not None and "kari@fjord-nett.example.no" in bounce.addresses


def test_norwegian_exchange_ndr_is_a_bounce() -> None:
    headers = "From: postmaster@firma.example.no\nSubject: Ikke levert: Spørreundersøkelse"
    body = (
        "Levering til disse mottakerne eller gruppene mislyktes:\n\ngeir@firma.example.no\n"
        "Finner ikke e-postadressen du skrev inn.\n\n550 5.1.10 RESOLVER.ADR.RecipientNotFound\n"
    )
    reading = classify(_msg(headers, body))
    assert reading.kind == "bounce"
    assert reading.bounce is not None and reading.bounce.addresses == ("geir@firma.example.no",)
    assert reading.bounce.permanent is True


def test_our_own_address_is_never_listed_as_bounced() -> None:
    bounce = read_bounce(
        _msg(DSN, _dsn("5.1.1", "failed", "innbyggerpanel@baerum.example.no")),
        ["innbyggerpanel@baerum.example.no"],
    )
    assert bounce is not None and bounce.addresses == ()


def test_auto_submitted_header_makes_an_auto_reply() -> None:
    assert (
        classify(_msg("From: a@b.example\nSubject: Re: x\nAuto-Submitted: auto-replied")).kind == "auto-reply"
    )


def test_auto_submitted_no_is_a_normal_reply() -> None:
    assert classify(_msg("From: a@b.example\nSubject: Re: x\nAuto-Submitted: no", "1 A")).kind == "reply"


def test_precedence_auto_reply_alone_is_enough() -> None:
    assert (
        classify(_msg("From: a@b.example\nSubject: Out of Office\nPrecedence: auto_reply")).kind
        == "auto-reply"
    )


def test_fravaersmelding_subject_with_away_wording_is_an_auto_reply() -> None:
    msg = _msg(
        "From: a@b.example\nSubject: Fraværsmelding", "Jeg er på ferie til 2. januar og leser ikke e-post."
    )
    assert classify(msg).kind == "auto-reply"


def test_x_auto_response_suppress_alone_does_not_make_a_machine() -> None:
    msg = _msg(
        "From: a@b.example\nSubject: SV: Spørreundersøkelse\nX-Auto-Response-Suppress: All",
        "Jeg er på ferie nå, men her er svarene: 1 A 2 B",
    )
    assert classify(msg).kind == "reply"


def test_holiday_words_in_the_survey_title_do_not_make_a_machine() -> None:
    msg = _msg("From: a@b.example\nSubject: Re: Ferie for barn i Bærum", "1 A")
    assert classify(msg).kind == "reply"


def test_challenge_response_screen_is_an_auto_reply_not_a_bounce() -> None:
    msg = _msg(
        "From: noreply@screen.example\nSubject: Re: x",
        "Your message has been waitlisted. Please add yourself to my Guest List by clicking the link.",
    )
    assert classify(msg).kind == "auto-reply"


def test_mail_from_our_own_address_is_never_answered() -> None:
    msg = _msg("From: Innbyggerpanelet <innbyggerpanel@baerum.example.no>\nSubject: x", "1 A")
    assert classify(msg, ["innbyggerpanel@baerum.example.no"]).kind == "auto-reply"
