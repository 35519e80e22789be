"""Fake LINE and Telegram APIs on loopback for the (synchronous) officials' tests.

The fakes are the aiohttp :class:`~tests.channels.helpers.FakeApi` servers of the connector
tests, served from an event loop in a background thread, recording every request.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import web

from bot.settings import get_settings
from tests.channels.helpers import FakeApi

LINE_TOKEN = "test-line-access-token"
TELEGRAM_TOKEN = "123456:TEST-notice-token"
NOTICE_CHAT = "@bosai_city_notices"


class FakeLine(FakeApi):
    """``POST /v2/bot/message/broadcast``; answers ``status`` with ``answer`` (LINE's JSON)."""

    def __init__(self) -> None:
        super().__init__()
        self.status = 200
        self.answer: dict[str, Any] = {}
        self.route("POST", "/v2/bot/message/broadcast", self.broadcast)

    def broadcast(self, request: web.Request, _: bytes) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {LINE_TOKEN}":
            return web.json_response({"message": "Authentication failed"}, status=401)
        return web.json_response(self.answer, status=self.status)


class FakeTelegram(FakeApi):
    """Bot API ``/bot<token>/<method>``; ``error`` makes every call fail with that description."""

    def __init__(self) -> None:
        super().__init__()
        self.error: tuple[int, str] | None = None
        self.route("POST", "/bot{token}/{method}", self.method)

    def method(self, request: web.Request, body: bytes) -> web.Response:
        if request.match_info["token"] != TELEGRAM_TOKEN:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        if self.error is not None:
            code, description = self.error
            return web.json_response(
                {"ok": False, "error_code": code, "description": description}, status=code
            )
        params = decode(request.headers.get("Content-Type", ""), body)
        message = {
            "message_id": 77,
            "date": 1700000000,
            "chat": {"id": -1001234567890, "type": "channel", "title": "○○市 防災"},
            "text": params.get("text", ""),
        }
        return web.json_response({"ok": True, "result": message})

    def params(self, method: str) -> list[dict[str, Any]]:
        return [decode(r.headers.get("Content-Type", ""), r.body) for r in self.calls("/" + method)]

    def methods(self) -> list[str]:
        return [r.path.rsplit("/", 1)[1] for r in self.requests]


def decode(content_type: str, body: bytes) -> dict[str, Any]:
    if "json" in content_type:
        return dict(json.loads(body))
    out: dict[str, Any] = {}
    for k, v in parse_qsl(body.decode()):
        try:
            out[k] = json.loads(v)
        except ValueError:
            out[k] = v
    return out


class Fakes:
    """A background event loop serving the fakes."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fakes", daemon=True)
        self.thread.start()
        self.started: list[FakeApi] = []

    def start(self, fake: FakeApi) -> str:
        base = asyncio.run_coroutine_threadsafe(fake.start(), self.loop).result(10)
        self.started.append(fake)
        return base

    def close(self) -> None:
        for fake in self.started:
            asyncio.run_coroutine_threadsafe(fake.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    f = Fakes()
    yield f
    f.close()


@pytest.fixture
def channels(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeLine, FakeTelegram]]:
    """Fake LINE and Telegram started, and the environment of the app pointing at them.

    The settings are read again after the variables are set (``get_settings.cache_clear()``) and
    after the test, so no other test sees these tokens.
    """
    line, telegram = FakeLine(), FakeTelegram()
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", LINE_TOKEN)
    monkeypatch.setenv("LINE_API_BASE", fakes.start(line))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE", fakes.start(telegram) + "/bot")
    monkeypatch.setenv("TELEGRAM_NOTICE_CHAT_ID", NOTICE_CHAT)
    get_settings.cache_clear()
    yield line, telegram
    get_settings.cache_clear()
