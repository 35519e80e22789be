"""A small Rasa socket.io server for widget tests.

It is our real :class:`~bot.channels.webchat.WebchatInput` (Rasa's socket.io channel protocol:
``session_request`` / ``session_confirm`` / ``user_uttered`` / ``bot_uttered``) in a Sanic app,
with a scripted ``on_new_message`` standing in for the trained model.
"""

from __future__ import annotations

import json
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.channels.webchat import WebchatInput
from tests.channels.helpers import Collector

SHELTER_ANSWER = "いちばん近い洪水の避難場所は「中央小学校」です（約350m、北東）。"


def scripted(message: UserMessage) -> list[dict[str, Any]]:
    text = message.text or ""
    if text.startswith("/share_location"):
        coords = json.loads(text[len("/share_location") :])
        assert isinstance(coords["latitude"], float) or isinstance(coords["latitude"], int)
        return [{"text": SHELTER_ANSWER}]
    if text.startswith("/ask_shelter"):
        return [
            {
                "text": "場所を教えてください。位置情報を送るか、住所を入力してください。",
                "custom": {"location_request": True},
            }
        ]
    if text.startswith("/share_photo"):
        return [{"text": "写真を受け取りました。"}]
    if "避難所" in text:
        return [
            {
                "text": "どの災害に備えますか？",
                "buttons": [
                    {"title": "洪水", "payload": '/ask_shelter{"hazard": "flood"}'},
                    {"title": "地震", "payload": '/ask_shelter{"hazard": "earthquake"}'},
                ],
            }
        ]
    if text == "html":
        return [{"text": '<b id="injected">太字</b><img src=x onerror="window.pwned=1">'}]
    return [{"text": "すみません、もう一度お願いします。"}]


def make_bot(store_factory: Any = None) -> tuple[WebchatInput, Collector]:
    channel = WebchatInput(session_persistence=True, store_factory=store_factory)
    return channel, Collector(responses=scripted)
