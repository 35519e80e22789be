"""Rasa's SQL tracker store without re-reading the whole conversation on every turn.

Rasa 3.6's ``SQLTrackerStore`` rebuilds the tracker on every message: it selects every event of
the session, decodes each one from JSON and replays them all (``DialogueStateTracker.from_dict``),
and on save it counts the stored events again. For a conversation of 100 turns that is about
400 events, tens of milliseconds, growing with every turn (docs/performance.md).

:class:`CachedSQLTrackerStore` keeps, per conversation, the tracker it saved last (pickled, so
every retrieve returns an independent object, as from the database) together with a fingerprint
of what the database then held for that sender: ``count(*)`` and ``max(id)`` of its events. A
retrieve asks the database only for that fingerprint (one indexed query); when it is unchanged,
the saved tracker is returned, otherwise the cache entry is dropped and Rasa's own retrieve runs.
So anything else that wrote or deleted events of that sender - another Rasa instance on the
same PostgreSQL, the privacy purge (``bosai privacy purge``), a resident's erasure - is noticed.
The database stays the source of truth and every event is still written on every turn.

What a cached retrieve returns is what Rasa's retrieve would: the events since the latest
``session_started`` (earlier events are cut off before caching, as the SQL query cuts them off).
The cache is bounded (:data:`MAX_CACHED_BYTES`, least recently used first out).

On SQLite (the embedded default) the tracker database also runs in WAL mode with
``synchronous=NORMAL`` on one kept-open connection per thread: a commit no longer waits for
fsync, so a power cut (not a crash of the process) can lose the last turns of conversations;
the report store keeps ``synchronous=FULL``.
"""

from __future__ import annotations

import collections
import logging
import pickle
import threading
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import SingletonThreadPool

logger = logging.getLogger(__name__)

#: memory for cached trackers per Rasa process (a 100-turn conversation is about 0.1 MB)
MAX_CACHED_BYTES = 64 * 1024 * 1024

Fingerprint = tuple[int, int | None]


class CachedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` with a validated in-process cache of the last saved trackers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from bot import rasa_speedups, session_bound

        rasa_speedups.apply()  # this runs in the Rasa server's process, at its start
        session_bound.apply()  # a long continuous session starts a new one (bot/session_bound.py)
        self._cache: collections.OrderedDict[str, tuple[bytes, Fingerprint]] = (
            collections.OrderedDict()
        )
        self._cached_bytes = 0
        self._cache_lock = threading.Lock()
        if str(self.engine.dialect.name) == "sqlite":  # type: ignore[has-type]
            # SQLAlchemy 1.4 opens and closes a file connection per session (NullPool); closing
            # the last connection of a WAL database checkpoints it, so keep one open per thread
            old: sa.engine.Engine = self.engine  # type: ignore[has-type]
            old.dispose()
            engine = sa.create_engine(old.url, poolclass=SingletonThreadPool)
            _sqlite_wal(engine)
            self.engine = engine
            self.sessionmaker = sessionmaker(bind=engine)

    # -- the fingerprint of a sender's stored events

    def _fingerprint(self, sender_id: str) -> Fingerprint:
        table = self.SQLEvent.__table__
        query = sa.select(sa.func.count(), sa.func.max(table.c.id)).where(
            table.c.sender_id == sender_id
        )
        engine: sa.engine.Engine = self.engine
        with engine.connect() as conn:
            count, max_id = conn.execute(query).one()
        return int(count), (int(max_id) if max_id is not None else None)

    # -- cache bookkeeping

    def _drop(self, sender_id: str) -> None:
        with self._cache_lock:
            entry = self._cache.pop(sender_id, None)
            if entry is not None:
                self._cached_bytes -= len(entry[0])

    def _put(self, sender_id: str, blob: bytes, fingerprint: Fingerprint) -> None:
        with self._cache_lock:
            old = self._cache.pop(sender_id, None)
            if old is not None:
                self._cached_bytes -= len(old[0])
            if len(blob) > MAX_CACHED_BYTES // 4:
                return
            self._cache[sender_id] = (blob, fingerprint)
            self._cached_bytes += len(blob)
            while self._cached_bytes > MAX_CACHED_BYTES and self._cache:
                _, (evicted, _) = self._cache.popitem(last=False)
                self._cached_bytes -= len(evicted)

    def _get(self, sender_id: str) -> tuple[bytes, Fingerprint] | None:
        with self._cache_lock:
            entry = self._cache.get(sender_id)
            if entry is not None:
                self._cache.move_to_end(sender_id)
            return entry

    # -- TrackerStore

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        entry = self._get(sender_id)
        if entry is not None:
            blob, fingerprint = entry
            if self._fingerprint(sender_id) == fingerprint:
                tracker: DialogueStateTracker = pickle.loads(blob)  # noqa: S301 (our own bytes)
                return tracker
            self._drop(sender_id)
        return await super().retrieve(sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        self._drop(tracker.sender_id)
        await super().save(tracker)
        try:
            fingerprint = self._fingerprint(tracker.sender_id)
            if fingerprint[0]:
                self._put(tracker.sender_id, _latest_session_blob(tracker), fingerprint)
        except Exception:  # noqa: BLE001 - the cache is optional; the next retrieve reads the DB
            logger.exception("tracker cache: not cached")
            self._drop(tracker.sender_id)


def _latest_session_blob(tracker: DialogueStateTracker) -> bytes:
    """The tracker pickled as Rasa's SQL retrieve would rebuild it: from its latest
    ``session_started`` on (that event resets the state, so nothing before it counts)."""
    blob = pickle.dumps(tracker, protocol=pickle.HIGHEST_PROTOCOL)
    events = tracker.events
    starts = [i for i, e in enumerate(events) if isinstance(e, SessionStarted)]
    if not starts or starts[-1] == 0:
        return blob
    trimmed: DialogueStateTracker = pickle.loads(blob)  # noqa: S301 (our own bytes)
    for _ in range(starts[-1]):
        trimmed.events.popleft()
    return pickle.dumps(trimmed, protocol=pickle.HIGHEST_PROTOCOL)


def _sqlite_wal(engine: sa.engine.Engine) -> None:
    """WAL journal (set once, kept in the file) and synchronous=NORMAL on every connection."""

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
