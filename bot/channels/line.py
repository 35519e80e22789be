"""LINE Messaging API connector (webhook ``/webhooks/line/webhook``), on aiohttp without the SDK.

Register in ``credentials.yml`` as ``bot.channels.line.LineInput`` with
``channel_secret: ${LINE_CHANNEL_SECRET}``, ``access_token: ${LINE_CHANNEL_ACCESS_TOKEN}``,
``api_base: ${LINE_API_BASE}`` and ``data_api_base: ${LINE_DATA_API_BASE}`` (``bosai run``
exports them from the settings; empty API bases mean LINE's own hosts). With an empty secret or
token the webhook answers 503 and processes nothing.

The webhook (:class:`~bot.channels.webhook.WebhookInput`) checks ``X-Line-Signature`` (base64
HMAC-SHA256 of the raw body) before parsing, answers at once and processes the events in a
background task: each event is de-duplicated on
``webhookEventId``, run through Rasa, and all replies go out in one reply call (at most five
messages); overflow, an expired reply token and officials' notices use push.
:meth:`LineClient.broadcast` sends the officials' notices to every friend of the account.
"""

from __future__ import annotations

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
)
from bot.channels.photos import MAX_PHOTO_BYTES, InvalidPhoto
from bot.channels.webhook import WebhookInput
from bot.settings import LINE_API_BASE as DEFAULT_API_BASE
from bot.settings import LINE_DATA_API_BASE as DEFAULT_DATA_API_BASE

logger = logging.getLogger(__name__)

MAX_MESSAGES_PER_CALL = 5
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_TEXT = 5000
MAX_POSTBACK_DATA = 300
TIMEOUT = aiohttp.ClientTimeout(total=20)


class LineApiError(RuntimeError):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"LINE API answered {status}")
        self.status = status
        self.detail = detail


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
                raise LineApiError(resp.status, detail)

    async def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> None:
        await self._post("/v2/bot/message/reply", {"replyToken": reply_token, "messages": messages})

    async def push(self, to: str, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), MAX_MESSAGES_PER_CALL):
            await self._post(
                "/v2/bot/message/push",
                {"to": to, "messages": messages[start : start + MAX_MESSAGES_PER_CALL]},
                retry_key=str(uuid.uuid4()),
            )

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

    async def process(self, core: ChannelCore, work: Any) -> None:
        await self.process_events(core, work)

    async def on_stop(self) -> None:
        await self.client.close()

    async def push(self, user_id: str, texts: list[str]) -> None:
        """Push plain texts to one LINE user (officials' notices); batches of five."""
        messages = [{"type": "text", "text": t[:MAX_TEXT]} for t in texts if t.strip()]
        if messages:
            await self.client.push(user_id, messages)

    async def send(self, user_id: str, reply_token: str | None, replies: list[BotReply]) -> None:
        """One reply call with up to five messages; the rest (or all, if the token expired) push."""
        messages = to_line_messages(replies)
        if not messages:
            return
        head, rest = messages[:MAX_MESSAGES_PER_CALL], messages[MAX_MESSAGES_PER_CALL:]
        if reply_token:
            try:
                await self.client.reply(reply_token, head)
            except LineApiError as exc:
                if exc.status != 400:
                    raise
                logger.info("line: reply token rejected; pushing instead")
                rest = messages
        else:
            rest = messages
        if rest:
            await self.client.push(user_id, rest)

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

    async def process_events(self, core: ChannelCore, events: list[Any]) -> None:
        """Handle the events of one webhook call in order (runs in the background)."""
        for event in events:
            if not isinstance(event, dict):
                continue
            if event.get("mode", "active") != "active":
                continue
            try:
                inbound = self._to_inbound(event)
                if inbound is None:
                    logger.debug("line: ignored an event of type %s", event.get("type"))
                    continue
                outcome = await core.handle(inbound)
                if outcome.replies:
                    token = event.get("replyToken")
                    await self.send(
                        inbound.user_id, token if isinstance(token, str) else None, outcome.replies
                    )
            except Exception:  # noqa: BLE001 - one bad event must not stop the others
                logger.exception("line: failed to handle an event")
