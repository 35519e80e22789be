"""Shape checks of the platforms' events before the durable intake stores them.

A correctly signed webhook call can still carry an event with wrong types (a number for a text,
a list for a chat, a string for a location): LINE and Telegram never send such events, so one is
broken or forged. It is skipped before it is stored, and the call is answered as usual (a
redelivery would not mend it); the connectors then read only fields of the types checked here.
Only what the connectors use is checked; unknown fields and event kinds pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

__all__ = ["line_event_ok", "telegram_update_ok"]

#: Telegram's ids fit in a signed 64-bit integer
_MAX_ID = 2**63
_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: Any) -> bool:
    """A string of real characters (JSON's ``\\ud800`` escape gives a lone surrogate, which no
    platform sends and no UTF-8 text can hold)."""
    return isinstance(value, str) and not _SURROGATE.search(value)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < _MAX_ID


def _number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _optional(data: dict[str, Any], key: str, check: Callable[[Any], bool]) -> bool:
    return data.get(key) is None or check(data[key])


def _object(check: Callable[[dict[str, Any]], bool] = lambda _: True) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, dict) and check(value)


def line_event_ok(event: Any) -> bool:
    """True when a LINE webhook event has the types the connector reads."""
    if not isinstance(event, dict) or not _text(event.get("type")):
        return False
    if not all(_optional(event, k, _text) for k in ("mode", "webhookEventId", "replyToken")):
        return False
    source = event.get("source")
    if not isinstance(source, dict) or not _text(source.get("userId")):
        return False
    kind = event["type"]
    if kind == "message":
        message = event.get("message")
        if not isinstance(message, dict) or not _text(message.get("type")):
            return False
        if not _optional(message, "id", _text):
            return False
        if message["type"] == "text":
            return _text(message.get("text"))
        if message["type"] == "location":
            return _number(message.get("latitude")) and _number(message.get("longitude"))
        if message["type"] == "image":
            provider = _object(lambda p: _optional(p, "type", _text))
            return _optional(message, "contentProvider", provider)
        return True
    if kind == "postback":
        postback = event.get("postback")
        return isinstance(postback, dict) and _text(postback.get("data"))
    return True


def _telegram_message_ok(message: Any) -> bool:
    if not isinstance(message, dict):
        return False
    chat = message.get("chat")
    if not isinstance(chat, dict) or not _integer(chat.get("id")) or not _text(chat.get("type")):
        return False
    photo_size = _object(
        lambda p: (
            _text(p.get("file_id"))
            and all(_optional(p, k, _integer) for k in ("width", "height", "file_size"))
        )
    )
    checks: dict[str, Callable[[Any], bool]] = {
        "message_id": _integer,
        "date": _integer,
        "text": _text,
        "from": _object(lambda u: _integer(u.get("id"))),
        "location": _object(lambda p: _number(p.get("latitude")) and _number(p.get("longitude"))),
        "photo": lambda sizes: isinstance(sizes, list) and all(map(photo_size, sizes)),
        "sticker": _object(),
    }
    return all(_optional(message, key, check) for key, check in checks.items())


def telegram_update_ok(update: Any) -> bool:
    """True when a Telegram update has the types the connector reads."""
    if not isinstance(update, dict) or not _integer(update.get("update_id")):
        return False
    if update["update_id"] < 0:
        return False
    if update.get("message") is not None:
        return _telegram_message_ok(update["message"])
    query = update.get("callback_query")
    if query is not None:
        return (
            isinstance(query, dict)
            and _optional(query, "data", _text)
            and _optional(query, "message", _telegram_message_ok)
        )
    return True
