"""outbox: indexes on claimed_at and sent_at

Every claim under a rate limit counts the rows claimed in the last minute,
hour and day (`outbox.used_in_windows`: a range on `claimed_at`), and the send
ledger reads by time (`mailbot ledger --since`: a range on `sent_at`, or on
`claimed_at` for rows not sent). Without these both scan the whole outbox,
which grows by a row per member per email.

Revision ID: 0007_outbox_time_indexes
Revises: 0006_member_gender
"""

from alembic import op

revision = "0007_outbox_time_indexes"
down_revision = "0006_member_gender"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_claimed_at", "outbox", ["claimed_at"])
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_sent_at", table_name="outbox")
    op.drop_index("ix_outbox_claimed_at", table_name="outbox")
