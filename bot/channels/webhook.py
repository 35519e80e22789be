"""What the LINE and Telegram webhook connectors share: one Rasa ``InputChannel`` base class.

:class:`WebhookInput` gives a connector its blueprint (``GET /`` health, ``POST /webhook``), the
checks every webhook call goes through, in this order, before anything is parsed or processed:

1. the channel is configured, else 503 ``{"error": <disabled_error>, "message": <what to set>}``;
2. the body is at most :attr:`~WebhookInput.max_body_bytes`, else 413 ``too_large``;
3. :meth:`~WebhookInput.authentic` (the platform's signature or secret token, compared in
   constant time), else 401 ``{"error": <unauthenticated_error>}`` — the request is never echoed;
4. JSON, else 400 ``malformed_json``; :meth:`~WebhookInput.accept` says whether it has the
   platform's shape, else 400 ``{"error": <malformed_error>}``;

then it answers 200 at once and :meth:`~WebhookInput.process` runs in a background task with the
shared :class:`~bot.channels.core.ChannelCore`. A connector only says how to authenticate, accept
and process its platform's calls, and what to do at server start and stop.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.core import ChannelCore

logger = logging.getLogger(__name__)

__all__ = ["WebhookInput"]


class WebhookInput(InputChannel):
    """Base of the webhook connectors (subclasses set the class attributes and the hooks)."""

    #: ``error`` of the 503 answer when the channel is not configured, and what to set
    disabled_error = "disabled"
    disabled_message = "This channel is not configured."
    #: ``error`` of the 401 and of the 400 for a body without the platform's shape
    unauthenticated_error = "unauthenticated"
    malformed_error = "malformed_body"
    max_body_bytes = 1024 * 1024

    def __init__(self, store_factory: Callable[[], Any] | None = None) -> None:
        self.store_factory = store_factory
        self.tasks: set[asyncio.Task] = set()

    @property
    def enabled(self) -> bool:
        raise NotImplementedError

    def url_prefix(self) -> str:
        return self.name()

    def authentic(self, request: Request, body: bytes) -> bool:
        """True when the request carries the platform's valid signature or secret."""
        raise NotImplementedError

    def accept(self, data: Any) -> tuple[bool, Any]:
        """``(ok, work)``: whether the JSON has the platform's shape, and what to process (None:
        nothing to do)."""
        raise NotImplementedError

    async def process(self, core: ChannelCore, work: Any) -> None:
        """Handle the accepted call in the background (never raises into the loop)."""
        raise NotImplementedError

    async def on_start(self) -> None:
        """Runs after the server started (e.g. register the webhook with the platform)."""

    async def on_stop(self) -> None:
        """Runs after the server stopped (close HTTP sessions)."""

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` in the background, keeping a reference until it is done."""
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def core(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> ChannelCore:
        kwargs = {} if self.store_factory is None else {"store_factory": self.store_factory}
        return ChannelCore(self.name(), on_new_message, **kwargs)

    async def _webhook(self, request: Request, core: ChannelCore) -> HTTPResponse:
        if not self.enabled:
            return response.json(
                {"error": self.disabled_error, "message": self.disabled_message}, status=503
            )
        body = request.body or b""
        if len(body) > self.max_body_bytes:
            return response.json({"error": "too_large"}, status=413)
        if not self.authentic(request, body):
            return response.json({"error": self.unauthenticated_error}, status=401)
        try:
            data = json.loads(body)
        except ValueError:
            return response.json({"error": "malformed_json"}, status=400)
        ok, work = self.accept(data)
        if not ok:
            return response.json({"error": self.malformed_error}, status=400)
        if work:
            self.spawn(self.process(core, work))
        return response.json({"status": "ok"})

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint(f"{self.name()}_webhook", __name__)
        core = self.core(on_new_message)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "disabled"})

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            return await self._webhook(request, core)

        @bp.listener("after_server_start")
        async def started(*_: Any) -> None:
            await self.on_start()

        @bp.listener("after_server_stop")
        async def stopped(*_: Any) -> None:
            await self.on_stop()

        return bp
