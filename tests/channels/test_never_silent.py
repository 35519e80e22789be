"""A resident never gets silence: a message Rasa processed but answered nothing to (a rule that
predicts only ``action_listen``, a photo outside a report, a validator that utters nothing) is
acknowledged with an honest text carrying 119/110 (:func:`bot.channels.texts.received_text`).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels import texts
from bot.channels.line import LineInput
from bot.store import Store
from tests.channels.helpers import (
    Collector,
    FakeLine,
    ServedLine,
    jpeg_with_exif,
    sanic_app,
    settle,
)
from tests.channels.test_line import SECRET, TOKEN, event, sign, text_event
from tests.channels.test_telegram import env_factory, message_update  # noqa: F401 - the fixture

pytestmark = pytest.mark.anyio


def mute() -> Collector:
    """Rasa processing the message and answering nothing."""
    return Collector(responses=lambda m: [])


def served_line(store: Store, api: FakeLine, collector: Collector) -> ServedLine:
    channel = LineInput(SECRET, TOKEN, api.base, api.base, store_factory=lambda: store)
    return ServedLine(channel, sanic_app(channel, collector), sign)


@pytest.mark.parametrize("text", ["ありがとう", "\u0007\u200e"])
async def test_line_text_answered_with_nothing_is_acknowledged(
    store: Store, line_api: FakeLine, text: str
) -> None:
    collector = mute()
    async with served_line(store, line_api, collector) as line:
        assert await line.post(text_event(text, "EVSILENT1")) == 200
        await settle(line.channel)
    (answer,) = line_api.texts
    assert answer == texts.RECEIVED_TEXT
    assert "119" in answer and "110" in answer
    assert store.intake_event("line", "EVSILENT1")["status"] == "done"


async def test_line_location_answered_with_nothing_is_acknowledged(
    store: Store, line_api: FakeLine
) -> None:
    collector = mute()
    location = {"type": "location", "id": "100002", "latitude": 43.06, "longitude": 141.35}
    async with served_line(store, line_api, collector) as line:
        await line.post(event(message=location, event_id="EVSILENT2"))
        await settle(line.channel)
    assert collector.texts == ['/share_location{"latitude": 43.06, "longitude": 141.35}']
    assert line_api.texts == [texts.RECEIVED_TEXT]


async def test_telegram_photo_answered_with_nothing_is_acknowledged(
    env_factory: Any, store: Store  # noqa: F811 - the fixture
) -> None:
    env = await env_factory(collector=mute(), photo=jpeg_with_exif())
    size = {"file_id": "F1", "file_unique_id": "U1", "width": 64, "height": 48}
    await env.post(message_update(611, photo=[size]))
    await env.settle()
    (text,) = env.collector.texts
    assert text.startswith("/share_photo")  # the photo reached Rasa, which said nothing
    sent = env.sent()
    assert [m["text"] for m in sent] == [texts.PHOTO_RECEIVED_TEXT]
    assert "119" in sent[0]["text"] and "110" in sent[0]["text"]


async def test_an_answer_is_not_doubled_by_the_acknowledgement(
    store: Store, line_api: FakeLine
) -> None:
    async with served_line(store, line_api, Collector()) as line:
        await line.post(text_event("避難所", "EVSILENT3"))
        await settle(line.channel)
    assert line_api.texts == ["了解しました。"]
