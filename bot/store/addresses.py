"""Residents' addresses: the raw platform id a reply or push must be sent to.

Rasa and every other table know a resident only as the pseudonymous sender id
(``<channel>:<hash>``, :mod:`bot.identity`). A push that is not the direct answer to a webhook
call (LINE's push API, a Telegram ``sendMessage`` sent later) needs the raw id again: the
connector records it here when the resident writes, and the sender finds it with
:meth:`Addresses.lookup`. The table is written and read only by the channel connectors; the
officials' app has no route, role or export that reads it, and it is never logged.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Column, String, select
from sqlalchemy.exc import IntegrityError

from bot import identity
from bot.store import validation as v
from bot.store.database import Database
from bot.store.errors import InvalidInput
from bot.store.models import Base, UTCDateTime, utcnow

MAX_ADDRESS = 255


class ResidentAddress(Base):
    """One resident's platform address, keyed by their pseudonymous sender id."""

    __tablename__ = "resident_addresses"
    sender = Column(String(100), primary_key=True)
    channel = Column(String(32), nullable=False)
    address = Column(String(255), nullable=False)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow)


#: a resident's address is written at most once per this many seconds per process (not once per
#: message); the write also refreshes ``updated_at``, so the row shows recent activity to the
#: retention purge, and a row deleted by another process (erasure, purge) comes back with the
#: resident's next message after at most this long
CACHE_SECONDS = 600.0


class Addresses:
    def __init__(self, db: Database, clock: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self._clock = clock
        # sender -> (address, when this process last wrote it); bounded, it is only a cache
        self._known: dict[str, tuple[str, float]] = {}

    def remember(self, sender: str, address: str) -> None:
        """Keep ``address`` (the raw platform id) for ``sender`` (``<channel>:<hash>``)."""
        parsed = identity.parse_sender(sender)
        if parsed is None:
            raise InvalidInput("sender must be a pseudonymous sender id (<channel>:<hash>)")
        channel = v.check_channel(parsed[0])
        if not isinstance(address, str) or not address or len(address) > MAX_ADDRESS:
            raise InvalidInput(f"address must be 1-{MAX_ADDRESS} characters")
        now = self._clock()
        known = self._known.get(sender)
        if known is not None and known[0] == address and now - known[1] < CACHE_SECONDS:
            return
        for _attempt in range(2):  # two first messages at once: the second insert updates
            with self.db.session() as s:
                row = s.get(ResidentAddress, sender)
                if row is None:
                    s.add(ResidentAddress(sender=sender, channel=channel, address=address))
                else:
                    row.address, row.updated_at = address, utcnow()
                try:
                    s.commit()
                    break
                except IntegrityError:
                    s.rollback()
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[sender] = (address, now)

    def lookup(self, sender: str) -> str | None:
        """The raw platform id to send to, or None when the resident never wrote here."""
        if identity.parse_sender(sender) is None:
            return None
        with self.db.session() as s:
            return s.execute(
                select(ResidentAddress.address).where(ResidentAddress.sender == sender)
            ).scalar_one_or_none()

    def forget(self, sender: str) -> bool:
        """Delete the address of ``sender`` (the resident asked for their data to be deleted)."""
        self._known.pop(sender, None)
        with self.db.session() as s:
            row = s.get(ResidentAddress, sender)
            if row is None:
                return False
            s.delete(row)
            s.commit()
        return True
