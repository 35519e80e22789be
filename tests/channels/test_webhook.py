"""The webhook base class: checks in order, events stored before the 200, then the intake's
workers answer and deliver them with the shared core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sanic.request import Request

from bot.channels.core import BotReply, ChannelCore
from bot.channels.intake import OnPart
from bot.channels.webhook import WebhookInput
from bot.store import Store
from bot.store.intake import ClaimedEvent, IntakeItem
from tests.channels.helpers import Collector, sanic_app, settle

pytestmark = pytest.mark.anyio


class DemoInput(WebhookInput):
    disabled_error = "demo_disabled"
    disabled_message = "set DEMO_TOKEN"
    unauthenticated_error = "bad_token"
    malformed_error = "malformed_demo"
    max_body_bytes = 100

    def __init__(self, token: str, store: Store) -> None:
        super().__init__(store_factory=lambda: store)
        self.token = token
        self.answered: list[Any] = []
        self.delivered: list[tuple[str, str]] = []
        self.events: list[str] = []

    @classmethod
    def name(cls) -> str:
        return "demo"

    @property
    def enabled(self) -> bool:
        return bool(self.token)

    def authentic(self, request: Request, body: bytes) -> bool:
        return request.headers.get("X-Demo-Token") == self.token

    def accept(self, data: Any) -> tuple[bool, Any]:
        ok = isinstance(data, dict) and isinstance(data.get("items"), list)
        return ok, data["items"] if ok else None

    def intake_items(self, work: Any) -> list[IntakeItem]:
        return [IntakeItem(str(i), "user", {"n": i}) for i in work]

    async def answer(self, core: ChannelCore, event: ClaimedEvent) -> list[BotReply]:
        assert core.channel == "demo"
        self.answered.append(event.payload["n"])
        return [BotReply(text=f"answer {event.payload['n']}")]

    async def deliver(
        self, event: ClaimedEvent, replies: list[BotReply], done: int, on_part: OnPart
    ) -> None:
        self.delivered.extend((event.event_id, r.text) for r in replies)
        await on_part(len(replies))

    async def on_start(self) -> None:
        self.events.append("start")

    async def on_stop(self) -> None:
        self.events.append("stop")


async def _post(base: str, body: bytes, token: str | None = "t") -> tuple[int, dict[str, Any]]:
    headers = {"X-Demo-Token": token} if token else {}
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{base}/webhooks/demo/webhook", data=body, headers=headers) as r:
            return r.status, await r.json()


async def test_checks_in_order_then_stored_answered_and_delivered(store: Store) -> None:
    channel = DemoInput("t", store)
    async with sanic_app(channel, Collector()) as base:
        assert channel.events == ["start"]
        assert await _post(base, b"x" * 101, token=None) == (413, {"error": "too_large"})
        assert await _post(base, b'{"items": [1]}', token="wrong") == (401, {"error": "bad_token"})
        assert await _post(base, b"{oops") == (400, {"error": "malformed_json"})
        assert await _post(base, b'{"items": 3}') == (400, {"error": "malformed_demo"})
        assert store.intake_counts() == {"pending": 0, "done": 0, "failed": 0}
        assert await _post(base, b'{"items": []}') == (200, {"status": "ok"})
        assert await _post(base, b'{"items": [1, 2]}') == (200, {"status": "ok"})
        await settle(channel)
        assert channel.answered == [1, 2]
        assert channel.delivered == [("1", "answer 1"), ("2", "answer 2")]
        assert store.intake_counts("demo") == {"pending": 0, "done": 2, "failed": 0}
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{base}/webhooks/demo/") as r:
                assert await r.json() == {"status": "ok"}
    assert channel.events == ["start", "stop"]


async def test_unconfigured_channel_answers_503_and_reads_nothing(store: Store) -> None:
    channel = DemoInput("", store)
    async with sanic_app(channel, Collector()) as base:
        status, body = await _post(base, b'{"items": [1]}')
        assert (status, body) == (503, {"error": "demo_disabled", "message": "set DEMO_TOKEN"})
    assert channel.answered == [] and store.intake_counts()["pending"] == 0


async def test_store_unavailable_answers_503_so_the_platform_redelivers(tmp_path: Path) -> None:
    """Nothing is acknowledged that was not stored: a database without the table (here: not
    migrated yet) gives 503; once it works, the redelivered call is stored and answered."""
    store = Store(f"sqlite:///{tmp_path / 'late.db'}", photo_dir=tmp_path, secret=b"k")
    channel = DemoInput("t", store)
    try:
        async with sanic_app(channel, Collector()) as base:
            assert await _post(base, b'{"items": [7]}') == (503, {"error": "store_unavailable"})
            assert channel.answered == []
            store.upgrade()
            assert await _post(base, b'{"items": [7]}') == (200, {"status": "ok"})
            await settle(channel)
            assert channel.delivered == [("7", "answer 7")]
    finally:
        store.dispose()
