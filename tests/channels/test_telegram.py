"""Telegram connector and polling loop against a fake Bot API on loopback."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from aiohttp import web
from PIL import Image

from bot.channels import core
from bot.channels.telegram import TelegramInput
from bot.store import Store
from tests.channels.helpers import Collector, FakeApi, jpeg_with_exif, sanic_app, settle

pytestmark = pytest.mark.anyio

TOKEN = "123456:TEST-token"
SECRET = "test-secret-token"
CHAT = 987654321


class FakeTelegram(FakeApi):
    """Fake Bot API: ``/bot<token>/<method>`` and ``/file/bot<token>/<path>``."""

    def __init__(self, photo: bytes | None = None) -> None:
        super().__init__()
        self.updates: list[list[dict]] = []
        self.photo = photo
        self.route("POST", "/bot{token}/{method}", self.method)
        self.route("GET", "/file/bot{token}/{path:.*}", self.file)

    def params(self, method: str) -> list[dict[str, Any]]:
        out = []
        for r in self.calls("/" + method):
            ctype = r.headers.get("Content-Type", "")
            if "json" in ctype:
                out.append(json.loads(r.body))
            else:
                raw = dict(parse_qsl(r.body.decode()))
                decoded = {}
                for k, v in raw.items():
                    try:
                        decoded[k] = json.loads(v)
                    except ValueError:
                        decoded[k] = v
                out.append(decoded)
        return out

    def method(self, request: web.Request, _: bytes) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401}, status=401)
        m = request.match_info["method"]
        message = {"message_id": 1, "date": 0, "chat": {"id": CHAT, "type": "private"}}
        if m in ("sendMessage", "sendPhoto"):
            result: Any = message
        elif m == "getUpdates":
            result = self.updates.pop(0) if self.updates else []
        elif m == "getFile":
            size = len(self.photo or b"")
            result = {
                "file_id": "F1",
                "file_unique_id": "U1",
                "file_size": size,
                "file_path": "photos/file_1.jpg",
            }
        else:
            result = True
        return web.json_response({"ok": True, "result": result})

    def file(self, request: web.Request, _: bytes) -> web.Response:
        if request.match_info["token"] != TOKEN or self.photo is None:
            return web.Response(status=404)
        return web.Response(body=self.photo, content_type="image/jpeg")


def message_update(update_id: int, chat_type: str = "private", **fields: Any) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 10 + update_id,
            "date": 1700000000,
            "chat": {"id": CHAT, "type": chat_type, "first_name": "太郎"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "太郎"},
            **fields,
        },
    }


class Env:
    def __init__(self, base: str, api: FakeTelegram, collector: Collector, channel: TelegramInput):
        self.base, self.api, self.collector, self.channel = base, api, collector, channel

    async def post(self, payload: Any, secret: str | None = SECRET, raw: bytes | None = None):
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        async with aiohttp.ClientSession() as s:
            async with s.post(
                f"{self.base}/webhooks/telegram/webhook", data=body, headers=headers
            ) as r:
                return r.status, await r.json()

    async def settle(self) -> None:
        """Wait until every stored event was processed and answered."""
        await settle(self.channel)

    def sent(self) -> list[dict[str, Any]]:
        return self.api.params("sendMessage")


@pytest.fixture
async def env_factory(store: Store) -> AsyncIterator[Any]:
    cleanup: list[Any] = []

    async def make(
        collector: Collector | None = None, secret: str = SECRET, photo: bytes | None = None
    ) -> Env:
        api = FakeTelegram(photo)
        base_api = await api.start()
        channel = TelegramInput(
            TOKEN, secret, api_base=base_api + "/bot", store_factory=lambda: store
        )
        collector = collector or Collector()
        ctx = sanic_app(channel, collector)
        base = await ctx.__aenter__()
        cleanup.append((ctx, api))
        return Env(base, api, collector, channel)

    yield make
    for ctx, api in cleanup:
        await ctx.__aexit__(None, None, None)
        await api.stop()


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
async def test_missing_or_wrong_secret_is_401(env_factory: Any, secret: str | None) -> None:
    env = await env_factory()
    status, body = await env.post(message_update(1, text="避難所"), secret=secret)
    assert (status, body) == (401, {"error": "invalid_secret_token"})
    await asyncio.sleep(0.1)
    assert env.collector.messages == [] and env.api.requests == []


async def test_disabled_without_secret(env_factory: Any) -> None:
    env = await env_factory(secret="")
    status, body = await env.post(message_update(1, text="避難所"), secret="")
    assert status == 503 and "TELEGRAM_SECRET_TOKEN" in body["message"]
    assert env.collector.messages == []


async def test_malformed_json_and_non_update(env_factory: Any) -> None:
    env = await env_factory()
    assert (await env.post(None, raw=b"{oops"))[0] == 400
    assert (await env.post({"hello": "world"}))[0] == 400
    assert (await env.post([1, 2]))[0] == 400
    await asyncio.sleep(0.1)
    assert env.collector.messages == [] and env.api.requests == []


async def test_text_is_forwarded_and_answered(env_factory: Any) -> None:
    env = await env_factory()
    status, body = await env.post(message_update(101, text="近くの避難所は？"))
    assert (status, body) == (200, {"status": "ok"})
    await env.api.wait_for("/sendMessage")
    await env.settle()
    (msg,) = env.collector.messages
    assert msg.text == "近くの避難所は？"
    assert msg.sender_id == "telegram:" + msg.metadata["resident"] and str(CHAT) not in msg.sender_id
    assert msg.input_channel == "telegram" and msg.metadata["channel"] == "telegram"
    assert env.sent() == [{"chat_id": CHAT, "text": "了解しました。"}]


async def test_redelivered_update_is_processed_once(env_factory: Any) -> None:
    env = await env_factory()
    update = message_update(202, text="道路が冠水")
    await env.post(update)
    await env.api.wait_for("/sendMessage")
    await env.settle()
    await env.post(update)
    await env.settle()
    await asyncio.sleep(0.1)
    assert env.collector.texts == ["道路が冠水"]
    assert len(env.sent()) == 1


async def test_location_inside_and_outside_japan(env_factory: Any) -> None:
    env = await env_factory()
    await env.post(message_update(301, location={"latitude": 43.0621, "longitude": 141.3544}))
    await env.post(message_update(302, location={"latitude": 40.7128, "longitude": -74.006}))
    await env.api.wait_for("/sendMessage", 2)
    await env.settle()
    assert env.collector.texts == ['/share_location{"latitude": 43.0621, "longitude": 141.3544}']
    assert {"chat_id": CHAT, "text": core.OUTSIDE_JAPAN_TEXT} in env.sent()


async def test_oversized_text_sticker_start_and_unknown(env_factory: Any) -> None:
    env = await env_factory()
    await env.post(message_update(401, text="あ" * 1500))
    await env.post(
        message_update(
            402,
            sticker={
                "file_id": "s",
                "file_unique_id": "s",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            },
        )
    )
    await env.post(message_update(403, text="/start"))
    await env.post(
        {
            "update_id": 404,
            "poll": {
                "id": "p",
                "question": "q",
                "options": [],
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
            },
        }
    )
    await env.post(message_update(405, chat_type="group", text="グループ"))
    await env.api.wait_for("/sendMessage", 3)
    await env.settle()
    await asyncio.sleep(0.1)
    assert env.collector.messages == []
    texts = [p["text"] for p in env.sent()]
    assert core.TOO_LONG_TEXT in texts and core.STICKER_TEXT in texts
    (welcome,) = [p for p in env.sent() if p["text"] == core.WELCOME_TEXT]
    assert "119" in welcome["text"] and "119" in core.TOO_LONG_TEXT  # every reply gives 119
    assert welcome["reply_markup"]["keyboard"] == [
        [{"text": "現在地を送る", "request_location": True}]
    ]
    assert len(env.sent()) == 3


async def test_buttons_callback_and_location_keyboard(env_factory: Any) -> None:
    long_payload = '/report{"damage_type": "building_damage", "place": "' + "あ" * 20 + '"}'
    collector = Collector(
        responses=lambda m: [
            {
                "text": "どの災害ですか？",
                "buttons": [
                    {"title": "洪水", "payload": '/ask_shelter{"hazard": "flood"}'},
                    {"title": "建物", "payload": long_payload},
                    {"title": "現在地を送る", "payload": "/share_location"},
                ],
            },
            {"custom": {"location_request": True, "text": "位置を送ってください。"}},
        ]
    )
    env = await env_factory(collector)
    await env.post(message_update(501, text="避難所"))
    await env.api.wait_for("/sendMessage", 3)
    await env.settle()
    first, hint, second = env.sent()
    rows = first["reply_markup"]["inline_keyboard"]
    assert rows[0] == [{"text": "洪水", "callback_data": '/ask_shelter{"hazard": "flood"}'}]
    assert rows[1][0]["text"] == "建物" and rows[1][0]["callback_data"].startswith("cb:")
    assert len(rows[1][0]["callback_data"].encode()) <= 64 and len(rows) == 2
    location_kb = {
        "keyboard": [[{"text": "現在地を送る", "request_location": True}]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
    }
    assert hint["reply_markup"] == location_kb
    assert second == {
        "chat_id": CHAT,
        "text": "位置を送ってください。",
        "reply_markup": location_kb,
    }

    callback = {
        "update_id": 502,
        "callback_query": {
            "id": "cq1",
            "chat_instance": "ci",
            "data": rows[1][0]["callback_data"],
            "from": {"id": CHAT, "is_bot": False, "first_name": "太郎"},
            "message": {
                "message_id": 5,
                "date": 1700000000,
                "chat": {"id": CHAT, "type": "private"},
                "text": "どの災害ですか？",
            },
        },
    }
    await env.post(callback)
    await env.api.wait_for("/answerCallbackQuery")
    await env.api.wait_for("/sendMessage", 6)
    await env.settle()
    assert env.collector.texts == ["避難所", long_payload]
    assert env.api.params("answerCallbackQuery") == [{"callback_query_id": "cq1"}]


async def test_photo_downloaded_stripped_and_forwarded(env_factory: Any, store: Store) -> None:
    original = jpeg_with_exif()
    env = await env_factory(photo=original)
    sizes = [
        {"file_id": "small", "file_unique_id": "s", "width": 32, "height": 24, "file_size": 100},
        {
            "file_id": "F1",
            "file_unique_id": "U1",
            "width": 64,
            "height": 48,
            "file_size": len(original),
        },
    ]
    await env.post(message_update(601, photo=sizes))
    await env.api.wait_for("/sendMessage")
    await env.settle()
    assert env.api.params("getFile") == [{"file_id": "F1"}]
    assert env.api.calls("/file/bot" + TOKEN + "/photos/file_1.jpg")
    (text,) = env.collector.texts
    ref = json.loads(text[len("/share_photo") :])["photo_ref"]
    saved = store.photo_path(ref).read_bytes()
    with Image.open(io.BytesIO(saved)) as im:
        assert im.format == "JPEG" and not im.getexif()
    assert b"SecretCam" not in saved


def test_poll_command_needs_token(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    from bot.cli import main

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["telegram-poll"]) == 2
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


@pytest.mark.parametrize("anyio_backend", [("asyncio", {"use_uvloop": True})])
async def test_webhook_and_bot_on_uvloop(env_factory: Any, anyio_backend: Any) -> None:
    """Rasa serves on uvloop: PTB's httpx-based Bot works on it too."""
    import uvloop

    assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
    env = await env_factory()
    await env.post(message_update(901, text="こんにちは"))
    await env.api.wait_for("/sendMessage")
    await env.settle()
    assert env.collector.texts == ["こんにちは"]
    assert env.sent() == [{"chat_id": CHAT, "text": "了解しました。"}]
