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
    channel = channel_for(store)
    async with sanic_app(channel, collector) as base:
        client, received = await connect(base)
        await client.emit("session_request", {"session_id": "bad id!"})
        await wait(lambda: received)
        session = received[0][1]
        assert received[0][0] == "session" and session != "bad id!"
        assert channel.signer.nonce(session) is not None  # a session id the server signed
        await client.emit(
            "user_uttered",
            {"message": "避難所", "session_id": session, "metadata": {"resident": "spoofed"}},
        )
        await wait(lambda: len(received) == 3)
        await client.disconnect()
    (msg,) = collector.messages
    nonce = channel.signer.nonce(session)
    assert nonce is not None and msg.input_channel == "socketio"
    # Rasa sees the pseudonymous sender of the session's nonce, never the session id itself
    assert msg.sender_id == store.sender_id("socketio", nonce) and session not in msg.sender_id
    assert msg.metadata["resident"] == store.resident_id("socketio", nonce)
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
        await client.emit("session_request", {"session_id": None})
        await wait(lambda: received)
        assert received[0][0] == "session"
        sid = received[0][1]
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


async def request_session(client: Any, received: list[Any], given: Any) -> str:
    count = sum(1 for kind, _ in received if kind == "session")
    await client.emit("session_request", {"session_id": given})
    await wait(lambda: sum(1 for kind, _ in received if kind == "session") > count)
    return [data for kind, data in received if kind == "session"][-1]


async def test_forged_session_ids_are_replaced(store: Store) -> None:
    """Only session ids this server signed (and that have not expired) are kept."""
    from bot.channels.webchat import SessionSigner

    channel = channel_for(store)
    async with sanic_app(channel, Collector()) as base:
        client, received = await connect(base)
        genuine = await request_session(client, received, None)
        nonce, expires, signature = genuine.split(".")
        forged = [
            "0123456789abcdef0123456789abcdef",  # a plain id, as Rasa's own channel accepts
            "U" + "a" * 32,  # a LINE userId
            f"{'f' * 32}.{expires}.{signature}",  # another nonce under a copied signature
            f"{nonce}.{int(expires) + 1}.{signature}",  # a longer life
            SessionSigner(b"another secret").issue(),  # signed with another key
            SessionSigner(store.residents.secret, ttl_seconds=-10).issue(),  # expired
        ]
        for given in forged:
            session = await request_session(client, received, given)
            assert session != given and channel.signer.nonce(session) is not None
        # the genuine one is kept (a page reload continues the conversation)
        assert await request_session(client, received, genuine) == genuine
        await client.disconnect()


async def test_a_session_is_bound_to_its_socket(store: Store) -> None:
    """A socket speaks and hears only for the session it was confirmed: naming another
    session's id in a message does nothing, and that session's replies never reach it."""
    collector = Collector(responses=lambda m: [{"text": f"秘密の返事 {m.text}"}])
    async with sanic_app(channel_for(store), collector) as base:
        alice, alice_got = await connect(base)
        mallory, mallory_got = await connect(base)
        alice_session = await request_session(alice, alice_got, None)
        mallory_session = await request_session(mallory, mallory_got, None)
        assert alice_session != mallory_session
        await mallory.emit("user_uttered", {"message": "乗っ取り", "session_id": alice_session})
        await alice.emit("user_uttered", {"message": "家族3人", "session_id": alice_session})
        await wait(lambda: ("bot", {"text": "秘密の返事 家族3人"}) in alice_got)
        await mallory.emit("user_uttered", {"message": "自分", "session_id": mallory_session})
        await wait(lambda: ("bot", {"text": "秘密の返事 自分"}) in mallory_got)
        await alice.disconnect()
        await mallory.disconnect()
    assert [m.text for m in collector.messages] == ["家族3人", "自分"]
    assert collector.messages[0].sender_id != collector.messages[1].sender_id
    assert not any("家族3人" in str(data) for _, data in mallory_got)


async def test_rate_limit_on_the_widget(store: Store) -> None:
    from bot.channels.limits import RATE_LIMITED_TEXT, MessageLimiter
    from bot.channels.shared import SharedState

    channel = channel_for(store)
    channel._limiter = MessageLimiter(2, SharedState(""))
    collector = Collector()
    async with sanic_app(channel, collector) as base:
        client, received = await connect(base)
        session = await request_session(client, received, None)
        for i in range(3):
            await client.emit("user_uttered", {"message": f"m{i}", "session_id": session})
        await wait(lambda: len(received) == 4)
        await client.disconnect()
    assert [m.text for m in collector.messages] == ["m0", "m1"]
    assert ("bot", {"text": RATE_LIMITED_TEXT}) in received


async def test_a_turn_answered_with_nothing_or_failed_is_never_silence(store: Store) -> None:
    """As on LINE and Telegram: Rasa answering nothing gives the acknowledgement, a failed turn
    the request to send it again (both with 119/110); a turn that said something keeps it."""
    from bot.channels.texts import ERROR_TEXT, RECEIVED_TEXT

    seen: list[str] = []

    async def rasa(message: Any) -> None:
        seen.append(message.text)
        if message.text == "answered":
            await message.output_channel.send_response(message.sender_id, {"text": "はい"})
        elif message.text == "fails":
            raise RuntimeError("the action server went away")

    async with sanic_app(channel_for(store), rasa) as base:  # type: ignore[arg-type]
        client, received = await connect(base)
        await client.emit("session_request", {"session_id": None})
        await wait(lambda: received)
        session = received[0][1]
        for text in ("/inform", "fails", "answered"):
            before = len(received)
            await client.emit("user_uttered", {"message": text, "session_id": session})
            await wait(lambda n=before: len(received) > n)
        await asyncio.sleep(0.2)  # nothing more comes
        await client.disconnect()
    assert seen == ["/inform", "fails", "answered"]
    assert received[1:] == [
        ("bot", {"text": RECEIVED_TEXT}),
        ("bot", {"text": ERROR_TEXT}),
        ("bot", {"text": "はい"}),
    ]
