"""Socket.io channel for the web widget: Rasa's ``SocketIOInput`` with fixes.

Register in ``credentials.yml`` as ``bot.channels.webchat.WebchatInput`` (same options as Rasa's
``socketio``; ``session_persistence: true``). Differences from Rasa 3.6's channel:

- allowed origins: Rasa builds the socket.io server with ``cors_allowed_origins=[]`` (no origin
  check at all, and no CORS headers, so the polling transport fails cross-origin). Here the
  origins come from ``allowed_origins`` in the credentials or ``settings.allowed_origins``
  (``BOSAI_ALLOWED_ORIGINS``; ``*`` allows any origin); a websocket from another origin is refused;
- ``custom`` responses: Rasa emits ``custom`` as keyword arguments of ``sio.emit`` (a TypeError
  for ``{"location_request": true}``); here one ``bot_uttered`` event carries the text, the
  quick replies and ``"location_request": true``;
- one set of CORS headers: with Rasa's ``--cors`` (sanic-cors on the whole app) the long-polling
  responses carried two ``Access-Control-Allow-Origin`` headers (engine.io's and sanic-cors'),
  which browsers refuse, so the widget could only connect over WebSocket; here engine.io alone
  answers CORS on the socket.io path;
- input checks: non-dict events and bad session ids are ignored, text over
  ``MAX_TEXT_CHARS`` gets a short reply, a location outside Japan gets a clear reply and is not
  forwarded, client-supplied metadata is replaced by ``{"channel", "resident"}``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic_cors.core import SANIC_CORS_EVALUATED

from bot.channels.core import (
    MAX_TEXT_CHARS,
    TOO_LONG_TEXT,
    CollectingOutput,
    check_payload,
)

logger = logging.getLogger(__name__)

SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def widget_message(reply: Any) -> dict[str, Any]:
    """A :class:`~bot.channels.core.BotReply` as the widget's ``bot_uttered`` payload."""
    if reply.image:
        return {"attachment": {"type": "image", "payload": {"src": reply.image}}}
    out: dict[str, Any] = {"text": reply.text}
    if reply.buttons:
        out["quick_replies"] = [
            {"content_type": "text", "title": b.title, "payload": b.payload} for b in reply.buttons
        ]
    if reply.location_request:
        out["location_request"] = True
    return out


class WebchatOutput(SocketIOOutput):
    """Emits each response as one ``bot_uttered`` event (text, quick replies, location request)."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        collector = CollectingOutput("socketio")
        await collector.send_response(recipient_id, dict(message))
        for reply in collector.replies:
            await self._send_message(recipient_id, widget_message(reply))


class WebchatInput(SocketIOInput):
    """Rasa's socket.io input channel with origin checks and input validation."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        channel = super().from_credentials(credentials)
        assert isinstance(channel, WebchatInput)
        origins = credentials.get("allowed_origins")
        if isinstance(origins, str):
            origins = [o.strip() for o in origins.split(",") if o.strip()]
        channel.allowed_origins = list(origins) if origins else None
        return channel

    def __init__(self, *args: Any, store_factory: Callable[[], Any] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.allowed_origins: list[str] | None = None
        self.store_factory = store_factory

    def _origins(self) -> str | list[str]:
        origins = self.allowed_origins
        if origins is None:
            from bot.settings import get_settings

            origins = list(get_settings().allowed_origins)
        if not origins or "*" in origins:
            return "*"
        return origins

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return None
        return WebchatOutput(self.sio, self.bot_message_evt)

    async def _resident(self, session_id: str) -> str | None:
        def call() -> str:
            if self.store_factory is not None:
                store = self.store_factory()
            else:
                from bot.store import get_store

                store = get_store()
            return str(store.resident_id(self.name(), session_id))

        try:
            return await asyncio.get_running_loop().run_in_executor(None, call)
        except Exception:  # noqa: BLE001 - the chat works without a pseudonym
            logger.warning("webchat: could not compute the resident pseudonym")
            return None

    async def _engineio_answers_cors(self, request: Request) -> None:
        """Request middleware: sanic-cors leaves the socket.io path to engine.io."""
        if request.path.startswith("/" + self.socketio_path.strip("/")):
            setattr(request.ctx, SANIC_CORS_EVALUATED, "1")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None
        sio.eio.cors_allowed_origins = self._origins()
        namespace = self.namespace

        @bp.listener("before_server_start")
        async def one_cors(app: Sanic, _loop: Any) -> None:
            # engine.io is attached to the app itself, outside this blueprint's middleware
            app.register_middleware(self._engineio_answers_cors, "request")

        async def session_request(sid: str, data: Any) -> None:
            session_id = data.get("session_id") if isinstance(data, dict) else None
            if not isinstance(session_id, str) or not SESSION_RE.match(session_id):
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                sio.enter_room(sid, session_id, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                return
            text = data.get("message")
            if not isinstance(text, str) or not text.strip():
                return
            output = WebchatOutput(sio, self.bot_message_evt)
            if self.session_persistence:
                sender_id = data.get("session_id")
                if not isinstance(sender_id, str) or not SESSION_RE.match(sender_id):
                    return
            else:
                sender_id = sid
            if len(text) > MAX_TEXT_CHARS:
                await output.send_text_message(sender_id, TOO_LONG_TEXT)
                return
            problem = check_payload(text)
            if problem:
                await output._send_message(sender_id, {"text": problem, "location_request": True})
                return
            metadata: dict[str, Any] = {"channel": self.name()}
            resident = await self._resident(sender_id)
            if resident:
                metadata["resident"] = resident
            message = UserMessage(
                text, output, sender_id, input_channel=self.name(), metadata=metadata
            )
            await on_new_message(message)

        sio.on("session_request", session_request, namespace=namespace)
        sio.on(self.user_message_evt, handle_message, namespace=namespace)
        return bp
