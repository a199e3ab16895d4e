"""read-backs: replies read with less than full confidence wait here for the resident's "yes, that's right"

Nothing of such a reply is recorded in `responses` until the resident
confirms it (a link, or a reply), corrects it, or the survey closes
(`[replies] unconfirmed_at_close`). At most one reading waits per member and
survey (a partial unique index; a newer reply replaces the older reading).

`responses.source` grows from 10 to 30 characters for the sources that say how
a read-back ended ("read-back-confirmed", "read-back-corrected", …). SQLite
does not enforce VARCHAR lengths, so only PostgreSQL's column is altered
(rebuilding the whole table on SQLite would gain nothing).

Revision ID: 0008_read_backs
Revises: 0007_outbox_time_indexes
"""

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0008_read_backs"
down_revision = "0007_outbox_time_indexes"
branch_labels = None
depends_on = None

WAITING = sa.text("status = 'waiting'")


def upgrade() -> None:
    op.create_table(
        "read_backs",
        sa.Column("id", BigId, nullable=False),
        sa.Column("campaign_id", sa.String(100), nullable=False),
        sa.Column("member_id", BigId, sa.ForeignKey("members.id", ondelete="SET NULL",
                                                    name="fk_read_backs_member_id_members"), nullable=True),
        sa.Column("inbound_id", BigId, nullable=False),
        sa.Column("outbox_id", BigId, nullable=True),
        sa.Column("after_step", sa.String(60), nullable=True),
        sa.Column("source", sa.String(30), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("confirm", sa.Text(), nullable=False),
        sa.Column("unsure", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_read_backs"),
    )
    op.create_index("ix_read_backs_campaign_status", "read_backs", ["campaign_id", "status"])
    op.create_index("ix_read_backs_member", "read_backs", ["member_id"])
    op.create_index("uq_read_backs_waiting", "read_backs", ["campaign_id", "member_id"], unique=True,
                    postgresql_where=WAITING, sqlite_where=WAITING)
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("responses", "source", type_=sa.String(30), existing_type=sa.String(10),
                        existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        # Longer sources cannot be kept in 10 characters: they become "reply", which they were.
        op.execute("UPDATE responses SET source = 'reply' WHERE LENGTH(source) > 10")
        op.alter_column("responses", "source", type_=sa.String(10), existing_type=sa.String(30),
                        existing_nullable=False)
    op.drop_index("uq_read_backs_waiting", table_name="read_backs")
    op.drop_index("ix_read_backs_member", table_name="read_backs")
    op.drop_index("ix_read_backs_campaign_status", table_name="read_backs")
    op.drop_table("read_backs")
