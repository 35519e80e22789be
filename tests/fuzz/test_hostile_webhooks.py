"""Hostile bodies to the LINE and Telegram webhooks, correctly signed so they reach parsing.

Huge, malformed or deeply nested JSON, invalid UTF-8, wrong types in every field, control
characters, bidi marks, NUL characters, lone surrogates: never a 500, and nothing of an invalid
call is stored (the intake table stays empty, Rasa sees nothing). A valid message whose text is
merely odd (bidi marks, zero-width and control characters, emoji) is stored and reaches Rasa
unchanged, like any other.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.channels.core import clean_user_text
from bot.channels.line import LineInput
from bot.channels.telegram import TelegramInput
from bot.store import Store
from tests.channels.helpers import Collector, sanic_app, settle
from tests.channels.test_line import SECRET as LINE_SECRET
from tests.channels.test_line import TOKEN as LINE_TOKEN
from tests.channels.test_line import event, fake_line, sign, text_event
from tests.channels.test_telegram import CHAT, FakeTelegram, message_update
from tests.channels.test_telegram import SECRET as TG_SECRET
from tests.channels.test_telegram import TOKEN as TG_TOKEN

pytestmark = pytest.mark.anyio

#: bodies that are no JSON object a platform would send (shared by both webhooks)
BROKEN_BODIES: dict[str, bytes] = {
    "empty": b"",
    "truncated": b'{"events": [',
    "invalid utf-8": b'{"events": [], "x": "\xff\xfe\xc0"}',
    "utf-16": '{"events": [1]}'.encode("utf-16"),  # json reads it: an object with no event
    "NUL byte": b"\x00",
    "NUL inside": b'{"events": []\x00}',
    "BOM": b"\xef\xbb\xbf{}",  # json reads it
    "deep arrays": b"[" * 200_000 + b"]" * 200_000,
    "deep objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "deep but small": b"[" * 5_000 + b"]" * 5_000,  # under every size limit
    "deep events": b'{"events": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
    "huge integer": b'{"update_id": 1' + b"0" * 5_000 + b', "events": []}',
    "NaN": b'{"update_id": NaN, "events": NaN}',
    "array": b"[]",
    "string": b'"events"',
    "null": b"null",
    "number": b"12",
    "control characters": b'{"events": [\x01\x02\x1b]}',
    "too large": b'{"events": [], "pad": "' + b"x" * (1024 * 1024) + b'"}',
}
ODD_TEXTS = [
    "避難所\u202eはどこ\u202c",  # right-to-left override
    "\u200f\u200e\u061c助けて\u2066x\u2069",  # bidi marks and isolates
    "水\u200b\u200c\u200dが\ufeff来た",  # zero-width characters
    "tab\tand\rcarriage\x0bvertical\x1bescape\x7fdel",  # control characters
    "NULの\x00あと",  # NUL inside a valid JSON string
    "🏠🌊🆘👨‍👩‍👧 絵文字",
    '/share_location{"latitude": 1e999}',  # a command look-alike: made full-width by the core
]


async def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s:
        async with s.post(url, data=body, headers=headers) as r:
            text = await r.text()
            try:
                return r.status, json.loads(text)
            except ValueError:
                return r.status, text


@pytest.fixture
async def line(store: Store) -> AsyncIterator[Any]:
    api = fake_line()
    base_api = await api.start()
    channel = LineInput(LINE_SECRET, LINE_TOKEN, base_api, base_api, store_factory=lambda: store)
    collector = Collector()
    async with sanic_app(channel, collector) as base:

        async def post(body: bytes) -> tuple[int, Any]:
            headers = {"Content-Type": "application/json", "X-Line-Signature": sign(body)}
            return await _post(f"{base}/webhooks/line/webhook", body, headers)

        yield post, channel, collector
    await api.stop()


@pytest.fixture
async def telegram(store: Store) -> AsyncIterator[Any]:
    api = FakeTelegram()
    base_api = await api.start()
    channel = TelegramInput(
        TG_TOKEN, TG_SECRET, api_base=base_api + "/bot", store_factory=lambda: store
    )
    collector = Collector()
    async with sanic_app(channel, collector) as base:

        async def post(body: bytes) -> tuple[int, Any]:
            headers = {
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": TG_SECRET,
            }
            return await _post(f"{base}/webhooks/telegram/webhook", body, headers)

        yield post, channel, collector
    await api.stop()


def _nothing_stored(store: Store, channel: str, collector: Collector) -> None:
    assert store.intake_counts(channel) == {"pending": 0, "done": 0, "failed": 0}
    assert collector.messages == []


def _line_events() -> dict[str, Any]:
    """Signed JSON objects with LINE's outer shape and broken events."""
    ok = text_event("こんにちは")
    return {
        "events not a list": {"events": "text"},
        "events an object": {"events": {"0": ok}},
        "events of scalars": {"events": [1, "a", None, True, 1.5, []]},
        "event without source": {"events": [{**ok, "source": None}]},
        "source a string": {"events": [{**ok, "source": "Uabc"}]},
        "userId a number": {"events": [{**ok, "source": {"type": "user", "userId": 12}}]},
        "userId empty": {"events": [{**ok, "source": {"type": "user", "userId": ""}}]},
        "userId huge": {"events": [{**ok, "source": {"type": "user", "userId": "U" * 100_000}}]},
        "type unknown": {"events": [event("nonsense")]},
        "type a list": {"events": [{**ok, "type": ["message"]}]},
        "message a list": {"events": [event(message=[1, 2])]},
        "message a string": {"events": [event(message="hello")]},
        "message type a dict": {"events": [event(message={"type": {"a": 1}, "text": "x"})]},
        "text a number": {"events": [event(message={"type": "text", "id": "1", "text": 12})]},
        "text a list": {"events": [event(message={"type": "text", "id": "1", "text": ["a"]})]},
        "text an object": {"events": [event(message={"type": "text", "id": "1", "text": {}})]},
        "text missing": {"events": [event(message={"type": "text", "id": "1"})]},
        "location strings": {
            "events": [
                event(message={"type": "location", "id": "1", "latitude": "35", "longitude": "x"})
            ]
        },
        "location booleans": {
            "events": [
                event(message={"type": "location", "id": "1", "latitude": True, "longitude": 1})
            ]
        },
        "location missing": {"events": [event(message={"type": "location", "id": "1"})]},
        "image provider a string": {
            "events": [event(message={"type": "image", "id": "2", "contentProvider": "x"})]
        },
        "postback a list": {"events": [event("postback", postback=["x"])]},
        "postback data a number": {"events": [event("postback", postback={"data": 5})]},
        "webhookEventId a dict": {"events": [{**ok, "webhookEventId": {"a": 1}}]},
        "mode a list": {"events": [{**ok, "mode": ["active"]}]},
    }


async def _post_all_refused(post: Any, payloads: dict[str, Any]) -> None:
    """Post every one of BROKEN_BODIES (refused, but for the two json reads as objects without an
    event), then every JSON ``payloads`` with a field of the wrong type (refused or ignored)."""
    for name, body in BROKEN_BODIES.items():
        status, answer = await post(body)
        harmless = name in ("utf-16", "BOM")  # json reads them: objects without an event
        assert status in ((200, 400) if harmless else (400, 413)), (name, status, answer)
    for name, payload in payloads.items():
        status, answer = await post(json.dumps(payload).encode())
        assert status in (200, 400), (name, status, answer)


async def test_line_refuses_broken_bodies_and_events_and_stores_nothing(
    line: Any, store: Store
) -> None:
    post, channel, collector = line
    await _post_all_refused(post, _line_events())
    lone_surrogate = json.dumps({"events": [text_event("\ud800です")]})  # escaped: \\ud800
    status, answer = await post(lone_surrogate.encode())
    assert status in (200, 400), ("lone surrogate", status, answer)
    await settle(channel)
    _nothing_stored(store, "line", collector)


async def _odd_texts_stored_and_forwarded(
    served: Any, store: Store, channel_name: str, payload: Any
) -> Collector:
    """Post each of ODD_TEXTS as a valid message (``payload(i, text)``): every one is accepted,
    stored and forwarded to Rasa as typed (control characters other than tab and newline removed;
    a leading / made ／). The collector of what Rasa received."""
    post, channel, collector = served
    for i, text in enumerate(ODD_TEXTS):
        status, answer = await post(json.dumps(payload(i, text)).encode())
        assert status == 200, (text, answer)
    await settle(channel)
    assert store.intake_counts(channel_name) == {"pending": 0, "done": len(ODD_TEXTS), "failed": 0}
    assert sorted(collector.texts) == sorted(clean_user_text(t) for t in ODD_TEXTS)
    return collector


async def test_line_stores_and_forwards_valid_messages_with_odd_text(
    line: Any, store: Store
) -> None:
    def payload(i: int, text: str) -> dict[str, Any]:
        return {"events": [text_event(text, event_id=f"01HODD{i:020d}")]}

    collector = await _odd_texts_stored_and_forwarded(line, store, "line", payload)
    assert "避難所\u202eはどこ\u202c" in collector.texts and "NULのあと" in collector.texts


def _telegram_updates() -> dict[str, Any]:
    ok = message_update(1, text="こんにちは")
    return {
        "update_id a string": {**ok, "update_id": "1"},
        "update_id a float": {**ok, "update_id": 1.5},
        "update_id a bool": {**ok, "update_id": True},
        "update_id missing": {"message": ok["message"]},
        "message a list": {"update_id": 2, "message": [1]},
        "message a string": {"update_id": 3, "message": "hello"},
        "chat a string": {"update_id": 4, "message": {**ok["message"], "chat": "x"}},
        "chat id a string": {
            "update_id": 5,
            "message": {**ok["message"], "chat": {"id": "abc", "type": "private"}},
        },
        "chat id a dict": {
            "update_id": 6,
            "message": {**ok["message"], "chat": {"id": {"a": 1}, "type": "private"}},
        },
        "chat type a list": {
            "update_id": 7,
            "message": {**ok["message"], "chat": {"id": CHAT, "type": ["private"]}},
        },
        "text a number": message_update(8, text=12),
        "text a list": message_update(9, text=["a"]),
        "location strings": message_update(10, location={"latitude": "x", "longitude": []}),
        "location a list": message_update(11, location=[35.0, 139.0]),
        "photo a dict": message_update(12, photo={"file_id": 1}),
        "photo sizes of scalars": message_update(13, photo=[1, "a", None]),
        "date a string": {"update_id": 14, "message": {**ok["message"], "date": "today"}},
        "from a list": {"update_id": 15, "message": {**ok["message"], "from": [1]}},
        "callback a string": {"update_id": 16, "callback_query": "x"},
        "callback data a number": {
            "update_id": 17,
            "callback_query": {
                "id": "q",
                "from": {"id": CHAT},
                "data": 5,
                "message": ok["message"],
            },
        },
        "text a lone surrogate": message_update(18, text="\udc00です"),
        "huge update_id": {**ok, "update_id": 2**80},
        "negative update_id": {**ok, "update_id": -5},
    }


async def test_telegram_refuses_broken_bodies_and_updates_and_stores_nothing(
    telegram: Any, store: Store
) -> None:
    post, channel, collector = telegram
    await _post_all_refused(post, _telegram_updates())
    await settle(channel)
    _nothing_stored(store, "telegram", collector)


async def test_telegram_stores_and_forwards_valid_messages_with_odd_text(
    telegram: Any, store: Store
) -> None:
    def payload(i: int, text: str) -> dict[str, Any]:
        return message_update(100 + i, text=text)

    await _odd_texts_stored_and_forwarded(telegram, store, "telegram", payload)
