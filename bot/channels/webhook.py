"""What the LINE and Telegram webhook connectors share: one Rasa ``InputChannel`` base class.

:class:`WebhookInput` gives a connector its blueprint (``GET /`` health, ``POST /webhook``), the
checks every webhook call goes through, in this order, before anything is parsed or processed:

1. the channel is configured, else 503 ``{"error": <disabled_error>, "message": <what to set>}``;
2. the body is at most :attr:`~WebhookInput.max_body_bytes`, else 413 ``too_large``;
3. :meth:`~WebhookInput.authentic` (the platform's signature or secret token, compared in
   constant time), else 401 ``{"error": <unauthenticated_error>}`` — the request is never echoed;
4. JSON, else 400 ``malformed_json``; :meth:`~WebhookInput.accept` says whether it has the
   platform's shape, else 400 ``{"error": <malformed_error>}``;

then :meth:`~WebhookInput.intake_items` lists the events to keep and they are written to the
store as ``pending`` (:mod:`bot.store.intake`; a redelivery of a stored event adds nothing)
*before* the 200 is answered. When the store cannot take them the answer is 503
``store_unavailable``, so that the platform delivers the call again. The channel's
:class:`~bot.channels.intake.IntakeWorker` (started with the server, drained before it stops)
processes them: :meth:`~WebhookInput.answer` gets the bot's answers through the shared
:class:`~bot.channels.core.ChannelCore`, :meth:`~WebhookInput.deliver` sends them. A connector
only says how to authenticate, accept, answer and deliver its platform's events, and what to do
at server start and stop.
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

from bot.channels.core import BotReply, ChannelCore
from bot.channels.intake import IntakeConfig, IntakeWorker, OnPart
from bot.store.intake import ClaimedEvent, IntakeItem
from bot.strict_actions import StrictTurns

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
        #: the worker pool's bounds; None: from the settings (``BOSAI_INTAKE_*``)
        self.intake_config: IntakeConfig | None = None
        self.worker: IntakeWorker | None = None

    @property
    def enabled(self) -> bool:
        raise NotImplementedError

    @property
    def can_answer(self) -> bool:
        """Whether this instance's workers can answer stored events (default: enabled)."""
        return self.enabled

    def url_prefix(self) -> str:
        return self.name()

    def authentic(self, request: Request, body: bytes) -> bool:
        """True when the request carries the platform's valid signature or secret."""
        raise NotImplementedError

    def accept(self, data: Any) -> tuple[bool, Any]:
        """``(ok, work)``: whether the JSON has the platform's shape, and what to process (None:
        nothing to do)."""
        raise NotImplementedError

    def intake_items(self, work: Any) -> list[IntakeItem]:
        """The events of an accepted call to store and process (id, user, raw event)."""
        raise NotImplementedError

    async def answer(self, core: ChannelCore, event: ClaimedEvent) -> list[BotReply]:
        """The bot's answers to a stored event (raises when it could not be processed)."""
        raise NotImplementedError

    async def deliver(
        self, event: ClaimedEvent, replies: list[BotReply], done: int, on_part: OnPart
    ) -> None:
        """Send the answers, skipping the first ``done`` platform calls (see
        :class:`~bot.channels.intake.IntakeHandler`)."""
        raise NotImplementedError

    async def on_start(self) -> None:
        """Runs after the server started (e.g. register the webhook with the platform)."""

    async def on_stop(self) -> None:
        """Runs after the server stopped (close HTTP sessions)."""

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` (e.g. registering the webhook) in the background, keeping a reference
        until it is done."""
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def core(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> ChannelCore:
        if self.store_factory is None:
            return ChannelCore(self.name(), on_new_message)
        return ChannelCore(self.name(), on_new_message, store_factory=self.store_factory)

    def make_worker(self, core: ChannelCore) -> IntakeWorker:
        config = self.intake_config
        if config is None:
            from bot.settings import get_settings

            config = IntakeConfig.from_settings(get_settings())
        return IntakeWorker(self.name(), core.store_factory, self, core, config)

    async def _store_events(self, core: ChannelCore, items: list[IntakeItem]) -> None:
        store_factory = core.store_factory
        channel = self.name()

        def add() -> None:
            store_factory().add_intake(channel, items)

        await asyncio.get_running_loop().run_in_executor(None, add)

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
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            return response.json({"error": "malformed_json"}, status=400)
        ok, work = self.accept(data)
        if not ok:
            return response.json({"error": self.malformed_error}, status=400)
        items = self.intake_items(work) if work else []
        if items:
            try:
                await self._store_events(core, items)
            except Exception as exc:  # noqa: BLE001 - the platform must deliver it again
                logger.error(
                    "%s: could not store %d event(s) (%s); answering 503",
                    self.name(),
                    len(items),
                    type(exc).__name__,
                )
                return response.json({"error": "store_unavailable"}, status=503)
            if self.worker is not None:
                self.worker.wake()
        return response.json({"status": "ok"})

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint(f"{self.name()}_webhook", __name__)
        # a custom action that cannot run fails the turn unsaved, so the worker retries it
        turns = StrictTurns(on_new_message)
        core = self.core(turns)
        worker = self.worker = self.make_worker(core)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "disabled"})

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            return await self._webhook(request, core)

        @bp.listener("after_server_start")
        async def started(app: Any, *_: Any) -> None:
            turns.attach(app)  # Rasa's agent is in app.ctx.agent (bot/strict_actions.py)
            if self.can_answer:  # resumes events left pending by a crash or a stop
                await worker.start()
            await self.on_start()

        @bp.listener("before_server_stop")
        async def draining(*_: Any) -> None:
            await worker.stop()  # unfinished events stay pending for the next start

        @bp.listener("after_server_stop")
        async def stopped(*_: Any) -> None:
            await self.on_stop()

        return bp
