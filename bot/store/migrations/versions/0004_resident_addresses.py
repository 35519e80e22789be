"""Where a reply or push to a resident must go: pseudonymous sender -> raw platform id.

The only table that holds a raw platform id (LINE userId, Telegram chat id); no officials'
route reads it (see bot/identity.py and bot/store/addresses.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from bot.store.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resident_addresses",
        sa.Column("sender", sa.String(100), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("resident_addresses")
