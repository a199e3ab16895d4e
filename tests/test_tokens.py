"""Tokens in reply addresses and links: short, case-insensitive, unforgeable, rotatable."""

from __future__ import annotations

import pytest

from mailbot.tokens import BadToken, ExpiredToken, Keys, reply_address, token_from_address


def test_reply_token_survives_a_server_that_lowercases_or_uppercases_addresses():
    keys = Keys(("k1",))
    token = keys.address_token(123456)
    assert keys.read_address_token(token.upper()) == 123456
    assert token == token.lower()


def test_reply_address_fits_in_the_64_octet_local_part_limit():
    keys = Keys(("k1",))
    address = reply_address("innbyggerpanel", keys.address_token(2**40), "svar.baerum.example.no")
    assert len(address.split("@")[0]) <= 64


def test_a_changed_token_is_refused():
    keys = Keys(("k1",))
    token = keys.address_token(42)
    tampered = token[:-1] + ("a" if token[-1] != "a" else "b")
    with pytest.raises(BadToken):
        keys.read_address_token(tampered)


def test_a_token_for_replies_is_not_accepted_for_bounces():
    keys = Keys(("k1",))
    with pytest.raises(BadToken):
        keys.read_address_token(keys.address_token(7), "bounce")


def test_after_key_rotation_old_tokens_still_work_and_new_ones_use_the_new_key():
    old = Keys(("old",))
    token = old.address_token(99)
    rotated = Keys.from_env_values("new", "old")
    assert rotated.read_address_token(token) == 99
    with pytest.raises(BadToken):
        old.read_address_token(rotated.address_token(99))


def test_an_expired_link_is_told_apart_from_a_bad_one():
    keys = Keys(("k1",))
    token = keys.link_token("answer", {"m": 1, "c": "ombruk-2022"})
    assert keys.read_link_token("answer", token) == {"m": 1, "c": "ombruk-2022"}
    with pytest.raises(ExpiredToken):
        keys.read_link_token("answer", token, max_age_seconds=-1)
    with pytest.raises(BadToken):
        keys.read_link_token("unsubscribe", token)


def test_token_is_found_in_our_address_only():
    assert token_from_address("<Innbyggerpanel+ABC123@svar.example.no>", "innbyggerpanel") == "abc123"
    assert token_from_address("someone+abc@svar.example.no", "innbyggerpanel") is None
    assert token_from_address("innbyggerpanel@svar.example.no", "innbyggerpanel") is None
