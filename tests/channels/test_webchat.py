"""The widget's socket.io channel, driven by python-socketio's client."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
import socketio

from bot.channels import core
from bot.channels.webchat import WebchatInput
from bot.store import Store
from tests.channels.helpers import Collector, sanic_app

pytestmark = pytest.mark.anyio

ORIGIN = "http://city.example"


def channel_for(store: Store, origins: list[str] | None = None) -> WebchatInput:
    ch = WebchatInput.from_credentials(
        {"session_persistence": True, "allowed_origins": origins or [ORIGIN]}
    )
    assert isinstance(ch, WebchatInput)
    ch.store_factory = lambda: store
    return ch


# python-engineio 4.15's websocket client needs aiohttp >= 3.10 (ClientWSTimeout); Rasa pins
# aiohttp 3.9, so these tests use the polling transport. The browser test covers websocket.
async def connect(base: str, origin: str = ORIGIN) -> tuple[socketio.AsyncClient, list[Any]]:
    received: list[Any] = []
    client = socketio.AsyncClient(reconnection=False)
    client.on("bot_uttered", lambda data: received.append(("bot", data)))
    client.on("session_confirm", lambda data: received.append(("session", data)))
    await client.connect(base, headers={"Origin": origin}, transports=["polling"])
    return client, received


async def wait(pred: Any, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if pred():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def test_session_text_buttons_and_location_request(store: Store) -> None:
    collector = Collector(
        responses=lambda m: [
            {"text": "どの災害ですか？", "buttons": [{"title": "洪水", "payload": "/flood"}]},
            {"text": "場所を教えてください。", "custom": {"location_request": True}},
        ]
    )
    async with sanic_app(channel_for(store), collector) as base:
        client, received = await connect(base)
        await client.emit("session_request", {"session_id": "bad id!"})
        await wait(lambda: received)
        session = received[0][1]
        assert received[0][0] == "session" and len(session) == 32
        await client.emit(
            "user_uttered",
            {"message": "避難所", "session_id": session, "metadata": {"resident": "spoofed"}},
        )
        await wait(lambda: len(received) == 3)
        await client.disconnect()
    (msg,) = collector.messages
    assert msg.sender_id == session and msg.input_channel == "socketio"
    assert msg.metadata["resident"] == store.resident_id("socketio", session)
    assert received[1:] == [
        (
            "bot",
            {
                "text": "どの災害ですか？",
                "quick_replies": [{"content_type": "text", "title": "洪水", "payload": "/flood"}],
            },
        ),
        ("bot", {"text": "場所を教えてください。", "location_request": True}),
    ]


async def test_bad_input_is_not_forwarded(store: Store) -> None:
    collector = Collector()
    async with sanic_app(channel_for(store), collector) as base:
        client, received = await connect(base)
        sid = "abcdef0123456789"
        await client.emit("session_request", {"session_id": sid})
        await wait(lambda: received)
        assert received[0] == ("session", sid)
        await client.emit("user_uttered", "just a string")
        await client.emit("user_uttered", {"message": "no session"})
        await client.emit("user_uttered", {"message": "x" * 2000, "session_id": sid})
        await client.emit(
            "user_uttered", {"message": core.location_payload(48.85, 2.35), "session_id": sid}
        )
        await wait(lambda: len(received) == 3)
        await client.disconnect()
    assert collector.messages == []
    assert received[1:] == [
        ("bot", {"text": core.TOO_LONG_TEXT}),
        ("bot", {"text": core.OUTSIDE_JAPAN_TEXT, "location_request": True}),
    ]


async def test_other_origin_is_refused(store: Store) -> None:
    async with sanic_app(channel_for(store), Collector()) as base:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await connect(base, origin="http://evil.example")
        client, received = await connect(base, origin=ORIGIN)
        await client.disconnect()
        ws_url = base + "/socket.io/?EIO=4&transport=websocket"
        async with aiohttp.ClientSession() as s:
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await s.ws_connect(ws_url, headers={"Origin": "http://evil.example"})
            ws = await s.ws_connect(ws_url, headers={"Origin": ORIGIN})
            opening = await ws.receive_str()
            assert opening.startswith("0{")
            await ws.close()


async def test_any_origin_with_star(store: Store) -> None:
    async with sanic_app(channel_for(store, ["*"]), Collector()) as base:
        client, _ = await connect(base, origin="http://anywhere.example")
        await client.disconnect()


async def test_one_allow_origin_header_under_rasas_app_wide_cors(store: Store) -> None:
    """`rasa run --cors` puts sanic-cors on the whole app: the long-polling answers must still
    carry a single Access-Control-Allow-Origin, or browsers refuse them."""
    import uuid

    from sanic import Sanic
    from sanic_cors import CORS

    from tests.channels.helpers import serve

    Sanic.test_mode = True
    app = Sanic(f"cors_{uuid.uuid4().hex[:8]}")
    CORS(app, resources={r"/*": {"origins": ["*"]}}, automatic_options=True)  # as Rasa does
    app.blueprint(channel_for(store).blueprint(Collector()), url_prefix="/webhooks/socketio")
    async with serve(app) as base, aiohttp.ClientSession() as s:
        url = f"{base}/socket.io/?EIO=4&transport=polling"
        async with s.get(url, headers={"Origin": ORIGIN}) as r:
            assert r.status == 200
            assert r.headers.getall("Access-Control-Allow-Origin") == [ORIGIN]
        async with s.get(url, headers={"Origin": "http://evil.example"}) as r:
            assert r.status == 400  # engine.io still refuses other origins
            assert "Access-Control-Allow-Origin" not in r.headers
