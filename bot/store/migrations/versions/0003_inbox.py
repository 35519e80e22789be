"""The officials' inbox of resident messages the bot could not act on, with its audit log.

Revision ID: 0003
Revises: 0002
Create Date: 2025-11-30
"""

import sqlalchemy as sa
from alembic import op

from bot.store.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_message_id", sa.String(255), nullable=True),
        sa.Column("resident", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("danger", sa.Boolean, nullable=False),
        sa.Column("danger_terms", sa.JSON, nullable=False),
        sa.Column("place_text", sa.String(500), nullable=True),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("has_place", sa.Boolean, nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("handled", sa.Boolean, nullable=False),
        sa.Column("handled_at", UTCDateTime(), nullable=True),
        sa.Column("handled_by", sa.String(100), nullable=True),
        sa.Column("handled_note", sa.Text, nullable=True),
        sa.Column(
            "report_id",
            sa.Integer,
            sa.ForeignKey("reports.id", ondelete="SET NULL", name="fk_inbox_messages_report"),
            nullable=True,
        ),
        # NULL message ids (the widget, staff) never collide: both SQLite and PostgreSQL
        # treat NULLs as distinct in a unique constraint
        sa.UniqueConstraint("channel", "channel_message_id", name="uq_inbox_channel_msg"),
    )
    op.create_index(
        "ix_inbox_queue",
        "inbox_messages",
        ["handled", "danger", "has_place", "received_at", "id"],
    )
    op.create_index("ix_inbox_received_at", "inbox_messages", ["received_at"])
    op.create_table(
        "inbox_message_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "message_id",
            sa.Integer,
            sa.ForeignKey(
                "inbox_messages.id", ondelete="CASCADE", name="fk_inbox_message_log_message"
            ),
            nullable=False,
        ),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("report_id", sa.Integer, nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_inbox_message_log_message", "inbox_message_log", ["message_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_inbox_message_log_message", table_name="inbox_message_log")
    op.drop_table("inbox_message_log")
    op.drop_index("ix_inbox_received_at", table_name="inbox_messages")
    op.drop_index("ix_inbox_queue", table_name="inbox_messages")
    op.drop_table("inbox_messages")
