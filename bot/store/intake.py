"""Durable intake of webhook events: a platform event is a row before the webhook answers 200.

States of a row (``intake_events``)::

    pending --claim--> pending + claim (lease) --finish--> done   (payload cleared)
                          |        |--retry_later--> pending (after a backoff)
                          |        '--fail---------> failed (stays visible, payload kept)
                          '--lease expired (crash) or release (shutdown) --> pending again

- :meth:`Intake.add` de-duplicates on ``(channel, event_id)`` at insert time: a redelivery of an
  event that is pending or done adds nothing.
- :meth:`Intake.claim` hands out, atomically (``UPDATE ... WHERE status='pending' AND`` the lease
  is free), only the oldest pending event of each resident, so one resident's events are
  processed strictly in order while different residents run in parallel, on one instance or
  several sharing the database.
- Every later change carries the claim token: a worker whose lease was taken over (it stalled
  longer than the lease) cannot overwrite the new owner's work.
- ``replies`` (the bot's answers, kept once Rasa has answered) and ``sent_parts`` (platform calls
  already made) let a worker that resumes an event after a crash send what is missing without
  asking Rasa again or sending twice.

The ORM class lives here rather than in :mod:`bot.store.models` to keep the part in one module;
it shares the same ``Base``. All methods are blocking (run them in an executor).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    case,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from bot.store import validation as v
from bot.store.database import Database
from bot.store.models import Base, UTCDateTime, utcnow
from bot.store.residents import Residents

PENDING, DONE, FAILED = "pending", "done", "failed"
STATUSES = (PENDING, DONE, FAILED)
MAX_ERROR = 200


class IntakeEvent(Base):
    """One platform event (a LINE webhook event, a Telegram update) and how far it got."""

    __tablename__ = "intake_events"
    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    event_id = Column(String(255), nullable=False)
    resident = Column(String(64), nullable=False)
    payload = Column(JSON, nullable=True)
    status = Column(String(16), nullable=False, default=PENDING)
    attempts = Column(Integer, nullable=False, default=0)
    claim_token = Column(String(32), nullable=True)
    claimed_until = Column(UTCDateTime, nullable=True)
    next_attempt_at = Column(UTCDateTime, nullable=False)
    retry_key = Column(String(36), nullable=False)
    replies = Column(JSON, nullable=True)
    sent_parts = Column(Integer, nullable=False, default=0)
    last_error = Column(String(MAX_ERROR), nullable=True)
    received_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)
    __table_args__ = (
        UniqueConstraint("channel", "event_id", name="uq_intake_channel_event"),
        Index("ix_intake_queue", "channel", "status", "resident", "id"),
    )


@dataclass(frozen=True)
class IntakeItem:
    """What a webhook hands to :meth:`Intake.add`: the platform's event id, the platform user
    (only its keyed hash is stored as the ordering key) and the raw event to process later."""

    event_id: str
    user_id: str
    payload: dict[str, Any]


@dataclass
class ClaimedEvent:
    """An event a worker holds (its lease) until it finishes, fails or releases it."""

    id: int
    channel: str
    event_id: str
    resident: str
    payload: dict[str, Any]
    attempts: int
    retry_key: str
    replies: list[dict[str, Any]] | None
    sent_parts: int
    received_at: datetime
    claim_token: str
    last_error: str | None = None


class Intake:
    """The ``intake_events`` part of the store."""

    def __init__(self, db: Database, residents: Residents) -> None:
        self.db = db
        self.residents = residents

    # ------------------------------------------------------------------ webhook side
    def add(
        self, channel: str, items: Sequence[IntakeItem], received_at: datetime | None = None
    ) -> list[bool]:
        """Store the events of one webhook call as ``pending``, in order, in one transaction.

        Returns, per item, True when it was new and False for a redelivery of an event already
        stored (pending, done or failed: nothing is added). Raises when the database cannot
        take them (the webhook then answers 5xx so that the platform delivers them again).
        """
        channel = v.check_channel(channel)
        now = v.aware(received_at, "received_at") or utcnow()
        added: list[bool] = []
        with self.db.session() as s:
            for item in items:
                row = IntakeEvent(
                    channel=channel,
                    event_id=v.check_message_id(item.event_id),
                    resident=self.residents.pseudonym(channel, str(item.user_id)),
                    payload=item.payload,
                    status=PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    retry_key=str(uuid.uuid4()),
                    sent_parts=0,
                    received_at=now,
                    updated_at=now,
                )
                savepoint = s.begin_nested()
                s.add(row)
                try:
                    savepoint.commit()
                except IntegrityError:
                    savepoint.rollback()
                    added.append(False)
                else:
                    added.append(True)
            s.commit()
        return added

    # ------------------------------------------------------------------ worker side
    def claim(
        self,
        channel: str,
        limit: int,
        lease_seconds: float,
        now: datetime | None = None,
    ) -> list[ClaimedEvent]:
        """Claim up to ``limit`` events: per resident only the oldest pending one, and only when
        no one holds it (its lease is free or expired) and its backoff is over."""
        now = now or utcnow()
        earlier = aliased(IntakeEvent)
        blocked = exists().where(
            and_(
                earlier.channel == IntakeEvent.channel,
                earlier.resident == IntakeEvent.resident,
                earlier.status == PENDING,
                earlier.id < IntakeEvent.id,
            )
        )
        free = or_(IntakeEvent.claimed_until.is_(None), IntakeEvent.claimed_until < now)
        query = (
            select(IntakeEvent.id)
            .where(
                IntakeEvent.channel == channel,
                IntakeEvent.status == PENDING,
                IntakeEvent.next_attempt_at <= now,
                free,
                ~blocked,
            )
            .order_by(IntakeEvent.id)
            .limit(limit)
        )
        claimed: list[ClaimedEvent] = []
        with self.db.session() as s:
            candidates = list(s.execute(query).scalars())
            for pk in candidates:
                if len(claimed) >= limit:
                    break
                token = uuid.uuid4().hex
                result = s.execute(
                    update(IntakeEvent)
                    .where(IntakeEvent.id == pk, IntakeEvent.status == PENDING, free)
                    .values(
                        claim_token=token,
                        claimed_until=now + timedelta(seconds=lease_seconds),
                        attempts=IntakeEvent.attempts + 1,
                        updated_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )
                s.commit()  # each claim on its own: another instance may race for the next one
                if result.rowcount != 1:
                    continue
                row = s.get(IntakeEvent, pk, populate_existing=True)
                if row is None or row.claim_token != token:
                    continue
                claimed.append(
                    ClaimedEvent(
                        id=row.id,
                        channel=row.channel,
                        event_id=row.event_id,
                        resident=row.resident,
                        payload=dict(row.payload or {}),
                        attempts=row.attempts,
                        retry_key=row.retry_key,
                        replies=list(row.replies) if row.replies is not None else None,
                        sent_parts=row.sent_parts,
                        received_at=row.received_at,
                        claim_token=token,
                        last_error=row.last_error,
                    )
                )
        return claimed

    def _update(self, event: ClaimedEvent, **values: Any) -> bool:
        values.setdefault("updated_at", utcnow())
        with self.db.session() as s:
            result = s.execute(
                update(IntakeEvent)
                .where(
                    IntakeEvent.id == event.id,
                    IntakeEvent.claim_token == event.claim_token,
                    IntakeEvent.status == PENDING,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            s.commit()
            return bool(result.rowcount == 1)

    def renew(self, event: ClaimedEvent, lease_seconds: float) -> bool:
        """Extend the lease; False when it was lost."""
        return self._update(event, claimed_until=utcnow() + timedelta(seconds=lease_seconds))

    def save_replies(
        self, event: ClaimedEvent, replies: list[dict[str, Any]], error: str | None = None
    ) -> bool:
        """Keep the bot's answers: from now on the event is only sent, never asked again.

        ``error`` says why the answers are an apology (processing failed for good): once they
        are sent the event becomes ``failed`` rather than ``done``."""
        return self._update(
            event,
            replies=replies,
            sent_parts=0,
            last_error=error[:MAX_ERROR] if error else None,
        )

    def mark_sent(self, event: ClaimedEvent, sent_parts: int) -> bool:
        """Record that the first ``sent_parts`` platform calls of the answer went through."""
        return self._update(event, sent_parts=sent_parts)

    def finish(self, event: ClaimedEvent) -> bool:
        """``done``: the answer was sent. The payload (message text, platform ids) is cleared;
        the event id stays so that a later redelivery is recognised."""
        return self._update(event, status=DONE, payload=None, claim_token=None, claimed_until=None)

    def fail(self, event: ClaimedEvent, error: str) -> bool:
        """``failed``: given up (kept, with the payload, for the officials to see)."""
        return self._update(
            event,
            status=FAILED,
            last_error=error[:MAX_ERROR],
            claim_token=None,
            claimed_until=None,
        )

    def retry_later(self, event: ClaimedEvent, delay_seconds: float, error: str) -> bool:
        """Give the event back as pending, to be claimed again after ``delay_seconds``."""
        now = utcnow()
        return self._update(
            event,
            claim_token=None,
            claimed_until=None,
            next_attempt_at=now + timedelta(seconds=delay_seconds),
            last_error=error[:MAX_ERROR],
            updated_at=now,
        )

    def release(self, event: ClaimedEvent) -> bool:
        """Give an unfinished event back at once (shutdown); the attempt does not count."""
        return self._update(
            event,
            claim_token=None,
            claimed_until=None,
            attempts=case((IntakeEvent.attempts > 0, IntakeEvent.attempts - 1), else_=0),
        )

    # ------------------------------------------------------------------ reading
    def counts(self, channel: str | None = None) -> dict[str, int]:
        """Number of events per state (all channels, or one)."""
        query = select(IntakeEvent.status, func.count()).group_by(IntakeEvent.status)
        if channel is not None:
            query = query.where(IntakeEvent.channel == channel)
        out = {status: 0 for status in STATUSES}
        with self.db.session() as s:
            for status, count in s.execute(query):
                out[str(status)] = int(count)
        return out

    def get(self, channel: str, event_id: str) -> dict[str, Any] | None:
        """One event's state (no payload), or None."""
        with self.db.session() as s:
            row = s.execute(
                select(IntakeEvent).where(
                    IntakeEvent.channel == channel, IntakeEvent.event_id == str(event_id)
                )
            ).scalar_one_or_none()
            if row is None:
                return None
            return {
                "channel": row.channel,
                "event_id": row.event_id,
                "resident": row.resident,
                "status": row.status,
                "attempts": row.attempts,
                "sent_parts": row.sent_parts,
                "has_payload": row.payload is not None,
                "last_error": row.last_error,
                "claimed": row.claim_token is not None,
                "received_at": row.received_at,
            }

    def failed(self, channel: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Events given up, newest first (id, channel, event id, error, when)."""
        query = (
            select(IntakeEvent)
            .where(IntakeEvent.status == FAILED)
            .order_by(IntakeEvent.id.desc())
            .limit(max(1, min(int(limit), 1000)))
        )
        if channel is not None:
            query = query.where(IntakeEvent.channel == channel)
        with self.db.session() as s:
            return [
                {
                    "id": row.id,
                    "channel": row.channel,
                    "event_id": row.event_id,
                    "last_error": row.last_error,
                    "attempts": row.attempts,
                    "received_at": row.received_at,
                }
                for row in s.execute(query).scalars()
            ]
