"""Rasa's SQL tracker store with a resident's erasure (「データを削除」).

``bosai run`` configures this class (``var/endpoints.yml``, type
``bot.tracker_store.ErasingSQLTrackerStore``) for the SQLite tracker store in ``var/`` and for
PostgreSQL (``TRACKER_STORE_URL``) alike. It is Rasa's ``SQLTrackerStore`` with one change: when
the turn being saved set the slot ``data_erase_requested`` (only ``action_delete_my_data`` sets
it, after the resident confirmed), every stored event of the conversation is deleted and nothing
of the turn is written, and the resident's raw platform id kept for replies is deleted
(:func:`forget_address`). The resident's next message starts a new, empty conversation.

Why here and not in the action: the action server runs before Rasa saves the turn, and Rasa
writes "the events it has not stored yet" by counting the stored ones, so a deletion made by the
action would be undone by that save (every event of the session would be written again).
"""

from __future__ import annotations

import asyncio
import itertools
import logging

from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_cache import CachedSQLTrackerStore

logger = logging.getLogger(__name__)

#: The slot ``action_delete_my_data`` sets to ask for the conversation to be deleted.
ERASE_SLOT = "data_erase_requested"


class ErasingSQLTrackerStore(CachedSQLTrackerStore):
    """``SQLTrackerStore`` that deletes a conversation whose turn asked for erasure (with the
    validated per-turn cache of :mod:`bot.tracker_cache`, which notices the deletion)."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        deleted = self._erase_if_requested(tracker)
        if deleted is None:
            await super().save(tracker)
            return
        self._drop(tracker.sender_id)  # nor kept in this process's cache of trackers
        # the sender id is a pseudonym (bot.identity); the count is not personal data
        logger.info("conversation erased at the resident's request (%d events)", deleted)
        try:
            await asyncio.to_thread(forget_address, tracker.sender_id)
        except Exception:  # noqa: BLE001 - the conversation is gone; the purge retries later
            logger.exception("the erased resident's address could not be deleted")

    def _erase_if_requested(self, tracker: DialogueStateTracker) -> int | None:
        """Delete the conversation when the unsaved events set :data:`ERASE_SLOT`; the number of
        events deleted, or None when the turn did not ask for erasure."""
        with self.session_scope() as session:
            stored = self._event_query(
                session, tracker.sender_id, fetch_events_from_all_sessions=False
            ).count()
            unsaved = itertools.islice(tracker.events, stored, len(tracker.events))
            if not any(
                isinstance(e, SlotSet) and e.key == ERASE_SLOT and e.value is True for e in unsaved
            ):
                return None
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == tracker.sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
            return int(deleted)


def forget_address(sender_id: str) -> bool:
    """Delete the raw platform id kept for replies to ``sender_id`` (bot.store.addresses).

    Runs in the Rasa server's process, where the channel connectors keep their own copy of the
    report store (:func:`bot.store.get_store`), so their cache of known addresses forgets it too
    and the resident's next message records it again.
    """
    from bot.store import get_store

    return bool(get_store().forget_address(sender_id))
