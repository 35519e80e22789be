"""Notices from officials to residents, with the per-channel broadcast outcome.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-27
"""

import sqlalchemy as sa
from alembic import op

from bot.store.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("broadcast", sa.JSON, nullable=False),
    )
    op.create_index("ix_notices_created_at_id", "notices", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_notices_created_at_id", table_name="notices")
    op.drop_table("notices")
