"""LINE Messaging API connector (webhook ``/webhooks/line/webhook``), on aiohttp without the SDK.

Register in ``credentials.yml`` as ``bot.channels.line.LineInput`` with
``channel_secret: ${LINE_CHANNEL_SECRET}``, ``access_token: ${LINE_CHANNEL_ACCESS_TOKEN}``,
``api_base: ${LINE_API_BASE}`` and ``data_api_base: ${LINE_DATA_API_BASE}`` (``bosai run``
exports them from the settings; empty API bases mean LINE's own hosts). With an empty secret or
token the webhook answers 503 and processes nothing.

The webhook (:class:`~bot.channels.webhook.WebhookInput`) checks ``X-Line-Signature`` (base64
HMAC-SHA256 of the raw body) before parsing, stores each event (de-duplicated on
``webhookEventId``) before it answers 200, and the durable intake's workers
(:mod:`bot.channels.intake`) run it through Rasa and send the answers: the first five messages
in one reply call while the reply token is fresh, the rest (and everything once the token has
expired or was refused) by push with an ``X-Line-Retry-Key`` derived from the stored event, so
that a push retried after a 429, a 5xx, a timeout or a restart is delivered once.
:meth:`LineClient.broadcast` sends the officials' notices to every friend of the account.

Slightly over 400 lines on purpose: the client, the rendering of replies and the connector of one
platform are read and changed together.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel
from sanic.request import Request

from bot.channels.core import (
    LOCATION_BUTTON_LABEL,
    BotReply,
    ChannelCore,
    Inbound,
    resident_address,
)
from bot.channels.intake import IntakeConfig, OnPart, SendError, send_with_retries
from bot.channels.photos import MAX_PHOTO_BYTES, InvalidPhoto
from bot.channels.shapes import line_event_ok
from bot.channels.webhook import WebhookInput
from bot.settings import LINE_API_BASE as DEFAULT_API_BASE
from bot.settings import LINE_DATA_API_BASE as DEFAULT_DATA_API_BASE
from bot.store.intake import ClaimedEvent, IntakeItem
from bot.store.models import utcnow

logger = logging.getLogger(__name__)

MAX_MESSAGES_PER_CALL = 5
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_TEXT = 5000
MAX_POSTBACK_DATA = 300
TIMEOUT = aiohttp.ClientTimeout(total=20)
#: a reply token is used only this soon after the webhook (LINE: "within about a minute")
REPLY_TOKEN_SECONDS = 50.0
#: event types the bot answers (others - join, leave, beacon, ... - are not stored)
HANDLED_EVENTS = frozenset({"message", "postback", "follow", "unfollow"})
#: a push to one resident outside a conversation (officials) is retried this long
PUSH_GIVE_UP_SECONDS = 60.0


class LineApiError(RuntimeError):
    def __init__(self, status: int, detail: str, retry_after: float | None = None) -> None:
        super().__init__(f"LINE API answered {status}")
        self.status = status
        self.detail = detail
        self.retry_after = retry_after

    def as_send_error(self) -> SendError:
        """429 and 5xx are worth another try; other answers are not."""
        transient = self.status == 429 or self.status >= 500
        return SendError(str(self), transient=transient, retry_after=self.retry_after)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def signature_ok(secret: str, body: bytes, signature: str | None) -> bool:
    """Constant-time check of ``X-Line-Signature``."""
    if not secret or not signature:
        return False
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    return hmac.compare_digest(expected, signature.strip().encode("ascii", "replace"))


def _label(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def to_line_messages(replies: Iterable[BotReply]) -> list[dict[str, Any]]:
    """Render neutral replies as LINE message objects (buttons → quick replies)."""
    messages: list[dict[str, Any]] = []
    for reply in replies:
        if reply.image:
            if reply.image.startswith("https://"):
                messages.append(
                    {
                        "type": "image",
                        "originalContentUrl": reply.image,
                        "previewImageUrl": reply.image,
                    }
                )
            continue
        text = reply.text.strip()
        if not text:
            continue
        message: dict[str, Any] = {"type": "text", "text": text[:MAX_TEXT]}
        items: list[dict[str, Any]] = []
        if reply.wants_location:
            items.append(
                {"type": "action", "action": {"type": "location", "label": LOCATION_BUTTON_LABEL}}
            )
        for button in reply.choice_buttons:
            if len(items) >= MAX_QUICK_REPLIES:
                break
            if len(button.payload) > MAX_POSTBACK_DATA:
                action = {"type": "message", "label": _label(button.title), "text": button.title}
            else:
                action = {
                    "type": "postback",
                    "label": _label(button.title),
                    "data": button.payload,
                    "displayText": button.title[:300],
                }
            items.append({"type": "action", "action": action})
        if items:
            message["quickReply"] = {"items": items}
        messages.append(message)
    return messages


class LineClient:
    """Minimal LINE Messaging API client on aiohttp."""

    def __init__(self, access_token: str, api_base: str, data_api_base: str) -> None:
        self.access_token = access_token
        self.api_base = api_base.rstrip("/")
        self.data_api_base = data_api_base.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def _post(self, path: str, body: dict[str, Any], retry_key: str | None = None) -> None:
        headers = self._headers()
        if retry_key:
            headers["X-Line-Retry-Key"] = retry_key
        async with self.session().post(self.api_base + path, json=body, headers=headers) as resp:
            if resp.status >= 300:
                detail = (await resp.text())[:500]
                raise LineApiError(
                    resp.status, detail, _retry_after(resp.headers.get("Retry-After"))
                )

    async def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> None:
        await self._post("/v2/bot/message/reply", {"replyToken": reply_token, "messages": messages})

    async def push(
        self,
        to: str,
        messages: list[dict[str, Any]],
        config: IntakeConfig | None = None,
        give_up_after: float = PUSH_GIVE_UP_SECONDS,
    ) -> None:
        """Push in batches of five; each batch keeps its retry key while it is retried (429,
        5xx, network errors, with backoff) so that LINE delivers it once."""
        for start in range(0, len(messages), MAX_MESSAGES_PER_CALL):
            batch = messages[start : start + MAX_MESSAGES_PER_CALL]
            key = str(uuid.uuid4())

            async def once(batch: list[dict[str, Any]] = batch, key: str = key) -> None:
                await self.push_once(to, batch, key)

            await send_with_retries(once, config or IntakeConfig(), give_up_after)

    async def push_once(self, to: str, messages: list[dict[str, Any]], retry_key: str) -> None:
        """One push call; a 409 (a request with this retry key was already accepted) counts as
        sent. Failures are :class:`~bot.channels.intake.SendError`."""
        try:
            await self._post(
                "/v2/bot/message/push", {"to": to, "messages": messages}, retry_key=retry_key
            )
        except LineApiError as exc:
            if exc.status == 409:
                logger.info("line: push already accepted under its retry key")
                return
            raise exc.as_send_error() from exc
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise SendError(f"LINE not reachable ({type(exc).__name__})", transient=True) from exc

    async def reply_once(self, reply_token: str, messages: list[dict[str, Any]]) -> bool:
        """One reply call; False when LINE refused the token (400: expired or used), else
        failures are :class:`~bot.channels.intake.SendError`."""
        try:
            await self.reply(reply_token, messages)
        except LineApiError as exc:
            if exc.status == 400:
                return False
            raise exc.as_send_error() from exc
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise SendError(f"LINE not reachable ({type(exc).__name__})", transient=True) from exc
        return True

    async def broadcast(self, messages: list[dict[str, Any]], retry_key: str | None = None) -> None:
        """Send up to five messages to every friend of the official account (officials' notices).

        ``POST /v2/bot/message/broadcast`` with an ``X-Line-Retry-Key`` (a new one unless given,
        so a caller retrying after a timeout can pass the same key and LINE sends only once).
        """
        if not 1 <= len(messages) <= MAX_MESSAGES_PER_CALL:
            raise ValueError(f"a broadcast carries 1-{MAX_MESSAGES_PER_CALL} messages")
        await self._post(
            "/v2/bot/message/broadcast",
            {"messages": messages},
            retry_key=retry_key or str(uuid.uuid4()),
        )

    async def content(self, message_id: str, limit: int) -> tuple[bytes, str]:
        """Download a message's content (image) from the data API."""
        url = f"{self.data_api_base}/v2/bot/message/{message_id}/content"
        async with self.session().get(url, headers=self._headers()) as resp:
            if resp.status != 200:
                raise LineApiError(resp.status, "content download failed")
            data = await resp.content.read(limit + 1)
            if len(data) > limit:
                raise InvalidPhoto("too large")
            return data, resp.headers.get("Content-Type", "application/octet-stream")


class LineInput(WebhookInput):
    """LINE webhook connector."""

    disabled_error = "line_disabled"
    disabled_message = (
        "LINE is not configured: set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN."
    )
    unauthenticated_error = "invalid_signature"
    malformed_error = "malformed_body"

    @classmethod
    def name(cls) -> str:
        return "line"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            channel_secret=str(credentials.get("channel_secret") or ""),
            access_token=str(credentials.get("access_token") or ""),
            api_base=credentials.get("api_base") or None,
            data_api_base=credentials.get("data_api_base") or None,
        )

    def __init__(
        self,
        channel_secret: str,
        access_token: str,
        api_base: str | None = None,
        data_api_base: str | None = None,
        store_factory: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__(store_factory)
        self.channel_secret = channel_secret
        self.access_token = access_token
        self.client = LineClient(
            access_token, api_base or DEFAULT_API_BASE, data_api_base or DEFAULT_DATA_API_BASE
        )

    @property
    def enabled(self) -> bool:
        return bool(self.channel_secret and self.access_token)

    def authentic(self, request: Request, body: bytes) -> bool:
        return signature_ok(self.channel_secret, body, request.headers.get("X-Line-Signature"))

    def accept(self, data: Any) -> tuple[bool, Any]:
        if not isinstance(data, dict) or not isinstance(data.get("events", []), list):
            return False, None
        return True, data.get("events") or []

    async def on_stop(self) -> None:
        await self.client.close()

    async def push(self, sender: str, texts: list[str]) -> bool:
        """Push plain texts to one resident, addressed by their pseudonymous sender id
        (``line:<hash>``) through the address table (:mod:`bot.store.addresses`); batches of
        five. False (nothing sent) when the resident never wrote on LINE."""
        messages = [{"type": "text", "text": t[:MAX_TEXT]} for t in texts if t.strip()]
        address = await resident_address(self.store_factory, sender) if messages else None
        if address is None:
            return False
        await self.client.push(address, messages)
        return True

    def _to_inbound(self, event: dict[str, Any]) -> Inbound | None:
        source = event.get("source") or {}
        user_id = source.get("userId") if isinstance(source, dict) else None
        if not isinstance(user_id, str) or not user_id:
            return None
        event_id = event.get("webhookEventId")
        message_id = str(event_id) if isinstance(event_id, str) and event_id else None
        etype = event.get("type")
        if etype == "message":
            msg = event.get("message") or {}
            if not isinstance(msg, dict):
                return None
            mtype = msg.get("type")
            if mtype == "text":
                return Inbound("text", user_id, message_id, text=str(msg.get("text") or ""))
            if mtype == "location":
                return Inbound(
                    "location",
                    user_id,
                    message_id,
                    latitude=msg.get("latitude"),
                    longitude=msg.get("longitude"),
                )
            if mtype == "image":
                content_id = str(msg.get("id") or "")
                provider = (msg.get("contentProvider") or {}).get("type", "line")
                if not content_id.isalnum() or provider != "line":
                    return Inbound("photo", user_id, message_id)
                client = self.client

                async def loader() -> tuple[bytes, str]:
                    return await client.content(content_id, MAX_PHOTO_BYTES)

                return Inbound("photo", user_id, message_id, photo_loader=loader)
            if mtype == "sticker":
                return Inbound("sticker", user_id, message_id)
            return Inbound("unsupported", user_id, message_id)
        if etype == "postback":
            data = (event.get("postback") or {}).get("data")
            return Inbound("postback", user_id, message_id, text=str(data or ""))
        if etype == "follow":
            return Inbound("follow", user_id, message_id)
        if etype == "unfollow":
            return Inbound("unfollow", user_id, message_id)
        return None  # join, leave, beacon, ...: nothing to do

    # ------------------------------------------------------------------ durable intake
    def intake_items(self, work: Any) -> list[IntakeItem]:
        """The active events from a user that the bot answers, with their ``webhookEventId``."""
        items: list[IntakeItem] = []
        for event in work:
            if not line_event_ok(event):  # wrong types: broken or forged, never stored
                logger.warning("line: an event with wrong field types was skipped")
                continue
            if event.get("mode", "active") != "active":
                continue
            if event.get("type") not in HANDLED_EVENTS:
                continue
            source = event.get("source")
            user_id = source.get("userId") if isinstance(source, dict) else None
            if not isinstance(user_id, str) or not 0 < len(user_id) <= 255:
                continue
            event_id = event.get("webhookEventId")
            if not isinstance(event_id, str) or not 0 < len(event_id) <= 200:
                event_id = "local:" + uuid.uuid4().hex  # no id from LINE: cannot be de-duplicated
            items.append(IntakeItem(event_id, user_id, event))
        return items

    async def answer(self, core: ChannelCore, event: ClaimedEvent) -> list[BotReply]:
        inbound = self._to_inbound(event.payload)
        if inbound is None:
            return []
        return (await core.process(inbound)).replies

    async def deliver(
        self, event: ClaimedEvent, replies: list[BotReply], done: int, on_part: OnPart
    ) -> None:
        """Batches of five: the first by reply while the token is fresh (push when LINE refuses
        it), the others by push; each push's retry key is derived from the event's, so a repeat
        after a failure or a restart is not delivered twice."""
        messages = to_line_messages(replies)
        source = event.payload.get("source") or {}
        user_id = str(source.get("userId") or "")
        token = event.payload.get("replyToken")
        age = (utcnow() - event.received_at).total_seconds()
        fresh = isinstance(token, str) and bool(token) and age < REPLY_TOKEN_SECONDS
        base = uuid.UUID(event.retry_key)
        for index, start in enumerate(range(0, len(messages), MAX_MESSAGES_PER_CALL)):
            if index < done:
                continue
            batch = messages[start : start + MAX_MESSAGES_PER_CALL]
            key = str(uuid.uuid5(base, f"push-{index}"))
            if index == 0 and fresh and isinstance(token, str):
                if not await self.client.reply_once(token, batch):
                    logger.info("line: reply token refused; pushing instead")
                    event.payload.pop("replyToken", None)  # not again when the push is retried
                    await self.client.push_once(user_id, batch, key)
            else:
                await self.client.push_once(user_id, batch, key)
            await on_part(index + 1)
