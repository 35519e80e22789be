"""Residents' addresses (migration 0004): the only place a raw platform id is kept."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import inspect, select

from bot import identity
from bot.store import InvalidInput, Store
from bot.store.addresses import ResidentAddress


def test_migration_creates_the_table(store: Store) -> None:
    columns = {c["name"] for c in inspect(store.engine).get_columns("resident_addresses")}
    assert columns == {"sender", "channel", "address", "updated_at"}


def test_remember_and_lookup_by_pseudonymous_sender(store: Store) -> None:
    sender = store.sender_id("line", "U1234567890abcdef")
    assert sender == "line:" + store.resident_id("line", "U1234567890abcdef")
    assert store.address_of(sender) is None
    store.remember_address(sender, "U1234567890abcdef")
    store.remember_address(sender, "U1234567890abcdef")  # again: still one row
    assert store.address_of(sender) == "U1234567890abcdef"
    with store.session() as s:
        rows = s.execute(select(ResidentAddress)).scalars().all()
    assert [(r.sender, r.channel, r.address) for r in rows] == [
        (sender, "line", "U1234567890abcdef")
    ]
    # the address of a Telegram resident with the same raw id is another row
    tg = store.sender_id("telegram", "U1234567890abcdef")
    assert tg != sender and store.address_of(tg) is None
    assert store.forget_address(sender) is True
    assert store.address_of(sender) is None


def test_remember_refuses_a_raw_sender(store: Store) -> None:
    with pytest.raises(InvalidInput):
        store.remember_address("U123", "U123")
    with pytest.raises(InvalidInput):
        store.remember_address(store.sender_id("line", "U1"), "")
    assert store.address_of("U123") is None


def test_pseudonym_is_the_one_stored_before() -> None:
    """The stored resident pseudonym did not change: HMAC-SHA256("<channel>:<id>")."""
    import hashlib
    import hmac

    before = hmac.new(b"k", b"line:U1", hashlib.sha256).hexdigest()
    assert identity.pseudonym(b"k", "line", "U1") == before
    sender = identity.sender_id(b"k", "line", "U1")
    assert sender == f"line:{before}"
    assert identity.resident_of(b"k", "line", sender) == before
    assert identity.resident_of(b"k", "line", "U1") == before  # a raw id: hashed as before
    # a sender of another channel is not taken as this channel's pseudonym
    assert identity.resident_of(b"k", "telegram", sender) != before
    assert identity.parse_sender("line:" + "0" * 63) is None


def test_a_deleted_address_comes_back_with_the_next_message(store: Store) -> None:
    """The per-process cache holds for CACHE_SECONDS: a row deleted by another process (the
    retention purge, an erasure) is written again when the resident writes after that, and
    each write refreshes updated_at."""
    from sqlalchemy import delete

    from bot.store.addresses import CACHE_SECONDS

    clock = [1000.0]
    store.addresses._clock = lambda: clock[0]
    sender = store.sender_id("telegram", "42")
    store.remember_address(sender, "42")
    with store.session() as s:
        first = s.get(ResidentAddress, sender).updated_at
        s.execute(delete(ResidentAddress))  # another process purged it
        s.commit()
    store.remember_address(sender, "42")  # within the cache time: not written again
    assert store.address_of(sender) is None
    clock[0] += CACHE_SECONDS + 1
    store.remember_address(sender, "42")
    assert store.address_of(sender) == "42"
    with store.session() as s:
        written = s.get(ResidentAddress, sender).updated_at
    assert written >= first
    time.sleep(0.01)
    clock[0] += CACHE_SECONDS + 1
    store.remember_address(sender, "42")  # the same address: updated_at shows the activity
    with store.session() as s:
        assert s.get(ResidentAddress, sender).updated_at > written
