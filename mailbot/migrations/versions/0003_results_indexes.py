"""results: a covering index for aggregating answers, and one for respondents per campaign

`count_answers` groups a campaign's answers by (question, choice, number) and
counts distinct responses for multi questions; with every column it reads in
one index, SQLite and PostgreSQL answer from the index alone (no table rows).

Revision ID: 0003_results_indexes
Revises: 0002_membership
"""

from alembic import op

revision = "0003_results_indexes"
down_revision = "0002_membership"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_answers_aggregate", "answers",
                    ["campaign_id", "question_id", "choice", "number", "response_id"])
    op.create_index("ix_responses_campaign_source", "responses", ["campaign_id", "source", "after_step"])


def downgrade() -> None:
    op.drop_index("ix_responses_campaign_source", table_name="responses")
    op.drop_index("ix_answers_aggregate", table_name="answers")
