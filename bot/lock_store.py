"""Rasa's Redis lock store made safe for several Rasa processes.

Rasa Open Source 3.6's ``RedisLockStore`` reads the conversation's ticket lock, changes it in
Python and writes it back. Two Rasa instances receiving a message for the same resident at the
same moment can both read the empty lock, both take ticket 0 and process at once; one of the two
messages is then lost from the tracker (seen in ``tests/test_scale_out.py``). Here every
read-modify-write of the lock runs as a Redis transaction (WATCH / MULTI / EXEC, retried when
another process changed the lock in between), so tickets are unique across processes.

Selected by ``bosai run`` when ``REDIS_URL`` is set (``type: bot.lock_store.AtomicRedisLockStore``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore

logger = logging.getLogger(__name__)


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Any = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def _change(
        self, conversation_id: str, change: Callable[[TicketLock | None], TicketLock | None]
    ) -> None:
        """Apply ``change`` to the stored lock atomically; it returns the lock to store (None:
        delete it). Retried when another process changed the lock meanwhile."""
        import redis

        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    new = change(lock)
                    pipe.multi()
                    if new is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, new.dumps())
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        issued: list[int] = []

        def change(lock: TicketLock | None) -> TicketLock:
            lock = lock or self.create_lock(conversation_id)
            issued[:] = [lock.issue_ticket(lock_lifetime)]
            return lock

        try:
            self._change(conversation_id, change)
        except Exception as e:  # noqa: BLE001 - same contract as Rasa's LockStore
            raise LockError(f"Error while acquiring lock. Error:\n{e}") from e
        return issued[0]

    def update_lock(self, conversation_id: str) -> None:
        def change(lock: TicketLock | None) -> TicketLock | None:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock

        self._change(conversation_id, change)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finish serving the ticket; delete the lock when nobody else waits (one transaction)."""

        def change(lock: TicketLock | None) -> TicketLock | None:
            if lock is None:
                return None
            lock.remove_ticket_for(ticket_number)
            return lock if lock.is_someone_waiting() else None

        try:
            self._change(conversation_id, change)
        except Exception:  # noqa: BLE001 - Redis down after the turn: the ticket expires by itself
            # Rasa releases the lock in a ``finally``: raising here would turn a turn that was
            # processed and saved (a report stored) into a failure, and the resident would be
            # asked to send it again (bench/faults.py, Redis stopped)
            logger.warning("lock store: could not release a ticket; it expires by itself")
