"""The officials' access log: every export of personal data (CSV, GeoJSON, any bulk download).

One row per export: who (name and role at the time), what (``action``, ``resource``), when, and
the request's filters and the number of rows handed out (``detail``; never the rows
themselves). Rows are only added, never changed. See docs/privacy.md.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, String, select

from bot.store import validation as v
from bot.store.database import Database
from bot.store.errors import InvalidInput
from bot.store.models import Base, UTCDateTime, _iso, utcnow

ACTIONS = ("export",)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    official = Column(String(100), nullable=False)
    role = Column(String(16), nullable=False)
    action = Column(String(32), nullable=False)
    resource = Column(String(64), nullable=False)
    detail = Column(JSON, nullable=False, default=dict)
    __table_args__ = (Index("ix_audit_log_at", "at", "id"),)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": _iso(self.at),
            "official": self.official,
            "role": self.role,
            "action": self.action,
            "resource": self.resource,
            "detail": dict(self.detail or {}),
        }


class Audit:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self, official: str, role: str, action: str, resource: str, detail: dict[str, Any]
    ) -> AuditEntry:
        """Add one row (committed before the caller hands anything out)."""
        if action not in ACTIONS:
            raise InvalidInput(f"audit action must be one of {', '.join(ACTIONS)}")
        row = AuditEntry(
            official=str(official)[: v.MAX_BY],
            role=str(role)[:16],
            action=action,
            resource=str(resource)[:64],
            detail=dict(detail),
            at=utcnow(),
        )
        with self.db.session() as s:
            s.add(row)
            s.commit()
        return row

    def recent(self, limit: int = 100) -> list[AuditEntry]:
        """The newest rows first."""
        with self.db.session() as s:
            stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(max(1, min(limit, 1000)))
            return list(s.execute(stmt).scalars())
