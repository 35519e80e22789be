"""SQLAlchemy models of the report store (SQLAlchemy 1.4, 2.0-style usage).

Vocabularies (categories, statuses, place types, congestion levels) are the fixed points of
ARCHITECTURE.md; the database keeps the stored value, labels live in :mod:`bot.store.vocab`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

Base: Any = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as naive UTC (portable across SQLite and PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class InboundMessage(Base):
    """A raw inbound channel message id, kept apart from reports to drop redeliveries."""

    __tablename__ = "inbound_messages"
    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    channel_message_id = Column(String(255), nullable=False)
    sender_hash = Column(String(64), nullable=False)
    received_at = Column(UTCDateTime, nullable=False, default=utcnow)
    __table_args__ = (
        UniqueConstraint("channel", "channel_message_id", name="uq_inbound_channel_msg"),
    )


class Report(Base):
    """A field report from a resident (or logged by staff)."""

    __tablename__ = "reports"
    id = Column(Integer, primary_key=True)
    category = Column(String(32), nullable=False)
    status = Column(String(16), nullable=False, default="new")
    text = Column(Text, nullable=True)
    lat = Column(Float, nullable=True)
    lon = Column(Float, nullable=True)
    place_text = Column(String(500), nullable=True)
    accuracy_m = Column(Float, nullable=True)
    headcount = Column(Integer, nullable=True)
    needs = Column(JSON, nullable=False, default=list)
    urgency = Column(String(16), nullable=False, default="normal")
    shelter_id = Column(String(32), nullable=True)
    channel = Column(String(32), nullable=False)
    resident = Column(String(64), nullable=True)
    reported_at = Column(UTCDateTime, nullable=False)
    received_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)
    duplicate_of = Column(Integer, ForeignKey("reports.id", ondelete="SET NULL"), nullable=True)

    photos = relationship(
        "ReportPhoto",
        order_by="ReportPhoto.id",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    __table_args__ = (
        # (reported_at, id) orders the keyset pages; lat, lon let a bbox be tested in the index
        Index("ix_reports_time_place", "reported_at", "id", "lat", "lon"),
        Index("ix_reports_lat_lon", "lat", "lon"),
        Index("ix_reports_status", "status"),
        Index("ix_reports_category", "category"),
    )

    @property
    def photo_refs(self) -> list[str]:
        return [p.photo_ref for p in self.photos]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": self.category,
            "status": self.status,
            "text": self.text,
            "lat": self.lat,
            "lon": self.lon,
            "place_text": self.place_text,
            "accuracy_m": self.accuracy_m,
            "headcount": self.headcount,
            "needs": list(self.needs or []),
            "urgency": self.urgency,
            "shelter_id": self.shelter_id,
            "channel": self.channel,
            "reported_at": _iso(self.reported_at),
            "received_at": _iso(self.received_at),
            "updated_at": _iso(self.updated_at),
            "duplicate_of": self.duplicate_of,
            "photos": self.photo_refs,
        }


class ReportPhoto(Base):
    __tablename__ = "report_photos"
    id = Column(Integer, primary_key=True)
    report_id = Column(Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False)
    photo_ref = Column(String(80), nullable=False)
    added_at = Column(UTCDateTime, nullable=False, default=utcnow)
    __table_args__ = (Index("ix_report_photos_report", "report_id"),)


class ReportStatusChange(Base):
    """Audit log: every status move of a report (creation included)."""

    __tablename__ = "report_status_log"
    id = Column(Integer, primary_key=True)
    report_id = Column(Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False)
    old_status = Column(String(16), nullable=True)
    new_status = Column(String(16), nullable=False)
    by = Column(String(100), nullable=False)
    note = Column(Text, nullable=True)
    duplicate_of = Column(Integer, nullable=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    __table_args__ = (Index("ix_report_status_log_report", "report_id", "id"),)

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_status": self.old_status,
            "new_status": self.new_status,
            "by": self.by,
            "note": self.note,
            "duplicate_of": self.duplicate_of,
            "at": _iso(self.at),
        }


class Evacuee(Base):
    """One registration per resident (dispersed evacuation included); updated in place."""

    __tablename__ = "evacuees"
    id = Column(Integer, primary_key=True)
    resident = Column(String(64), nullable=False, unique=True)
    channel = Column(String(32), nullable=False)
    place_type = Column(String(16), nullable=False)
    headcount = Column(Integer, nullable=False, default=1)
    vulnerable = Column(JSON, nullable=False, default=dict)
    needs = Column(JSON, nullable=False, default=list)
    consent = Column(Boolean, nullable=False, default=False)
    lat = Column(Float, nullable=True)
    lon = Column(Float, nullable=True)
    place_text = Column(String(500), nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "place_type": self.place_type,
            "headcount": self.headcount,
            "vulnerable": dict(self.vulnerable or {}),
            "needs": list(self.needs or []),
            "consent": self.consent,
            "lat": self.lat,
            "lon": self.lon,
            "place_text": self.place_text,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


class ShelterStatus(Base):
    """A shelter status update (append-only; the latest row per shelter is the current one)."""

    __tablename__ = "shelter_status"
    id = Column(Integer, primary_key=True)
    shelter_id = Column(String(32), nullable=False)
    status = Column(String(16), nullable=False)
    congestion = Column(String(16), nullable=True)
    shortages = Column(JSON, nullable=False, default=list)
    by = Column(String(100), nullable=False)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    __table_args__ = (Index("ix_shelter_status_shelter_id", "shelter_id", "id"),)

    def to_dict(self) -> dict[str, Any]:
        return {
            "shelter_id": self.shelter_id,
            "status": self.status,
            "congestion": self.congestion,
            "shortages": list(self.shortages or []),
            "by": self.by,
            "at": _iso(self.at),
        }


class Official(Base):
    """A disaster official with a role and a hashed API token."""

    __tablename__ = "officials"
    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False, unique=True)
    role = Column(String(16), nullable=False)
    token_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    revoked_at = Column(UTCDateTime, nullable=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "created_at": _iso(self.created_at),
            "revoked_at": _iso(self.revoked_at),
        }


class Notice(Base):
    """A notice from the officials to residents, with the outcome of its broadcast per channel.

    ``broadcast`` maps a channel name (``line``, ``telegram``) to
    ``{"status": "sent" | "failed" | "skipped", "detail": str, "at": ISO time}``; empty when the
    notice was stored without broadcasting.
    """

    __tablename__ = "notices"
    id = Column(Integer, primary_key=True)
    title = Column(String(100), nullable=False)
    body = Column(Text, nullable=False)
    severity = Column(String(16), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    created_by = Column(String(100), nullable=False)
    broadcast = Column(JSON, nullable=False, default=dict)
    __table_args__ = (Index("ix_notices_created_at_id", "created_at", "id"),)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "severity": self.severity,
            "created_at": _iso(self.created_at),
            "created_by": self.created_by,
            "broadcast": {k: dict(v) for k, v in (self.broadcast or {}).items()},
        }


class InboxMessage(Base):
    """A resident message the bot could not act on (fallback, out of scope, cancelled form).

    Kept for the officials' 「未対応メッセージ」 inbox until an official marks it handled or turns
    it into a report. ``resident`` is the keyed pseudonym (never the channel user id);
    ``has_place`` is true when a place word or a location came with it (sort key of the inbox).
    """

    __tablename__ = "inbox_messages"
    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    channel_message_id = Column(String(255), nullable=True)
    resident = Column(String(64), nullable=False)
    text = Column(Text, nullable=False)
    reason = Column(String(16), nullable=False)
    intent = Column(String(64), nullable=True)
    confidence = Column(Float, nullable=True)
    danger = Column(Boolean, nullable=False, default=False)
    danger_terms = Column(JSON, nullable=False, default=list)
    place_text = Column(String(500), nullable=True)
    lat = Column(Float, nullable=True)
    lon = Column(Float, nullable=True)
    has_place = Column(Boolean, nullable=False, default=False)
    received_at = Column(UTCDateTime, nullable=False)
    handled = Column(Boolean, nullable=False, default=False)
    handled_at = Column(UTCDateTime, nullable=True)
    handled_by = Column(String(100), nullable=True)
    handled_note = Column(Text, nullable=True)
    report_id = Column(Integer, ForeignKey("reports.id", ondelete="SET NULL"), nullable=True)

    __table_args__ = (
        UniqueConstraint("channel", "channel_message_id", name="uq_inbox_channel_msg"),
        Index("ix_inbox_queue", "handled", "danger", "has_place", "received_at", "id"),
        Index("ix_inbox_received_at", "received_at"),
    )

    def to_dict(self) -> dict[str, Any]:
        """Fields for officials; the resident pseudonym is left out (never shown)."""
        return {
            "id": self.id,
            "channel": self.channel,
            "text": self.text,
            "reason": self.reason,
            "intent": self.intent,
            "confidence": self.confidence,
            "danger": bool(self.danger),
            "danger_terms": list(self.danger_terms or []),
            "place_text": self.place_text,
            "lat": self.lat,
            "lon": self.lon,
            "has_place": bool(self.has_place),
            "received_at": _iso(self.received_at),
            "handled": bool(self.handled),
            "handled_at": _iso(self.handled_at),
            "handled_by": self.handled_by,
            "handled_note": self.handled_note,
            "report_id": self.report_id,
        }


class InboxMessageChange(Base):
    """Audit log of the inbox: arrival, handled / reopened, turned into a report."""

    __tablename__ = "inbox_message_log"
    id = Column(Integer, primary_key=True)
    message_id = Column(
        Integer, ForeignKey("inbox_messages.id", ondelete="CASCADE"), nullable=False
    )
    action = Column(String(16), nullable=False)  # received | handled | reopened | reported
    by = Column(String(100), nullable=False)
    note = Column(Text, nullable=True)
    report_id = Column(Integer, nullable=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    __table_args__ = (Index("ix_inbox_message_log_message", "message_id", "id"),)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "by": self.by,
            "note": self.note,
            "report_id": self.report_id,
            "at": _iso(self.at),
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
