"""Reports: the channel's id of the message that created each report (``report_sources``),
unique per channel, so that storing a report is idempotent.

A resident's confirming message can be processed twice: the durable intake runs a turn again
when the Rasa process died after the action stored the report but before the turn was saved,
and a turn whose action server failed is retried. The second run finds the report the first one
stored (same channel, same message id) instead of storing a second one. A table of its own
rather than a column, so that the ``reports`` rows and every reader of them stay unchanged.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_sources",
        sa.Column(
            "report_id",
            sa.Integer,
            sa.ForeignKey("reports.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.UniqueConstraint("channel", "message_id", name="uq_report_sources_message"),
    )


def downgrade() -> None:
    op.drop_table("report_sources")
