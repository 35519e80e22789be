"""The cached SQL tracker store returns exactly what Rasa's SQL store would, without re-reading."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.tracker_cache import CachedSQLTrackerStore

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(REPO / "bot" / "domain"))


def turn(i: int, ts: float) -> list[Event]:
    intent = {"name": "greet" if i % 2 else "find_shelter", "confidence": 0.93}
    parse = {"intent": intent, "entities": [], "text": f"msg {i}",
             "intent_ranking": [intent, {"name": "inform", "confidence": 0.02}]}
    return [
        UserUttered(f"msg {i}", intent, [], parse, timestamp=ts, input_channel="rest"),
        ActionExecuted("utter_greet", timestamp=ts + 0.001),
        BotUttered(f"reply {i}", {"buttons": None}, {"utter_action": "utter_greet"}, timestamp=ts + 0.002),
        SlotSet("language", "en" if i % 3 == 0 else "ja", timestamp=ts + 0.003),
        ActionExecuted("action_listen", timestamp=ts + 0.004),
    ]


def session_start(ts: float) -> list[Event]:
    return [
        ActionExecuted("action_session_start", timestamp=ts),
        SessionStarted(timestamp=ts + 0.001),
        ActionExecuted("action_listen", timestamp=ts + 0.002),
    ]


def stores(tmp_path: Path, domain: Domain) -> tuple[CachedSQLTrackerStore, SQLTrackerStore]:
    db = str(tmp_path / "tracker.db")
    return (
        CachedSQLTrackerStore(domain, dialect="sqlite", db=db),
        SQLTrackerStore(domain, dialect="sqlite", db=db),
    )


def same(a: DialogueStateTracker | None, b: DialogueStateTracker | None, domain: Domain) -> None:
    assert a is not None and b is not None
    assert a.current_state(EventVerbosity.ALL) == b.current_state(EventVerbosity.ALL)
    assert a.past_states(domain) == b.past_states(domain)
    assert [e.as_dict() for e in a.events] == [e.as_dict() for e in b.events]


def count_queries(store: SQLTrackerStore) -> list[str]:
    seen: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda _c, _cur, statement, *_a: seen.append(statement))
    return seen


def test_every_turn_is_what_rasa_would_retrieve(tmp_path: Path, domain: Domain) -> None:
    async def run() -> None:
        cached, plain = stores(tmp_path, domain)
        tracker = DialogueStateTracker("r1", domain.slots)
        for e in session_start(1000.0):
            tracker.update(e)
        await cached.save(tracker)
        for i in range(30):
            tracker = await cached.retrieve("r1")
            same(tracker, await plain.retrieve("r1"), domain)
            assert tracker is not None
            for e in turn(i, 1001.0 + i):
                tracker.update(e)
            await cached.save(tracker)
        same(await cached.retrieve("r1"), await plain.retrieve("r1"), domain)

    asyncio.run(run())


def test_a_cached_retrieve_reads_no_events_and_returns_a_new_object(tmp_path: Path, domain: Domain) -> None:
    async def run() -> None:
        cached, _ = stores(tmp_path, domain)
        tracker = DialogueStateTracker("r2", domain.slots)
        for e in session_start(1000.0) + turn(1, 1001.0):  # language ja
            tracker.update(e)
        await cached.save(tracker)
        statements = count_queries(cached)
        first = await cached.retrieve("r2")
        second = await cached.retrieve("r2")
        assert first is not None and second is not None and first is not second
        first.update(SlotSet("language", "en"))  # a change nobody saved stays out of the cache
        assert (await cached.retrieve("r2")).get_slot("language") == "ja"  # type: ignore[union-attr]
        assert len(statements) == 3
        assert all("count(" in s.lower() and "max(" in s.lower() for s in statements)

    asyncio.run(run())


def test_writes_and_deletes_by_others_are_noticed(tmp_path: Path, domain: Domain) -> None:
    """Another Rasa instance on the same database, the privacy purge, an erasure."""

    async def run() -> None:
        cached, plain = stores(tmp_path, domain)
        tracker = DialogueStateTracker("r3", domain.slots)
        for e in session_start(1000.0) + turn(0, 1001.0):
            tracker.update(e)
        await cached.save(tracker)
        other = await plain.retrieve("r3")
        assert other is not None
        for e in turn(1, 1002.0):
            other.update(e)
        await plain.save(other)  # the other instance answered this resident's next message
        same(await cached.retrieve("r3"), other, domain)
        with plain.session_scope() as session:
            session.query(plain.SQLEvent).filter(plain.SQLEvent.sender_id == "r3").delete()
            session.commit()
        assert await cached.retrieve("r3") is None

    asyncio.run(run())


def test_a_new_session_is_cut_off_as_rasa_does(tmp_path: Path, domain: Domain) -> None:
    async def run() -> None:
        cached, plain = stores(tmp_path, domain)
        tracker = DialogueStateTracker("r4", domain.slots)
        for e in session_start(1000.0) + turn(0, 1001.0) + session_start(9000.0) + turn(1, 9001.0):
            tracker.update(e)
        await cached.save(tracker)
        got = await cached.retrieve("r4")
        same(got, await plain.retrieve("r4"), domain)
        assert got is not None and isinstance(got.events[0], SessionStarted)
        assert [e.text for e in got.events if isinstance(e, UserUttered)] == ["msg 1"]

    asyncio.run(run())


def test_sqlite_tracker_db_runs_in_wal_mode(tmp_path: Path, domain: Domain) -> None:
    cached, _ = stores(tmp_path, domain)
    with cached.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
