"""Identity in the platform-neutral core: pseudonymous senders, the address table, the
per-resident rate limit (in the process and, with Redis, across instances)."""

from __future__ import annotations

import pytest

from bot.channels.core import ChannelCore, Inbound
from bot.channels.limits import RATE_LIMITED_TEXT, MessageLimiter
from bot.channels.shared import SharedState
from bot.store import Store
from tests.channels.helpers import Collector

pytestmark = pytest.mark.anyio


def core_for(channel: str, store: Store, collector: Collector, per_minute: int = 20) -> ChannelCore:
    limiter = MessageLimiter(per_minute, SharedState(""))
    return ChannelCore(channel, collector, store_factory=lambda: store, limiter=limiter)


async def test_same_raw_id_on_two_channels_is_two_residents(store: Store) -> None:
    collector = Collector()
    line, telegram = core_for("line", store, collector), core_for("telegram", store, collector)
    await line.process(Inbound("text", "12345", "m-1", text="こんにちは"))
    await telegram.process(Inbound("text", "12345", "m-1", text="こんにちは"))
    on_line, on_telegram = collector.messages
    assert on_line.sender_id == store.sender_id("line", "12345")
    assert on_telegram.sender_id == store.sender_id("telegram", "12345")
    assert on_line.sender_id.split(":")[1] != on_telegram.sender_id.split(":")[1]
    assert on_line.metadata["resident"] != on_telegram.metadata["resident"]
    assert "12345" not in on_line.sender_id + on_telegram.sender_id
    # the raw ids are kept only in the address table, each under its own channel's sender
    assert store.address_of(on_line.sender_id) == "12345"
    assert store.address_of(on_telegram.sender_id) == "12345"


async def test_rate_limit_per_resident_in_the_core(store: Store) -> None:
    collector = Collector()
    line = core_for("line", store, collector, per_minute=3)
    outcomes = [
        await line.process(Inbound("text", "U1", f"m-{i}", text=f"メッセージ{i}")) for i in range(5)
    ]
    assert [o.forwarded is not None for o in outcomes] == [True, True, True, False, False]
    assert [r.text for r in outcomes[4].replies] == [RATE_LIMITED_TEXT]
    assert "119" in RATE_LIMITED_TEXT and "110" in RATE_LIMITED_TEXT
    # a sticker or a follow never reaches Rasa and is not limited; another resident is not either
    assert (await line.process(Inbound("sticker", "U1", "m-9"))).replies[0].text != RATE_LIMITED_TEXT
    assert (await line.process(Inbound("text", "U2", "m-10", text="はい"))).forwarded == "はい"
    assert len(collector.messages) == 4


def test_limit_zero_is_off() -> None:
    import asyncio

    limiter = MessageLimiter(0, SharedState(""))
    assert all(asyncio.run(limiter.allow("line:x")) for _ in range(100))


async def test_rate_limit_counts_across_instances_with_redis(redis_url: str) -> None:
    """Two instances (two limiters, each with its own connection) share one count."""
    a = MessageLimiter(4, SharedState(redis_url))
    b = MessageLimiter(4, SharedState(redis_url))
    sender = "line:" + "e" * 64
    allowed = [await (a if i % 2 else b).allow(sender) for i in range(6)]
    assert allowed == [True, True, True, True, False, False]
    # a process without Redis would have allowed all six: each limiter saw only three
    assert await a.allow("line:" + "f" * 64) is True


async def test_unfollow_forgets_the_address(store: Store) -> None:
    collector = Collector()
    line = core_for("line", store, collector)
    await line.process(Inbound("text", "U9", "m-1", text="こんにちは"))
    sender = collector.messages[0].sender_id
    assert store.address_of(sender) == "U9"
    await line.process(Inbound("unfollow", "U9", "m-2"))
    assert store.address_of(sender) is None
