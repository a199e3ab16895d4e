"""Alembic environment: runs with the connection `mailbot.store` hands it."""

from alembic import context

import mailbot.membership_models  # noqa: E402,F401  signups, consents, email_changes, staff_audit
import mailbot.store.seats  # noqa: E402,F401  seat_groups, enrolments
from mailbot.store.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        connection = create_engine(context.config.get_main_option("sqlalchemy.url") or "").connect()
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
