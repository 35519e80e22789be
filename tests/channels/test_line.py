"""LINE connector against a fake LINE API on loopback, inside a real Sanic app."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from PIL import Image

from bot.channels import core
from bot.channels.line import LineInput
from bot.store import Store
from tests.channels.helpers import Collector, FakeApi, jpeg_with_exif, sanic_app, settle

pytestmark = pytest.mark.anyio

SECRET = "test-channel-secret"
TOKEN = "test-access-token"
USER = "U" + "a" * 32


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def event(
    kind: str = "message", event_id: str = "01HEVT0000000000000000000A", **extra: Any
) -> dict:
    ev: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": 1700000000000,
        "source": {"type": "user", "userId": USER},
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": False},
        "replyToken": "rt-" + event_id,
    }
    ev.update(extra)
    return ev


def text_event(text: str, event_id: str = "01HEVT0000000000000000000A") -> dict:
    return event(message={"type": "text", "id": "100001", "text": text}, event_id=event_id)


class Env:
    def __init__(self, base: str, api: FakeApi, collector: Collector, channel: LineInput) -> None:
        self.base = base
        self.api = api
        self.collector = collector
        self.channel = channel

    async def post(
        self, payload: Any, signature: str | None = "auto", raw: bytes | None = None
    ) -> tuple[int, Any]:
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "auto":
            headers["X-Line-Signature"] = sign(body)
        elif signature is not None:
            headers["X-Line-Signature"] = signature
        async with aiohttp.ClientSession() as s:
            async with s.post(
                f"{self.base}/webhooks/line/webhook", data=body, headers=headers
            ) as r:
                return r.status, await r.json()

    async def settle(self) -> None:
        """Wait until every stored event was processed and answered."""
        await settle(self.channel)


def fake_line(reply_status: int = 200, image: bytes | None = None) -> FakeApi:
    api = FakeApi()

    def reply(_: web.Request, __: bytes) -> web.Response:
        if reply_status != 200:
            return web.json_response({"message": "Invalid reply token"}, status=reply_status)
        return web.json_response({"sentMessages": []})

    api.route("POST", "/v2/bot/message/reply", reply)
    api.route("POST", "/v2/bot/message/push", lambda r, b: web.json_response({"sentMessages": []}))

    def content(request: web.Request, _: bytes) -> web.Response:
        if image is None or request.match_info["mid"] != "200001":
            return web.json_response({"message": "Not found"}, status=404)
        return web.Response(body=image, content_type="image/jpeg")

    api.route("GET", "/v2/bot/message/{mid}/content", content)
    return api


@pytest.fixture
async def env_factory(store: Store) -> AsyncIterator[Any]:
    started: list[FakeApi] = []
    contexts: list[Any] = []

    async def make(
        collector: Collector | None = None,
        secret: str = SECRET,
        reply_status: int = 200,
        image: bytes | None = None,
    ) -> Env:
        api = fake_line(reply_status, image)
        base_api = await api.start()
        started.append(api)
        channel = LineInput(secret, TOKEN, base_api, base_api, store_factory=lambda: store)
        collector = collector or Collector()
        ctx = sanic_app(channel, collector)
        base = await ctx.__aenter__()
        contexts.append(ctx)
        return Env(base, api, collector, channel)

    yield make
    for ctx in contexts:
        await ctx.__aexit__(None, None, None)
    for api in started:
        await api.stop()


def assert_auth(recorded: Any) -> None:
    assert recorded.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_verify_call_with_empty_events_is_ok(env_factory: Any) -> None:
    env = await env_factory()
    status, body = await env.post({"destination": "Uxxx", "events": []})
    assert (status, body) == (200, {"status": "ok"})
    await env.settle()
    assert env.api.requests == [] and env.collector.messages == []


@pytest.mark.parametrize("signature", [None, "", "bm90LXRoZS1zaWduYXR1cmU=", "%%%"])
async def test_missing_or_forged_signature_is_401(env_factory: Any, signature: str | None) -> None:
    env = await env_factory()
    status, body = await env.post({"events": [text_event("避難所")]}, signature=signature)
    assert status == 401 and body == {"error": "invalid_signature"}
    assert "避難所" not in json.dumps(body, ensure_ascii=False)
    await asyncio.sleep(0.1)
    assert env.collector.messages == [] and env.api.requests == []


async def test_signature_with_other_secret_is_401(env_factory: Any) -> None:
    env = await env_factory()
    raw = json.dumps({"events": [text_event("こんにちは")]}).encode()
    status, _ = await env.post(None, signature=sign(raw, "another-secret"), raw=raw)
    assert status == 401
    assert env.collector.messages == []


async def test_malformed_json_is_400_after_signature(env_factory: Any) -> None:
    env = await env_factory()
    status, body = await env.post(None, raw=b'{"events": [')
    assert (status, body) == (400, {"error": "malformed_json"})
    status, body = await env.post(None, raw=b'{"events": "nope"}')
    assert status == 400
    assert env.collector.messages == []


async def test_disabled_without_secret(env_factory: Any) -> None:
    env = await env_factory(secret="")
    status, body = await env.post({"events": [text_event("テスト")]}, signature="x")
    assert status == 503 and body["error"] == "line_disabled"
    assert "LINE_CHANNEL_SECRET" in body["message"]
    assert env.collector.messages == []


async def test_text_is_forwarded_and_replied_in_one_call(env_factory: Any) -> None:
    env = await env_factory()
    status, _ = await env.post({"events": [text_event("近くの避難所はどこですか")]})
    assert status == 200
    calls = await env.api.wait_for("/reply")
    await env.settle()
    (msg,) = env.collector.messages
    assert msg.text == "近くの避難所はどこですか"
    assert msg.input_channel == "line"
    assert msg.metadata["channel"] == "line"
    assert len(msg.metadata["resident"]) == 64 and USER not in msg.metadata["resident"]
    # Rasa sees the pseudonymous sender, never the LINE userId (bot/identity.py)
    assert msg.sender_id == "line:" + msg.metadata["resident"] and USER not in msg.sender_id
    assert len(calls) == 1
    assert_auth(calls[0])
    assert calls[0].json() == {
        "replyToken": "rt-01HEVT0000000000000000000A",
        "messages": [{"type": "text", "text": "了解しました。"}],
    }
    assert env.api.calls("/push") == []


async def test_webhook_answers_before_slow_bot(env_factory: Any) -> None:
    collector = Collector(responses=lambda m: [{"text": "遅い返事"}], delay=2.0)
    env = await env_factory(collector)
    started = time.monotonic()
    status, _ = await env.post({"events": [text_event("こんにちは")]})
    assert status == 200
    assert time.monotonic() - started < 1.0
    assert env.api.calls("/reply") == []
    calls = await env.api.wait_for("/reply", timeout=6.0)
    assert calls[0].json()["messages"] == [{"type": "text", "text": "遅い返事"}]


async def test_redelivery_is_processed_once(env_factory: Any, store: Store) -> None:
    env = await env_factory()
    ev = text_event("道路が冠水しています", event_id="01HREDELIVERY0000000000000")
    await env.post({"events": [ev]})
    await env.api.wait_for("/reply")
    await env.settle()
    ev2 = dict(ev, deliveryContext={"isRedelivery": True}, replyToken="rt-second")
    status, _ = await env.post({"events": [ev2]})
    assert status == 200
    await env.settle()
    await asyncio.sleep(0.1)
    assert env.collector.texts == ["道路が冠水しています"]
    assert len(env.api.calls("/reply")) == 1
    assert store.intake_event("line", "01HREDELIVERY0000000000000")["status"] == "done"


async def test_unknown_and_unsupported_events(env_factory: Any) -> None:
    env = await env_factory()
    events = [
        event("beacon", event_id="E1", beacon={"hwid": "d41d8cd98f", "type": "enter"}),
        event("memberJoined", event_id="E2"),
        event(message={"type": "audio", "id": "300001", "duration": 1000}, event_id="E3"),
        "not-an-event",
        event(message={"type": "text", "id": "1", "text": "hi"}, event_id="E4", mode="standby"),
    ]
    status, _ = await env.post({"events": events})
    assert status == 200
    calls = await env.api.wait_for("/reply")
    await env.settle()
    assert env.collector.messages == []
    assert len(calls) == 1
    assert calls[0].json() == {
        "replyToken": "rt-E3",
        "messages": [{"type": "text", "text": core.UNSUPPORTED_TEXT}],
    }


async def test_oversized_text_is_refused(env_factory: Any) -> None:
    env = await env_factory()
    await env.post({"events": [text_event("あ" * (core.MAX_TEXT_CHARS + 1))]})
    calls = await env.api.wait_for("/reply")
    await env.settle()
    assert env.collector.messages == []
    assert calls[0].json()["messages"] == [{"type": "text", "text": core.TOO_LONG_TEXT}]


async def test_typed_intent_syntax_is_neutralised(env_factory: Any) -> None:
    env = await env_factory()
    await env.post({"events": [text_event('/share_location{"latitude": 0, "longitude": 0}')]})
    await env.api.wait_for("/reply")
    await env.settle()
    assert env.collector.texts == ['／share_location{"latitude": 0, "longitude": 0}']


async def test_location_in_japan_becomes_payload(env_factory: Any) -> None:
    env = await env_factory()
    loc = {
        "type": "location",
        "id": "400001",
        "title": "",
        "address": "札幌市",
        "latitude": 43.0621,
        "longitude": 141.3544,
    }
    await env.post({"events": [event(message=loc)]})
    await env.api.wait_for("/reply")
    await env.settle()
    assert env.collector.texts == ['/share_location{"latitude": 43.0621, "longitude": 141.3544}']


async def test_location_outside_japan_is_refused(env_factory: Any, store: Store) -> None:
    env = await env_factory()
    loc = {"type": "location", "id": "400002", "latitude": 51.5007, "longitude": -0.1246}
    await env.post({"events": [event(message=loc)]})
    calls = await env.api.wait_for("/reply")
    await env.settle()
    assert env.collector.messages == []
    assert calls[0].json()["messages"] == [{"type": "text", "text": core.OUTSIDE_JAPAN_TEXT}]
    assert store.count_reports() == 0


async def test_forged_location_postback_outside_japan_is_refused(env_factory: Any) -> None:
    env = await env_factory()
    data = core.location_payload(35.0, 200.0 - 300.0)
    await env.post({"events": [event("postback", postback={"data": data})]})
    calls = await env.api.wait_for("/reply")
    await env.settle()
    assert env.collector.messages == []
    assert calls[0].json()["messages"] == [{"type": "text", "text": core.OUTSIDE_JAPAN_TEXT}]


async def test_postback_payload_is_forwarded(env_factory: Any) -> None:
    env = await env_factory()
    data = '/report{"damage_type": "road_flooded"}'
    await env.post({"events": [event("postback", postback={"data": data})]})
    await env.api.wait_for("/reply")
    await env.settle()
    assert env.collector.texts == [data]


async def test_image_is_downloaded_stripped_stored_and_forwarded(
    env_factory: Any, store: Store
) -> None:
    original = jpeg_with_exif()
    assert Image.open(io.BytesIO(original)).getexif()  # the fixture really carries EXIF
    env = await env_factory(image=original)
    img = {"type": "image", "id": "200001", "contentProvider": {"type": "line"}}
    await env.post({"events": [event(message=img)]})
    await env.api.wait_for("/reply")
    await env.settle()
    (download,) = env.api.calls("/v2/bot/message/200001/content")
    assert_auth(download)
    (text,) = env.collector.texts
    assert text.startswith("/share_photo")
    ref = json.loads(text[len("/share_photo") :])["photo_ref"]
    saved = store.photo_path(ref).read_bytes()
    assert saved != original
    with Image.open(io.BytesIO(saved)) as im:
        assert im.format == "JPEG" and im.size == (64, 48)
        assert not im.getexif()
        assert "exif" not in im.info
    assert b"SecretCam" not in saved


async def test_image_download_failure_gets_clear_reply(env_factory: Any) -> None:
    env = await env_factory(image=b"not an image")
    img = {"type": "image", "id": "200001", "contentProvider": {"type": "line"}}
    await env.post({"events": [event(message=img)]})
    calls = await env.api.wait_for("/reply")
    await env.settle()
    assert env.collector.messages == []
    assert calls[0].json()["messages"] == [{"type": "text", "text": core.PHOTO_FAILED_TEXT}]


async def test_sticker_follow_unfollow(env_factory: Any) -> None:
    env = await env_factory()
    events = [
        event(
            message={"type": "sticker", "id": "1", "packageId": "446", "stickerId": "1988"},
            event_id="S1",
        ),
        event("follow", event_id="F1"),
        {k: v for k, v in event("unfollow", event_id="U1").items() if k != "replyToken"},
    ]
    await env.post({"events": events})
    calls = await env.api.wait_for("/reply", 2)
    await env.settle()
    assert env.collector.messages == []
    assert calls[0].json()["messages"] == [{"type": "text", "text": core.STICKER_TEXT}]
    welcome = calls[1].json()
    assert welcome["replyToken"] == "rt-F1"
    (msg,) = welcome["messages"]
    assert "119" in msg["text"] and "110" in msg["text"]
    assert msg["quickReply"] == {
        "items": [{"type": "action", "action": {"type": "location", "label": "現在地を送る"}}]
    }
    assert env.api.calls("/push") == []


async def test_buttons_become_quick_replies_and_location_action(env_factory: Any) -> None:
    collector = Collector(
        responses=lambda m: [
            {
                "text": "どの災害ですか？",
                "buttons": [
                    {"title": "洪水", "payload": '/ask_shelter{"hazard": "flood"}'},
                    {"title": "現在地を送る", "payload": "/share_location"},
                ],
            },
            {"custom": {"location_request": True, "text": "位置を教えてください。"}},
        ]
    )
    env = await env_factory(collector)
    await env.post({"events": [text_event("避難所")]})
    calls = await env.api.wait_for("/reply")
    await env.settle()
    location_item = {"type": "action", "action": {"type": "location", "label": "現在地を送る"}}
    assert calls[0].json()["messages"] == [
        {
            "type": "text",
            "text": "どの災害ですか？",
            "quickReply": {
                "items": [
                    location_item,
                    {
                        "type": "action",
                        "action": {
                            "type": "postback",
                            "label": "洪水",
                            "data": '/ask_shelter{"hazard": "flood"}',
                            "displayText": "洪水",
                        },
                    },
                ]
            },
        },
        {
            "type": "text",
            "text": "位置を教えてください。",
            "quickReply": {"items": [location_item]},
        },
    ]


async def test_overflow_goes_to_push(env_factory: Any) -> None:
    collector = Collector(responses=lambda m: [{"text": f"返事{i}"} for i in range(7)])
    env = await env_factory(collector)
    await env.post({"events": [text_event("たくさん")]})
    replies = await env.api.wait_for("/reply")
    pushes = await env.api.wait_for("/push")
    await env.settle()
    assert [m["text"] for m in replies[0].json()["messages"]] == [f"返事{i}" for i in range(5)]
    assert pushes[0].json() == {
        "to": USER,
        "messages": [{"type": "text", "text": "返事5"}, {"type": "text", "text": "返事6"}],
    }
    assert pushes[0].headers.get("X-Line-Retry-Key")
    assert_auth(pushes[0])


async def test_expired_reply_token_falls_back_to_push(env_factory: Any) -> None:
    env = await env_factory(reply_status=400)
    await env.post({"events": [text_event("こんにちは")]})
    pushes = await env.api.wait_for("/push")
    await env.settle()
    assert len(env.api.calls("/reply")) == 1
    assert pushes[0].json() == {
        "to": USER,
        "messages": [{"type": "text", "text": "了解しました。"}],
    }


async def test_push_for_officials_notices(env_factory: Any, store: Store) -> None:
    """A push is addressed by the resident's pseudonymous sender through the address table."""
    env = await env_factory()
    texts = [f"お知らせ{i}" for i in range(6)]
    sender = store.sender_id("line", USER)
    assert await env.channel.push(sender, texts) is False  # never wrote: no address
    assert await env.channel.push(USER, texts) is False  # a raw id is not an address key
    assert env.api.calls("/push") == []
    await env.post({"events": [text_event("こんにちは")]})  # the resident writes once
    await env.api.wait_for("/reply")
    await env.settle()
    assert store.address_of(sender) == USER
    assert await env.channel.push(sender, texts) is True
    pushes = env.api.calls("/push")
    assert {p.json()["to"] for p in pushes} == {USER}
    assert [p.json()["messages"] for p in pushes] == [
        [{"type": "text", "text": t} for t in texts[:5]],
        [{"type": "text", "text": texts[5]}],
    ]


@pytest.mark.parametrize("anyio_backend", [("asyncio", {"use_uvloop": True})])
async def test_line_on_uvloop(env_factory: Any, anyio_backend: Any) -> None:
    import uvloop

    assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
    env = await env_factory()
    await env.post({"events": [text_event("こんにちは")]})
    calls = await env.api.wait_for("/reply")
    await env.settle()
    assert calls[0].json()["messages"] == [{"type": "text", "text": "了解しました。"}]
