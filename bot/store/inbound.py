"""Inbound message ids, kept apart from reports to drop a platform's redeliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from bot.store import validation as v
from bot.store.database import Database
from bot.store.models import InboundMessage, utcnow


class InboundMessages:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self,
        channel: str,
        channel_message_id: str,
        sender_hash: str,
        received_at: datetime | None = None,
    ) -> bool:
        """Record an inbound message id; False when (channel, id) was already seen."""
        row = InboundMessage(
            channel=v.check_channel(channel),
            channel_message_id=v.check_message_id(channel_message_id),
            sender_hash=str(sender_hash)[:64],
            received_at=v.aware(received_at, "received_at") or utcnow(),
        )
        with self.db.session() as s:
            s.add(row)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                return False
        return True
