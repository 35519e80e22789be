"""Initial schema: inbound messages, reports, photos, status log, evacuees, shelters, officials.

Revision ID: 0001
Revises:
Create Date: 2025-11-26
"""

import sqlalchemy as sa
from alembic import op

from bot.store.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_message_id", sa.String(255), nullable=False),
        sa.Column("sender_hash", sa.String(64), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("channel", "channel_message_id", name="uq_inbound_channel_msg"),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("place_text", sa.String(500), nullable=True),
        sa.Column("accuracy_m", sa.Float, nullable=True),
        sa.Column("headcount", sa.Integer, nullable=True),
        sa.Column("needs", sa.JSON, nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("shelter_id", sa.String(32), nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("resident", sa.String(64), nullable=True),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column(
            "duplicate_of",
            sa.Integer,
            sa.ForeignKey("reports.id", ondelete="SET NULL", name="fk_reports_duplicate_of"),
            nullable=True,
        ),
    )
    op.create_index("ix_reports_reported_at_id", "reports", ["reported_at", "id"])
    op.create_index("ix_reports_lat_lon", "reports", ["lat", "lon"])
    op.create_index("ix_reports_status", "reports", ["status"])
    op.create_index("ix_reports_category", "reports", ["category"])
    op.create_table(
        "report_photos",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "report_id",
            sa.Integer,
            sa.ForeignKey("reports.id", ondelete="CASCADE", name="fk_report_photos_report"),
            nullable=False,
        ),
        sa.Column("photo_ref", sa.String(80), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_report_photos_report", "report_photos", ["report_id"])
    op.create_table(
        "report_status_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "report_id",
            sa.Integer,
            sa.ForeignKey("reports.id", ondelete="CASCADE", name="fk_report_status_log_report"),
            nullable=False,
        ),
        sa.Column("old_status", sa.String(16), nullable=True),
        sa.Column("new_status", sa.String(16), nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("duplicate_of", sa.Integer, nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_report_status_log_report", "report_status_log", ["report_id", "id"])
    op.create_table(
        "evacuees",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("resident", sa.String(64), nullable=False, unique=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("place_type", sa.String(16), nullable=False),
        sa.Column("headcount", sa.Integer, nullable=False),
        sa.Column("vulnerable", sa.JSON, nullable=False),
        sa.Column("needs", sa.JSON, nullable=False),
        sa.Column("consent", sa.Boolean, nullable=False),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("place_text", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "shelter_status",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("shelter_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("congestion", sa.String(16), nullable=True),
        sa.Column("shortages", sa.JSON, nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_shelter_status_shelter_id", "shelter_status", ["shelter_id", "id"])
    op.create_table(
        "officials",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    for table in (
        "officials",
        "shelter_status",
        "evacuees",
        "report_status_log",
        "report_photos",
        "reports",
        "inbound_messages",
    ):
        op.drop_table(table)
