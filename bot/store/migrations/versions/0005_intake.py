"""Durable intake: webhook events stored as pending before the webhook answers 200.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from bot.store.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("resident", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("retry_key", sa.String(36), nullable=False),
        sa.Column("replies", sa.JSON, nullable=True),
        sa.Column("sent_parts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        # de-duplication of redeliveries happens here, when the event is stored
        sa.UniqueConstraint("channel", "event_id", name="uq_intake_channel_event"),
    )
    # the claim query: pending events of a channel, per resident, in arrival order
    op.create_index("ix_intake_queue", "intake_events", ["channel", "status", "resident", "id"])


def downgrade() -> None:
    op.drop_index("ix_intake_queue", table_name="intake_events")
    op.drop_table("intake_events")
