"""The relay from ``bosai telegram-poll`` to the Rasa server (``/webhooks/relay/webhook``).

Telegram without a public URL is polled by a separate process (:mod:`bot.channels.polling`),
which runs the same :class:`~bot.channels.core.ChannelCore` as the webhook and so already gives
each message its pseudonymous sender ``telegram:<hash>`` (:mod:`bot.identity`). It cannot use the
REST channel for that: REST namespaces every sender as ``rest:…`` (so that nobody can reach a
Telegram resident's conversation through it) and may be off.

The relay accepts a message only when the request is signed by a process of the same
installation: ``X-Bosai-Relay-Signature`` is the hex HMAC-SHA256 of the raw body with a key
derived from the resident secret (``BOSAI_RESIDENT_SECRET`` or ``var/resident_secret``, which
both processes read), the body's ``ts`` is within :data:`MAX_AGE_SECONDS` of now (a captured
request cannot be replayed later), and the sender is a pseudonymous sender of a channel in
:data:`RELAY_CHANNELS`. Anything else gets 401 / 400 and is not processed. The answer is the
bot's messages in Rasa's REST format, which the poller sends with the Bot API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import identity
from bot.channels.core import strip_controls

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Bosai-Relay-Signature"
RELAY_CHANNELS = frozenset({"telegram"})
MAX_AGE_SECONDS = 300
MAX_BODY_BYTES = 64 * 1024


def relay_key(secret: bytes) -> bytes:
    return identity.derived_key(secret, "relay")


def sign(secret: bytes, body: bytes) -> str:
    """The signature header value for ``body``."""
    return hmac.new(relay_key(secret), body, hashlib.sha256).hexdigest()


def relay_body(message: UserMessage, now: float | None = None) -> bytes:
    """The signed body for one message (sender, text, metadata, message id, time)."""
    return json.dumps(
        {
            "sender": message.sender_id,
            "message": message.text,
            "metadata": dict(message.metadata or {}),
            "message_id": message.message_id,
            "ts": int(now if now is not None else time.time()),
        },
        ensure_ascii=False,
    ).encode("utf-8")


class RelayInput(identity.KeyedBySecret, InputChannel):
    """Receives the poller's messages (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "relay"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def _check(self, request: Request) -> tuple[dict[str, Any] | None, HTTPResponse | None]:
        body = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            return None, response.json({"error": "too_large"}, status=413)
        given = request.headers.get(SIGNATURE_HEADER) or ""
        if not hmac.compare_digest(sign(self.secret, body), given.strip()):
            return None, response.json({"error": "invalid_signature"}, status=401)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            return None, response.json({"error": "malformed_json"}, status=400)
        if not isinstance(data, dict):
            return None, response.json({"error": "malformed_body"}, status=400)
        ts = data.get("ts")
        if not isinstance(ts, int) or abs(time.time() - ts) > MAX_AGE_SECONDS:
            return None, response.json({"error": "expired"}, status=401)
        parsed = identity.parse_sender(data.get("sender") or "")
        if parsed is None or parsed[0] not in RELAY_CHANNELS:
            return None, response.json({"error": "invalid_sender"}, status=400)
        text = data.get("message")
        if not isinstance(text, str) or not strip_controls(text).strip():
            return None, response.json({"error": "invalid_message"}, status=400)
        return {**data, "message": strip_controls(text)}, None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("relay_webhook", __name__)

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            data, refusal = self._check(request)
            if refusal is not None or data is None:
                return refusal or response.json({"error": "malformed_body"}, status=400)
            sender = str(data["sender"])
            channel, resident = sender.split(":", 1)
            given = data.get("metadata")
            metadata: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
            metadata.update({"channel": channel, "resident": resident})
            message_id = data.get("message_id")
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        str(data["message"]),
                        collector,
                        sender,
                        input_channel=channel,
                        message_id=str(message_id) if message_id is not None else None,
                        metadata=metadata,
                    )
                )
            except CancelledError:
                logger.error("relay: a message timed out")
            except Exception:  # noqa: BLE001
                logger.exception("relay: a message failed")
            return response.json(collector.messages)

        return bp
