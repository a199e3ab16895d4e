"""members.gender: kvinne, mann or annet from the roster's gender/kjønn column, for results by gender

Revision ID: 0006_member_gender
Revises: 0005_answer_counts
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_member_gender"
down_revision = "0005_answer_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.add_column(sa.Column("gender", sa.String(10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_column("gender")
