"""answer counts: answers per question and value, respondents per question, kept by responses.record

Results read these few hundred rows instead of grouping millions of answers.
The tables are filled here from the answers already stored (the same GROUP BY
as `mailbot.store.answer_counts.rebuild`), so an upgraded database shows the
same figures as before.

Revision ID: 0005_answer_counts
Revises: 0004_seats
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_answer_counts"
down_revision = "0004_seats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_counts",
        sa.Column("campaign_id", sa.String(100), nullable=False),
        sa.Column("question_id", sa.String(60), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "question_id", "value", name="pk_answer_counts"),
    )
    op.create_table(
        "respondent_counts",
        sa.Column("campaign_id", sa.String(100), nullable=False),
        sa.Column("question_id", sa.String(60), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "question_id", name="pk_respondent_counts"),
    )
    op.execute(
        "INSERT INTO answer_counts (campaign_id, question_id, value, n) "
        "SELECT campaign_id, question_id, COALESCE(choice, CAST(number AS VARCHAR)), COUNT(*) FROM answers "
        "WHERE choice IS NOT NULL OR number IS NOT NULL "
        "GROUP BY campaign_id, question_id, COALESCE(choice, CAST(number AS VARCHAR))"
    )
    op.execute(
        "INSERT INTO respondent_counts (campaign_id, question_id, n) "
        "SELECT campaign_id, question_id, COUNT(DISTINCT response_id) FROM answers "
        "GROUP BY campaign_id, question_id "
        "UNION ALL "
        "SELECT campaign_id, '', COUNT(DISTINCT response_id) FROM answers GROUP BY campaign_id"
    )


def downgrade() -> None:
    op.drop_table("respondent_counts")
    op.drop_table("answer_counts")
