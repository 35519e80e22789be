"""The webhook base class: checks in order, then background processing with the shared core."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from sanic.request import Request

from bot.channels.core import ChannelCore
from bot.channels.webhook import WebhookInput
from tests.channels.helpers import Collector, sanic_app

pytestmark = pytest.mark.anyio


class DemoInput(WebhookInput):
    disabled_error = "demo_disabled"
    disabled_message = "set DEMO_TOKEN"
    unauthenticated_error = "bad_token"
    malformed_error = "malformed_demo"
    max_body_bytes = 100

    def __init__(self, token: str) -> None:
        super().__init__(store_factory=None)
        self.token = token
        self.processed: list[Any] = []
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

    async def process(self, core: ChannelCore, work: Any) -> None:
        assert core.channel == "demo"
        self.processed.append(work)

    async def on_start(self) -> None:
        self.events.append("start")

    async def on_stop(self) -> None:
        self.events.append("stop")


async def _post(base: str, body: bytes, token: str | None = "t") -> tuple[int, dict[str, Any]]:
    headers = {"X-Demo-Token": token} if token else {}
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{base}/webhooks/demo/webhook", data=body, headers=headers) as r:
            return r.status, await r.json()


async def test_checks_in_order_then_background_processing() -> None:
    channel = DemoInput("t")
    async with sanic_app(channel, Collector()) as base:
        assert channel.events == ["start"]
        assert await _post(base, b"x" * 101, token=None) == (413, {"error": "too_large"})
        assert await _post(base, b'{"items": [1]}', token="wrong") == (401, {"error": "bad_token"})
        assert await _post(base, b"{oops") == (400, {"error": "malformed_json"})
        assert await _post(base, b'{"items": 3}') == (400, {"error": "malformed_demo"})
        assert await _post(base, b'{"items": []}') == (200, {"status": "ok"})
        assert await _post(base, b'{"items": [1, 2]}') == (200, {"status": "ok"})
        for _ in range(50):
            if channel.processed and not channel.tasks:
                break
            await asyncio.sleep(0.02)
        assert channel.processed == [[1, 2]]  # nothing spawned for an empty call
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{base}/webhooks/demo/") as r:
                assert await r.json() == {"status": "ok"}
    assert channel.events == ["start", "stop"]


async def test_unconfigured_channel_answers_503_and_reads_nothing() -> None:
    channel = DemoInput("")
    async with sanic_app(channel, Collector()) as base:
        status, body = await _post(base, b'{"items": [1]}')
        assert (status, body) == (503, {"error": "demo_disabled", "message": "set DEMO_TOKEN"})
    assert channel.processed == []
