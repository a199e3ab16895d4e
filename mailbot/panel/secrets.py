"""Secrets the operator keeps out of config.toml: read from the environment (or the .env beside
config.toml, loaded by `load_settings`)."""

from __future__ import annotations

import os


class MissingSecret(Exception):
    """A secret the operator must put in the environment or .env."""


def secret(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise MissingSecret(
            f"{name} is not set — put it in the environment or in .env beside config.toml "
            f"(for the token key: {name}=$(python -c 'import secrets; print(secrets.token_urlsafe(32))'))"
        )
    return value
