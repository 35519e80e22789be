"""The relay from `bosai telegram-poll` (bot/channels/relay.py): only signed, fresh requests with
a Telegram pseudonymous sender are processed."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot import identity
from bot.channels.relay import SIGNATURE_HEADER, RelayInput, relay_body, sign
from tests.channels.helpers import Collector, sanic_app

pytestmark = pytest.mark.anyio

KEY = b"relay-test-secret"


async def post(base: str, body: bytes, signature: str | None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{base}/webhooks/relay/webhook", data=body, headers=headers) as r:
            return r.status, await r.json()


def body_for(sender: str, text: str = "避難所", ts: float | None = None) -> bytes:
    message = UserMessage(text, CollectingOutputChannel(), sender, metadata={"resident": "x"})
    return relay_body(message, now=ts)


async def test_signed_message_is_processed_as_telegram() -> None:
    collector = Collector()
    sender = identity.sender_id(KEY, "telegram", "987654321")
    async with sanic_app(RelayInput(secret=KEY), collector) as base:
        body = body_for(sender)
        status, replies = await post(base, body, sign(KEY, body))
    assert status == 200 and replies[0]["text"] == "了解しました。"
    (msg,) = collector.messages
    assert msg.sender_id == sender and msg.input_channel == "telegram"
    assert msg.metadata["resident"] == sender.split(":")[1]  # not the body's "x"


async def test_unsigned_forged_stale_or_foreign_requests_are_refused() -> None:
    collector = Collector()
    telegram = identity.sender_id(KEY, "telegram", "987654321")
    async with sanic_app(RelayInput(secret=KEY), collector) as base:
        body = body_for(telegram)
        assert (await post(base, body, None))[0] == 401
        assert (await post(base, body, sign(b"another secret", body)))[0] == 401
        # the signature of one body does not cover another
        other = body_for(identity.sender_id(KEY, "telegram", "111"))
        assert (await post(base, other, sign(KEY, body)))[0] == 401
        stale = body_for(telegram, ts=time.time() - 3600)
        assert (await post(base, stale, sign(KEY, stale)))[0] == 401
        for sender in ("987654321", identity.sender_id(KEY, "line", "U1"), "rest:" + "a" * 64):
            foreign = body_for(sender)
            assert (await post(base, foreign, sign(KEY, foreign)))[0] == 400
        broken = json.dumps(["x"]).encode()
        assert (await post(base, broken, sign(KEY, broken)))[0] == 400
    assert collector.messages == []
