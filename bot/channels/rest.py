"""Rasa's REST channel, closed by default and unable to reach another channel's residents.

Register in ``credentials.yml`` as ``bot.channels.rest.TokenRestInput`` with
``token: ${BOSAI_REST_TOKEN}`` (``bosai run`` exports it, "" when unset). Differences from
Rasa 3.6's ``rest`` channel (which takes ``sender`` and ``input_channel`` from the body, so that
anyone who knew a LINE userId or a Telegram chat id could continue that resident's conversation,
read the replies and overwrite their registration):

- **off unless** ``BOSAI_REST_TOKEN`` is set: without it the blueprint has no routes and
  ``/webhooks/rest/webhook`` answers 404;
- with it, ``Authorization: Bearer <token>`` is required (compared in constant time): 401
  ``missing_token`` without the header, 403 ``invalid_token`` with another token;
- the sender Rasa sees is namespaced: ``rest:<keyed hash of the given sender>``
  (:func:`bot.identity.sender_id`), so ``"sender": "U123…"`` or ``"sender": "line:…"`` is
  another resident, never the LINE or Telegram one; ``input_channel`` and ``metadata`` from the
  body are ignored (the channel is always ``rest``, the metadata ``{channel, resident}``);
- the same checks as the other channels: text over ``MAX_TEXT_CHARS`` gets a short reply, a
  location payload outside Japan is refused, and the per-resident rate limit
  (:mod:`bot.channels.limits`) answers with the 119/110 text;
- never an empty answer: a turn Rasa answered with nothing gets the acknowledgement the other
  channels send (``RECEIVED_TEXT``, with 119/110), a turn that failed or timed out with nothing
  said the request to send the message again (``ERROR_TEXT``, with 119/110).

The answer keeps Rasa's format (a JSON list of ``{"recipient_id", "text", "buttons", …}``;
``recipient_id`` is the namespaced sender). ``?stream=true`` is not supported.
"""

from __future__ import annotations

import hmac
import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import identity
from bot.channels.core import MAX_TEXT_CHARS, TOO_LONG_TEXT, check_payload, strip_controls
from bot.channels.limits import RATE_LIMITED_TEXT, MessageLimiter
from bot.channels.texts import ERROR_TEXT, received_text

logger = logging.getLogger(__name__)

#: longest ``sender`` a REST client may give (it is hashed; the raw value is never stored)
MAX_SENDER_CHARS = 255


def bearer_ok(expected: str, header: str | None) -> bool | None:
    """None without a bearer token, else whether it is ``expected`` (constant time)."""
    scheme, _, value = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    given = value.strip().encode("utf-8", "replace")
    return hmac.compare_digest(given, expected.encode("utf-8"))


class TokenRestInput(identity.KeyedBySecret, InputChannel):
    """The REST channel: bearer token, namespaced senders, caps and rate limit (the resident
    secret, given or read on first use: :class:`bot.identity.KeyedBySecret`)."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(token=str(credentials.get("token") or ""))

    def __init__(
        self,
        token: str = "",
        secret: bytes | None = None,
        limiter: MessageLimiter | None = None,
    ) -> None:
        super().__init__(secret)
        self.token = token.strip()
        self._limiter = limiter

    @property
    def enabled(self) -> bool:
        return bool(self.token)

    @property
    def limiter(self) -> MessageLimiter:
        if self._limiter is None:
            self._limiter = MessageLimiter()
        return self._limiter

    def sender_for(self, given: str) -> str:
        """``rest:<hash>`` for the sender a client gave."""
        return identity.sender_id(self.secret, self.name(), given)

    @staticmethod
    def _answer(sender: str, text: str) -> HTTPResponse:
        return response.json([{"recipient_id": sender, "text": text}])

    async def _receive(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        ok = bearer_ok(self.token, request.headers.get("Authorization"))
        if ok is None:
            return response.json(
                {"error": "missing_token", "message": "Authorization: Bearer <BOSAI_REST_TOKEN>"},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not ok:
            return response.json({"error": "invalid_token"}, status=403)
        try:
            body = request.json
        except Exception:  # noqa: BLE001 - Sanic raises InvalidUsage for bad JSON
            body = None
        if not isinstance(body, dict):
            return response.json({"error": "malformed_json"}, status=400)
        given, text = body.get("sender"), body.get("message")
        if (
            not isinstance(given, str)
            or not given.strip()
            or len(given) > MAX_SENDER_CHARS
            or strip_controls(given) != given  # control characters, lone surrogates
        ):
            return response.json(
                {"error": "invalid_sender", "message": f"sender: 1-{MAX_SENDER_CHARS} characters"},
                status=400,
            )
        if not isinstance(text, str) or not strip_controls(text).strip():
            return response.json({"error": "invalid_message"}, status=400)
        text = strip_controls(text)  # as the other channels (NUL, lone surrogates)
        sender = self.sender_for(given)
        if len(text) > MAX_TEXT_CHARS:
            return self._answer(sender, TOO_LONG_TEXT)
        problem = check_payload(text)
        if problem:
            return self._answer(sender, problem)
        if not await self.limiter.allow(sender):
            return self._answer(sender, RATE_LIMITED_TEXT)
        resident = sender.split(":", 1)[1]
        collector = CollectingOutputChannel()
        message = UserMessage(
            text,
            collector,
            sender,
            input_channel=self.name(),
            metadata={"channel": self.name(), "resident": resident},
        )
        failed = False
        try:
            await on_new_message(message)
        except CancelledError:
            logger.error("rest: a message timed out")
            failed = True
        except Exception:  # noqa: BLE001 - answer what was collected, as Rasa's channel does
            logger.exception("rest: a message failed")
            failed = True
        if not collector.messages:
            # never silence (as LINE and Telegram, bot/channels/core.py): a turn Rasa answered
            # with nothing gets the acknowledgement, a failed one the request to send it again,
            # both with 119/110
            return self._answer(sender, ERROR_TEXT if failed else received_text("text"))
        return response.json(collector.messages)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("rest_webhook", __name__)
        if not self.enabled:
            logger.info("rest: BOSAI_REST_TOKEN is not set; the REST channel is not served")
            return bp

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        return bp
