"""seats: seat groups (workshops, cohorts, committees) and enrolments (seated, waitlisted, offered, paused)

Revision ID: 0004_seats
Revises: 0003_results_indexes
"""

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0004_seats"
down_revision = "0003_results_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seat_groups",
        sa.Column("id", BigId, nullable=False),
        sa.Column("campaign_id", sa.String(100), nullable=False),
        sa.Column("group_id", sa.String(60), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("starts", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_seat_groups"),
        sa.UniqueConstraint("campaign_id", "group_id", name="uq_seat_groups_campaign_group"),
    )
    op.create_table(
        "enrolments",
        sa.Column("id", BigId, nullable=False),
        sa.Column("campaign_id", sa.String(100), nullable=False),
        sa.Column("group_id", sa.String(60), nullable=False),
        sa.Column("wants", sa.String(60), nullable=False),
        sa.Column("member_id", BigId, sa.ForeignKey("members.id", ondelete="SET NULL",
                                                    name="fk_enrolments_member_id_members"), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offer_expires", sa.DateTime(timezone=True), nullable=True),
        sa.Column("skip_lesson", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_enrolments"),
        sa.UniqueConstraint("campaign_id", "member_id", name="uq_enrolments_campaign_member"),
    )
    op.create_index("ix_enrolments_group_status", "enrolments", ["campaign_id", "group_id", "status", "queued_at"])


def downgrade() -> None:
    op.drop_index("ix_enrolments_group_status", table_name="enrolments")
    op.drop_table("enrolments")
    op.drop_table("seat_groups")
