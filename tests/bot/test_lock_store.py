"""The Redis lock store used with several Rasa instances hands out unique tickets even when the
instances ask at the same moment (Rasa's own RedisLockStore reads, changes and writes the lock
without a transaction). Needs the local Redis; skipped with the reason when it is not reachable."""

from __future__ import annotations

import threading
import uuid

import pytest

from bot.lock_store import AtomicRedisLockStore

REDIS = {"host": "127.0.0.1", "port": 6379, "db": 7}


@pytest.fixture
def stores() -> list[AtomicRedisLockStore]:
    import redis

    try:
        redis.Redis(**REDIS, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"Redis not reachable: {exc}")
    return [AtomicRedisLockStore(**REDIS) for _ in range(4)]  # four "instances", four connections


def test_simultaneous_tickets_are_unique_and_the_lock_is_cleaned_up(stores) -> None:
    conversation = f"resident-{uuid.uuid4().hex}"
    tickets: list[int] = []
    barrier = threading.Barrier(len(stores) * 5)

    def take(store: AtomicRedisLockStore) -> None:
        barrier.wait()
        tickets.append(store.issue_ticket(conversation))

    threads = [threading.Thread(target=take, args=(s,)) for s in stores for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(tickets) == list(range(20))
    lock = stores[0].get_lock(conversation)
    assert lock is not None and lock.is_someone_waiting()
    for n in tickets:
        stores[n % 4].cleanup(conversation, n)
    assert stores[1].get_lock(conversation) is None


def test_created_from_the_endpoint_config() -> None:
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import EndpointConfig

    config = EndpointConfig(url="127.0.0.1", type="bot.lock_store.AtomicRedisLockStore", port=6379, db=7)
    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.red.connection_pool.connection_kwargs["db"] == 7


def test_releasing_a_ticket_while_redis_is_down_does_not_fail_the_turn() -> None:
    """Rasa releases the lock in a ``finally`` after the turn was processed and saved: an error
    there must not turn it into a failure (the ticket expires by itself)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # nothing listens there once closed
    store = AtomicRedisLockStore(host="127.0.0.1", port=dead, db=0)
    store.cleanup("resident-gone", 0)  # no exception
