"""The REST channel (bot/channels/rest.py): off without BOSAI_REST_TOKEN, bearer token, namespaced
senders, the channel fixed to ``rest``, text cap and per-resident rate limit."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import pytest
from sanic import Sanic

from bot import identity
from bot.channels import core
from bot.channels.limits import RATE_LIMITED_TEXT, MessageLimiter
from bot.channels.rest import TokenRestInput
from bot.channels.shared import SharedState
from tests.channels.helpers import Collector, serve

pytestmark = pytest.mark.anyio

TOKEN = "s3cret-rest-token"
KEY = b"rest-test-secret"


def test_bearer_header_parsing() -> None:
    from bot.channels.rest import bearer_ok

    assert bearer_ok(TOKEN, f"Bearer {TOKEN}") is True
    assert bearer_ok(TOKEN, f"bearer  {TOKEN} ") is True  # the scheme is case-insensitive
    assert bearer_ok(TOKEN, "Bearer other") is False
    assert bearer_ok(TOKEN, f"Basic {TOKEN}") is None
    assert bearer_ok(TOKEN, "Bearer ") is None
    assert bearer_ok(TOKEN, None) is None


def rest_channel(token: str = TOKEN, per_minute: int = 20) -> TokenRestInput:
    return TokenRestInput(
        token=token, secret=KEY, limiter=MessageLimiter(per_minute, SharedState(""))
    )


async def post(
    base: str, body: Any, token: str | None = TOKEN, raw: bytes | None = None
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else None
    async with aiohttp.ClientSession() as s:
        async with s.post(
            f"{base}/webhooks/rest/webhook", json=None if raw else body, data=data, headers=headers
        ) as r:
            return r.status, await r.json(content_type=None)


async def app_with(channel: TokenRestInput, collector: Collector) -> Any:
    Sanic.test_mode = True
    app = Sanic(f"rest_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(collector), url_prefix="/webhooks/rest")

    @app.get("/")  # Rasa's app always has other routes (an app without any cannot start)
    async def root(_: Any) -> Any:
        from sanic import response

        return response.text("Hello from Rasa")

    return serve(app)


async def test_not_served_without_a_token() -> None:
    collector = Collector()
    async with await app_with(rest_channel(token=""), collector) as base:
        async with aiohttp.ClientSession() as s:
            async with s.post(
                f"{base}/webhooks/rest/webhook", json={"sender": "a", "message": "x"}
            ) as r:
                assert r.status == 404
            async with s.get(f"{base}/webhooks/rest/") as r:
                assert r.status == 404
    assert collector.messages == []


async def test_token_is_required() -> None:
    collector = Collector()
    async with await app_with(rest_channel(), collector) as base:
        status, body = await post(base, {"sender": "a", "message": "こんにちは"}, token=None)
        assert (status, body["error"]) == (401, "missing_token")
        status, body = await post(base, {"sender": "a", "message": "こんにちは"}, token="wrong")
        assert (status, body["error"]) == (403, "invalid_token")
        status, body = await post(base, {"sender": "a", "message": "こんにちは"}, token=TOKEN + "x")
        assert status == 403
        assert collector.messages == []
        status, body = await post(base, {"sender": "a", "message": "こんにちは"})
        assert status == 200 and body[0]["text"] == "了解しました。"
    assert len(collector.messages) == 1


async def test_sender_is_namespaced_and_channel_fixed() -> None:
    collector = Collector()
    line_user = "U" + "b" * 32
    line_sender = identity.sender_id(KEY, "line", line_user)
    async with await app_with(rest_channel(), collector) as base:
        for given in (line_user, line_sender, "telegram:987654321"):
            status, body = await post(
                base,
                {"sender": given, "message": "避難所", "input_channel": "line",
                 "metadata": {"channel": "line", "resident": "x"}},
            )  # fmt: skip
            assert status == 200
            msg = collector.messages[-1]
            assert msg.sender_id == identity.sender_id(KEY, "rest", given)
            assert msg.sender_id != line_sender and msg.input_channel == "rest"
            assert msg.metadata == {"channel": "rest", "resident": msg.sender_id.split(":")[1]}
            assert body[0]["recipient_id"] == msg.sender_id
    # the pseudonym stored for a REST sender is the one the store always computed
    from bot.store.residents import Residents

    assert collector.messages[0].metadata["resident"] == Residents(KEY).pseudonym("rest", line_user)


async def test_bad_bodies_are_refused() -> None:
    collector = Collector()
    async with await app_with(rest_channel(), collector) as base:
        assert (await post(base, None, raw=b"{not json"))[0] == 400
        assert (await post(base, ["a"]))[0] == 400
        assert (await post(base, {"message": "x"}))[0] == 400
        assert (await post(base, {"sender": "a" * 256, "message": "x"}))[0] == 400
        assert (await post(base, {"sender": "a", "message": 5}))[0] == 400
    assert collector.messages == []


async def test_text_cap_and_location_check() -> None:
    collector = Collector()
    async with await app_with(rest_channel(), collector) as base:
        status, body = await post(
            base, {"sender": "a", "message": "あ" * (core.MAX_TEXT_CHARS + 1)}
        )
        assert status == 200 and [r["text"] for r in body] == [core.TOO_LONG_TEXT]
        status, body = await post(
            base, {"sender": "a", "message": core.location_payload(48.85, 2.35)}
        )
        assert [r["text"] for r in body] == [core.OUTSIDE_JAPAN_TEXT]
        status, body = await post(base, {"sender": "a", "message": "あ" * core.MAX_TEXT_CHARS})
        assert body[0]["text"] == "了解しました。"
    assert [len(m.text or "") for m in collector.messages] == [core.MAX_TEXT_CHARS]


async def test_rate_limit_per_resident() -> None:
    collector = Collector()
    async with await app_with(rest_channel(per_minute=3), collector) as base:
        answers = [await post(base, {"sender": "a", "message": f"{i}"}) for i in range(5)]
        other = await post(base, {"sender": "b", "message": "x"})
    texts = [body[0]["text"] for _, body in answers]
    assert texts[:3] == ["了解しました。"] * 3
    assert texts[3:] == [RATE_LIMITED_TEXT] * 2
    assert "119" in RATE_LIMITED_TEXT and "110" in RATE_LIMITED_TEXT
    assert other[1][0]["text"] == "了解しました。"  # another resident is not limited
    assert [m.text for m in collector.messages] == ["0", "1", "2", "x"]


async def test_a_turn_answered_with_nothing_or_failed_is_never_an_empty_answer() -> None:
    """As on LINE and Telegram: Rasa answering nothing (a rule predicting only action_listen)
    gives the acknowledgement, a failed turn the request to send it again; both with 119/110.
    A turn that said something before failing keeps what it said."""
    from bot.channels.texts import ERROR_TEXT, RECEIVED_TEXT

    silent = Collector(responses=lambda m: [])

    async def failing(message: Any) -> None:
        if message.text == "partly":
            await message.output_channel.send_response(message.sender_id, {"text": "途中まで"})
        raise RuntimeError("the action server went away")

    async with await app_with(rest_channel(), silent) as base:
        status, body = await post(base, {"sender": "a", "message": "/inform"})
    assert status == 200
    assert [r["text"] for r in body] == [RECEIVED_TEXT]
    assert body[0]["recipient_id"] == identity.sender_id(KEY, "rest", "a")
    assert [m.text for m in silent.messages] == ["/inform"]  # it did reach Rasa
    async with await app_with(rest_channel(), failing) as base:  # type: ignore[arg-type]
        _, failed = await post(base, {"sender": "a", "message": "水が来た"})
        _, partly = await post(base, {"sender": "a", "message": "partly"})
    assert [r["text"] for r in failed] == [ERROR_TEXT]
    assert [r["text"] for r in partly] == ["途中まで"]
    for text in (RECEIVED_TEXT, ERROR_TEXT):
        assert "119" in text and "110" in text
