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
- input checks: non-dict events are ignored, text over ``MAX_TEXT_CHARS`` gets a short reply, a
  location outside Japan gets a clear reply and is not forwarded, the per-resident rate limit
  (:mod:`bot.channels.limits`) applies, client-supplied metadata is replaced by
  ``{"channel", "resident"}``;
- **server-signed sessions** (Rasa lets the browser choose its ``session_id``, so anyone who knew
  or guessed one could join that conversation and read its replies): the server issues
  ``<nonce>.<expiry>.<signature>`` (HMAC-SHA256 with a key derived from the resident secret,
  valid :data:`SESSION_TTL_SECONDS`), the browser keeps it, and on ``session_request`` a session
  id the server did not sign (or that expired) is replaced by a fresh signed one. The session is
  bound to the socket: ``user_uttered`` uses the session this socket was confirmed, and a
  message naming another ``session_id`` is ignored. Rasa sees ``socketio:<hash of the nonce>``
  (:mod:`bot.identity`), and the replies go to the socket.io room of that sender only;
- **new sessions per address**: at most ``BOSAI_WIDGET_SESSIONS_PER_MINUTE`` new signed sessions
  per client address (Sanic's ``remote_addr``, so ``SANIC_REAL_IP_HEADER`` behind a proxy, else
  the peer) in any 60 s (:class:`~bot.channels.limits.SessionLimiter`, shared through Redis);
  over it the socket gets :data:`~bot.channels.limits.SESSIONS_LIMITED_TEXT` and no session. A
  session id the server signed before is never counted or refused.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic_cors.core import SANIC_CORS_EVALUATED

from bot import identity
from bot.channels.core import (
    MAX_TEXT_CHARS,
    TOO_LONG_TEXT,
    CollectingOutput,
    check_payload,
    strip_controls,
)
from bot.channels.limits import (
    RATE_LIMITED_TEXT,
    SESSIONS_LIMITED_TEXT,
    MessageLimiter,
    SessionLimiter,
)
from bot.channels.texts import ERROR_TEXT, received_text

logger = logging.getLogger(__name__)

#: a widget session lasts 30 days (then the browser gets a new one and a new conversation)
SESSION_TTL_SECONDS = 30 * 24 * 3600
SESSION_RE = re.compile(r"^([0-9a-f]{32})\.([0-9]{10})\.([0-9a-f]{40})$")


class SessionSigner:
    """Issues and checks the widget's signed session ids (``<nonce>.<expiry>.<signature>``)."""

    def __init__(self, secret: bytes, ttl_seconds: int = SESSION_TTL_SECONDS) -> None:
        self._key = identity.derived_key(secret, "widget-session")
        self.ttl_seconds = ttl_seconds

    def _signature(self, nonce: str, expires: str) -> str:
        mac = hmac.new(self._key, f"{nonce}.{expires}".encode(), hashlib.sha256)
        return mac.hexdigest()[:40]

    def issue(self, now: float | None = None) -> str:
        nonce = uuid.uuid4().hex
        expires = str(int((now if now is not None else time.time()) + self.ttl_seconds))
        return f"{nonce}.{expires}.{self._signature(nonce, expires)}"

    def nonce(self, session_id: Any, now: float | None = None) -> str | None:
        """The nonce of a session id this server signed and that has not expired, else None."""
        match = SESSION_RE.match(session_id) if isinstance(session_id, str) else None
        if match is None:
            return None
        nonce, expires, signature = match.groups()
        if not hmac.compare_digest(self._signature(nonce, expires), signature):
            return None
        if int(expires) < (now if now is not None else time.time()):
            return None
        return nonce


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
    """Emits each response as one ``bot_uttered`` event (text, quick replies, location request),
    and counts what it emitted (never silence: :meth:`WebchatInput.blueprint`)."""

    def __init__(self, sio: Any, bot_message_evt: str) -> None:
        super().__init__(sio, bot_message_evt)
        self.sent = 0

    async def _send_message(self, socket_id: str, response: Any) -> None:
        await super()._send_message(socket_id, response)
        self.sent += 1

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

    def __init__(
        self,
        *args: Any,
        store_factory: Callable[[], Any] | None = None,
        secret: bytes | None = None,
        limiter: MessageLimiter | None = None,
        session_limiter: SessionLimiter | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.allowed_origins: list[str] | None = None
        self.store_factory = store_factory
        self._secret = secret
        self._signer: SessionSigner | None = None
        self._limiter = limiter
        self._session_limiter = session_limiter
        #: socket id -> (signed session id, sender); a socket speaks only for its own session
        self._bound: dict[str, tuple[str, str]] = {}
        #: socket id -> the client's address (for the new-session limit)
        self._address: dict[str, str] = {}

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            if self.store_factory is not None:
                self._secret = self.store_factory().residents.secret
            else:
                self._secret = identity.default_secret()
        return self._secret

    @property
    def signer(self) -> SessionSigner:
        if self._signer is None:
            self._signer = SessionSigner(self.secret)
        return self._signer

    @property
    def limiter(self) -> MessageLimiter:
        if self._limiter is None:
            self._limiter = MessageLimiter()
        return self._limiter

    @property
    def session_limiter(self) -> SessionLimiter:
        if self._session_limiter is None:
            self._session_limiter = SessionLimiter()
        return self._session_limiter

    def sender_for(self, nonce: str) -> str:
        """``socketio:<hash>`` for a session nonce (or a socket id without persistence)."""
        return identity.sender_id(self.secret, self.name(), nonce)

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

        rasa_connect = sio.handlers.get(namespace, {}).get("connect")

        async def connect(sid: str, environ: dict, auth: Any = None) -> Any:
            request = environ.get("sanic.request")
            address = (request.remote_addr or request.ip) if request is not None else ""
            self._address[sid] = address or "unknown"
            return await rasa_connect(sid, environ, auth) if rasa_connect else True

        async def session_request(sid: str, data: Any = None, *_: Any) -> None:
            given = data.get("session_id") if isinstance(data, dict) else None
            nonce = self.signer.nonce(given) if self.session_persistence else None
            if nonce is None:
                if self.session_persistence and given:
                    logger.info("webchat: a session id this server did not sign was replaced")
                if not await self.session_limiter.allow(self._address.get(sid, "unknown")):
                    logger.info("webchat: an address is over the new-session limit")
                    await sio.emit(
                        self.bot_message_evt,
                        {"text": SESSIONS_LIMITED_TEXT},
                        room=sid,
                        namespace=namespace,
                    )
                    return
                session_id = self.signer.issue() if self.session_persistence else sid
                nonce = self.signer.nonce(session_id) if self.session_persistence else sid
            else:
                session_id = str(given)
            assert nonce is not None
            sender = self.sender_for(nonce)
            previous = self._bound.get(sid)
            if previous is not None and previous[1] != sender:
                sio.leave_room(sid, previous[1], namespace=namespace)
            self._bound[sid] = (session_id, sender)
            sio.enter_room(sid, sender, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        async def disconnect(sid: str) -> None:
            self._bound.pop(sid, None)
            self._address.pop(sid, None)

        async def handle_message(sid: str, data: Any = None, *_: Any) -> None:
            if not isinstance(data, dict):
                return
            text = data.get("message")
            if not isinstance(text, str) or not strip_controls(text).strip():
                return
            text = strip_controls(text)  # typed text and button payloads alike
            bound = self._bound.get(sid)
            if bound is None:
                return  # no session_request on this socket: nothing to speak for
            session_id, sender_id = bound
            if self.session_persistence and data.get("session_id") != session_id:
                logger.info("webchat: a message for another session was ignored")
                return
            output = WebchatOutput(sio, self.bot_message_evt)
            if len(text) > MAX_TEXT_CHARS:
                await output.send_text_message(sender_id, TOO_LONG_TEXT)
                return
            problem = check_payload(text)
            if problem:
                await output._send_message(sender_id, {"text": problem, "location_request": True})
                return
            if not await self.limiter.allow(sender_id):
                await output.send_text_message(sender_id, RATE_LIMITED_TEXT)
                return
            metadata = {"channel": self.name(), "resident": sender_id.split(":", 1)[1]}
            message = UserMessage(
                text, output, sender_id, input_channel=self.name(), metadata=metadata
            )
            try:
                await on_new_message(message)
            except Exception:  # noqa: BLE001 - the resident is told; the error is logged
                logger.exception("webchat: a message failed")
                if not output.sent:
                    await output.send_text_message(sender_id, ERROR_TEXT)
                return
            if not output.sent:
                # never silence (as LINE and Telegram, bot/channels/core.py): a turn Rasa
                # answered with nothing gets the acknowledgement with 119/110
                await output.send_text_message(sender_id, received_text("text"))

        sio.on("connect", connect, namespace=namespace)
        sio.on("session_request", session_request, namespace=namespace)
        sio.on("disconnect", disconnect, namespace=namespace)
        sio.on(self.user_message_evt, handle_message, namespace=namespace)
        return bp
