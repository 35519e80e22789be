"""``bosai telegram-poll`` goes through the durable intake (bot/channels/polling.py): an update
is stored pending before it is confirmed to Telegram, answered by the Rasa server's Telegram
worker pool, and resumed after a restart. The fake Bot API keeps updates until a ``getUpdates``
with a higher ``offset`` confirms them, as Telegram does.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import web

from bot.channels.polling import poll
from bot.channels.telegram import TelegramAgent, TelegramInput
from bot.store import Store
from tests.channels.helpers import Collector, sanic_app, settle
from tests.channels.test_telegram import CHAT, TOKEN, FakeTelegram, message_update

pytestmark = pytest.mark.anyio


class Telegram(FakeTelegram):
    """``getUpdates`` as Telegram: everything not yet confirmed by an ``offset`` is handed out
    again; ``incoming`` are the updates sent by residents, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.incoming: list[dict[str, Any]] = []
        self.confirmed_below = 0

    def method(self, request: web.Request, body: bytes) -> web.Response:
        if request.match_info["method"] != "getUpdates":
            return super().method(request, body)
        raw = dict(parse_qsl(body.decode())) if body else {}
        if "json" in request.headers.get("Content-Type", "") and body:
            raw = json.loads(body)
        offset = raw.get("offset")
        if offset is not None:
            self.confirmed_below = max(self.confirmed_below, int(offset))
        result = [u for u in self.incoming if u["update_id"] >= self.confirmed_below]
        return web.json_response({"ok": True, "result": result})

    def texts_sent(self) -> list[str]:
        return [p["text"] for p in self.params("sendMessage")]


class BrokenStore:
    """The store while its database is down."""

    def add_intake(self, channel: str, items: Any) -> None:
        raise ConnectionError("database restarting")


async def started(api: Telegram) -> TelegramAgent:
    await api.start()
    return TelegramAgent(TOKEN, api.base + "/bot")


def polling_mode(store: Store, api: Telegram) -> TelegramInput:
    """The Rasa server's Telegram connector in polling mode: the token, no secret, no webhook."""
    return TelegramInput(TOKEN, "", api_base=api.base + "/bot", store_factory=lambda: store)


async def test_updates_are_stored_pending_before_they_are_confirmed(store: Store) -> None:
    api = Telegram()
    agent = await started(api)
    try:
        api.incoming = [
            message_update(701, text="こんにちは"),
            message_update(702, location={"latitude": 35.68, "longitude": 139.76}),
            message_update(703, chat_type="group", text="グループの発言"),
        ]
        assert await poll(agent, lambda: store, timeout=0, max_rounds=2) == 3
        # stored before the offset that confirms them was sent
        assert api.confirmed_below == 704
        assert store.intake_event("telegram", "701")["status"] == "pending"
        assert store.intake_event("telegram", "702")["status"] == "pending"
        assert store.intake_event("telegram", "703") is None  # groups are not answered
        # a poller restarted before its confirmation went through gets them again: not doubled
        api.confirmed_below = 0
        await poll(agent, lambda: store, timeout=0, max_rounds=1)
        assert store.intake_counts("telegram")["pending"] == 2
        assert api.params("sendMessage") == []  # the poller itself answers nothing
    finally:
        await agent.close()
        await api.stop()


async def test_updates_the_store_cannot_take_are_not_confirmed(store: Store) -> None:
    api = Telegram()
    agent = await started(api)
    try:
        api.incoming = [message_update(801, text="助けて")]
        broken = BrokenStore()
        assert await poll(agent, lambda: broken, timeout=0, max_rounds=2, backoff_cap=0.05) == 0
        assert api.confirmed_below == 0  # Telegram still holds the message
        assert await poll(agent, lambda: store, timeout=0, max_rounds=1) == 1
        assert api.confirmed_below == 802
        assert store.intake_event("telegram", "801")["status"] == "pending"
    finally:
        await agent.close()
        await api.stop()


async def test_polled_updates_are_answered_by_the_worker_pool_after_a_restart(
    store: Store,
) -> None:
    """Updates polled while the Rasa server was down are answered, in order, once it starts."""
    api = Telegram()
    agent = await started(api)
    collector = Collector(responses=lambda m: [{"text": f"返事:{m.text}"}])
    try:
        api.incoming = [message_update(901, text="一つ目"), message_update(902, text="二つ目")]
        await poll(agent, lambda: store, timeout=0, max_rounds=1)
        assert store.intake_counts("telegram")["pending"] == 2
        channel = polling_mode(store, api)
        async with sanic_app(channel, collector):
            await settle(channel)
            api.incoming.append(message_update(903, text="三つ目"))
            await poll(agent, lambda: store, timeout=0, max_rounds=1)
            await settle(channel)
        assert collector.texts == ["一つ目", "二つ目", "三つ目"]
        assert api.texts_sent() == ["返事:一つ目", "返事:二つ目", "返事:三つ目"]
        assert {p["chat_id"] for p in api.params("sendMessage")} == {CHAT}
        assert store.intake_counts("telegram") == {"pending": 0, "done": 3, "failed": 0}
        # the sender Rasa saw is the resident's pseudonym, as with the webhook
        assert collector.messages[0].sender_id == store.sender_id("telegram", str(CHAT))
    finally:
        await agent.close()
        await api.stop()


async def test_a_connector_without_the_token_does_not_claim_polled_updates(
    store: Store,
) -> None:
    api = Telegram()
    agent = await started(api)
    try:
        api.incoming = [message_update(951, text="届いていますか")]
        await poll(agent, lambda: store, timeout=0, max_rounds=1)
        channel = TelegramInput("", "", api_base=api.base + "/bot", store_factory=lambda: store)
        async with sanic_app(channel, Collector()):
            assert channel.worker is not None and channel.worker.idle
        # left pending for an instance that can answer it, not failed
        assert store.intake_event("telegram", "951")["status"] == "pending"
    finally:
        await agent.close()
        await api.stop()
