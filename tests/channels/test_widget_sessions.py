"""New widget sessions per client address (BOSAI_WIDGET_SESSIONS_PER_MINUTE): over the limit a
socket gets the explanation with 119/110 and no session; a session the server signed before still
works; addresses are counted apart (behind nginx: X-Real-IP with SANIC_REAL_IP_HEADER); with Redis
the count is shared by the instances."""

from __future__ import annotations

from typing import Any

import pytest
import socketio

from bot.channels.limits import SESSIONS_LIMITED_TEXT, SessionLimiter
from bot.channels.shared import SharedState
from bot.store import Store
from tests.channels.helpers import Collector, sanic_app
from tests.channels.test_webchat import ORIGIN, channel_for, wait

pytestmark = pytest.mark.anyio


async def ask_session(
    base: str, session_id: str | None = None, address: str | None = None
) -> list[Any]:
    """One browser: connect, ask for a session; what it received (session or bot message)."""
    received: list[Any] = []
    client = socketio.AsyncClient(reconnection=False)
    client.on("bot_uttered", lambda data: received.append(("bot", data)))
    client.on("session_confirm", lambda data: received.append(("session", data)))
    headers = {"Origin": ORIGIN}
    if address:
        headers["X-Real-IP"] = address
    await client.connect(base, headers=headers, transports=["polling"])
    await client.emit("session_request", {"session_id": session_id})
    await wait(lambda: received)
    await client.disconnect()
    return received


def limited(store: Store, per_minute: int, state: SharedState | None = None) -> Any:
    channel = channel_for(store)
    channel._session_limiter = SessionLimiter(per_minute, state or SharedState(""))
    return channel


async def test_new_sessions_over_the_limit_are_refused_with_the_emergency_numbers(
    store: Store,
) -> None:
    channel = limited(store, 2)
    async with sanic_app(channel, Collector()) as base:
        first = await ask_session(base)
        second = await ask_session(base)
        third = await ask_session(base)
        # a resident who already has a signed session keeps it
        again = await ask_session(base, session_id=first[0][1])
    assert first[0][0] == "session" and second[0][0] == "session"
    assert third == [("bot", {"text": SESSIONS_LIMITED_TEXT})]
    assert "119" in SESSIONS_LIMITED_TEXT and "110" in SESSIONS_LIMITED_TEXT
    assert again == [("session", first[0][1])]


async def test_addresses_behind_the_proxy_are_counted_apart(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANIC_REAL_IP_HEADER", "x-real-ip")  # as deploy/systemd sets it
    channel = limited(store, 1)
    async with sanic_app(channel, Collector()) as base:
        a1 = await ask_session(base, address="198.51.100.7")
        b1 = await ask_session(base, address="203.0.113.9")
        a2 = await ask_session(base, address="198.51.100.7")
    assert a1[0][0] == "session" and b1[0][0] == "session"
    assert a2 == [("bot", {"text": SESSIONS_LIMITED_TEXT})]


async def test_the_limit_holds_across_instances_through_redis(
    store: Store, redis_url: str
) -> None:
    one, two = limited(store, 1, SharedState(redis_url)), limited(store, 1, SharedState(redis_url))
    async with sanic_app(one, Collector()) as base_one, sanic_app(two, Collector()) as base_two:
        first = await ask_session(base_one)
        second = await ask_session(base_two)
    assert first[0][0] == "session"
    assert second == [("bot", {"text": SESSIONS_LIMITED_TEXT})]


async def test_the_setting_is_read_and_zero_turns_it_off(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOSAI_WIDGET_SESSIONS_PER_MINUTE", "0")
    channel = channel_for(store)
    assert channel.session_limiter.per_minute == 0
    async with sanic_app(channel, Collector()) as base:
        answers = [await ask_session(base) for _ in range(4)]
    assert all(a[0][0] == "session" for a in answers)
