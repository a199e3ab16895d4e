"""report cells: answers counted per age band x gender x district, for the full report's segments and weights

`report_cell_schemes` says how a campaign's respondents are divided (the survey's opening day, the
age bands and districts of config.toml, population.toml's genders and gender tags: the same
divisions the report's GROUP BY queries make); `report_cell_counts` holds, per cell, the
respondents, the answer rows per question and per value. Both start empty: the cells depend on
config.toml and population.toml, which a migration does not see. The first report of a campaign
(`mailbot.store.report_cells.ensure`, called by the web report and `mailbot results`) builds its
counts from the answers already stored with one GROUP BY, in one transaction; from then on
`responses.record` and every change of a member's profile keep them. A change of the bands,
districts or genders gives another scheme, and the next report builds the counts again.

Revision ID: 0009_report_cells
Revises: 0008_read_backs
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_report_cells"
down_revision = "0008_read_backs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_cell_schemes",
        sa.Column("campaign_id", sa.String(100), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", name="pk_report_cell_schemes"),
    )
    op.create_table(
        "report_cell_counts",
        sa.Column("campaign_id", sa.String(100), nullable=False),
        sa.Column("age_band", sa.String(100), nullable=False),
        sa.Column("gender", sa.String(100), nullable=False),
        sa.Column("district", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(1), nullable=False),
        sa.Column("question_id", sa.String(60), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "age_band", "gender", "district", "kind", "question_id", "value",
                                name="pk_report_cell_counts"),
    )


def downgrade() -> None:
    op.drop_table("report_cell_counts")
    op.drop_table("report_cell_schemes")
