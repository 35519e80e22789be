"""Telegram connector (webhook ``/webhooks/telegram/webhook``) and the polling loop.

Register in ``credentials.yml`` as ``bot.channels.telegram.TelegramInput`` with
``access_token: ${TELEGRAM_BOT_TOKEN}``, ``secret_token: ${TELEGRAM_SECRET_TOKEN}`` and
``webhook_url: ${TELEGRAM_WEBHOOK_URL}``; the Bot API base comes from ``TELEGRAM_API_BASE``
(default ``https://api.telegram.org/bot``). The webhook is enabled only when both the bot token
and the secret token are set; it checks ``X-Telegram-Bot-Api-Secret-Token`` before parsing.

python-telegram-bot 22 is used for parsing (``Update.de_json``) and for sending (``Bot`` with
``base_url``); its httpx client runs on whatever asyncio loop calls it (Sanic's uvloop included),
and the bot object is created lazily inside the running loop.

Both the webhook and ``bosai telegram-poll`` feed :class:`TelegramAgent`, which de-duplicates on
``update_id`` and runs the shared :class:`~bot.channels.core.ChannelCore`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.core import (
    LOCATION_BUTTON_LABEL,
    MAX_PHOTO_BYTES,
    BotReply,
    ChannelCore,
    Inbound,
    InvalidPhoto,
)
from bot.channels.shared import SharedState

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.telegram.org/bot"
MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64
# Buttons older than this stop working (the resident is asked again).
CALLBACK_TTL_SECONDS = 7 * 24 * 3600
MAX_BODY_BYTES = 1024 * 1024
LOCATION_HINT = "下の「現在地を送る」ボタンで、今いる場所を送れます。"
ALLOWED_UPDATES = ["message", "callback_query"]


def api_base_from_env() -> str:
    return os.environ.get("TELEGRAM_API_BASE") or DEFAULT_API_BASE


def file_base(api_base: str) -> str:
    """``https://api.telegram.org/bot`` → ``https://api.telegram.org/file/bot``."""
    base = api_base.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file/bot"


class TelegramAgent:
    """Turns Telegram updates into core events and sends the replies with PTB's ``Bot``."""

    def __init__(self, token: str, api_base: str | None = None) -> None:
        self.token = token
        self.api_base = api_base or api_base_from_env()
        self._bot: Any = None
        # long button payloads do not fit Telegram's 64-byte callback_data: keep them here
        # (in Redis when REDIS_URL is set, so that a tap reaching another instance finds them)
        self._callbacks = SharedState()

    @property
    def bot(self) -> Any:
        if self._bot is None:
            from telegram import Bot

            # httpx logs request URLs at INFO, and Bot API URLs contain the token
            httpx_logger = logging.getLogger("httpx")
            if httpx_logger.getEffectiveLevel() < logging.WARNING:
                httpx_logger.setLevel(logging.WARNING)

            self._bot = Bot(
                self.token, base_url=self.api_base, base_file_url=file_base(self.api_base)
            )
        return self._bot

    async def close(self) -> None:
        if self._bot is not None:
            try:
                await self._bot.shutdown()
            except Exception:  # noqa: BLE001
                logger.debug("telegram: bot shutdown failed")
            self._bot = None

    # ------------------------------------------------------------------ sending
    def callback_data(self, payload: str) -> str:
        if len(payload.encode("utf-8")) <= MAX_CALLBACK_BYTES:
            return payload
        key = "cb:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
        self._callbacks.put(key, payload, CALLBACK_TTL_SECONDS)
        return key

    def resolve_callback(self, data: str) -> str | None:
        if data.startswith("cb:"):
            return self._callbacks.get(data)
        return data

    def render(self, replies: list[BotReply]) -> list[dict[str, Any]]:
        """``sendMessage`` parameters for the replies (buttons → inline keyboard)."""
        from telegram import (
            InlineKeyboardButton,
            InlineKeyboardMarkup,
            KeyboardButton,
            ReplyKeyboardMarkup,
        )

        location_keyboard = ReplyKeyboardMarkup(
            [[KeyboardButton(LOCATION_BUTTON_LABEL, request_location=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        out: list[dict[str, Any]] = []
        for reply in replies:
            if reply.image:
                out.append({"photo": reply.image})
                continue
            text = reply.text.strip()[:MAX_TEXT]
            if not text:
                continue
            choices = reply.choice_buttons
            if choices:
                keyboard = InlineKeyboardMarkup(
                    [
                        [InlineKeyboardButton(b.title, callback_data=self.callback_data(b.payload))]
                        for b in choices
                    ]
                )
                out.append({"text": text, "reply_markup": keyboard})
                if reply.wants_location:
                    out.append({"text": LOCATION_HINT, "reply_markup": location_keyboard})
            elif reply.wants_location:
                out.append({"text": text, "reply_markup": location_keyboard})
            else:
                out.append({"text": text})
        return out

    async def send(self, chat_id: int | str, replies: list[BotReply]) -> None:
        # with REDIS_URL, render() stores long button payloads in Redis: keep that off the loop
        rendered = (
            await asyncio.to_thread(self.render, replies) if self._callbacks.shared else self.render(replies)
        )
        for params in rendered:
            if "photo" in params:
                await self.bot.send_photo(chat_id=chat_id, photo=params["photo"])
            else:
                await self.bot.send_message(chat_id=chat_id, **params)

    async def push(self, chat_id: int | str, texts: list[str]) -> None:
        """Send plain texts to one chat (officials' notices)."""
        await self.send(chat_id, [BotReply(text=t) for t in texts])

    # ------------------------------------------------------------------ receiving
    def to_inbound(self, update: Any) -> tuple[Inbound, int | str] | None:
        """Neutral event and chat id for an update, or None when there is nothing to do."""
        message_id = str(update.update_id)
        if update.callback_query is not None:
            query = update.callback_query
            chat = query.message.chat if query.message is not None else None
            if chat is None or chat.type != "private":
                return None
            payload = self.resolve_callback(query.data or "")
            kind = "postback" if payload else "unsupported"
            return Inbound(kind, str(chat.id), message_id, text=payload or ""), chat.id
        msg = update.message
        if msg is None or msg.chat is None or msg.chat.type != "private":
            return None
        user = str(msg.chat.id)
        if msg.location is not None:
            loc = msg.location
            inbound = Inbound(
                "location", user, message_id, latitude=loc.latitude, longitude=loc.longitude
            )
        elif msg.photo:
            photo = max(msg.photo, key=lambda p: (p.width or 0) * (p.height or 0))
            if photo.file_size and photo.file_size > MAX_PHOTO_BYTES:
                inbound = Inbound("photo", user, message_id)
            else:
                inbound = Inbound(
                    "photo", user, message_id, photo_loader=self._photo_loader(photo.file_id)
                )
        elif msg.sticker is not None:
            inbound = Inbound("sticker", user, message_id)
        elif msg.text is not None:
            text = msg.text
            if text.strip().split("@")[0] == "/start":
                inbound = Inbound("follow", user, message_id)
            else:
                inbound = Inbound("text", user, message_id, text=text)
        else:
            inbound = Inbound("unsupported", user, message_id)
        return inbound, msg.chat.id

    def _photo_loader(self, file_id: str) -> Callable[[], Awaitable[tuple[bytes, str]]]:
        async def load() -> tuple[bytes, str]:
            from telegram.error import TelegramError

            try:
                tg_file = await self.bot.get_file(file_id)
                if tg_file.file_size and tg_file.file_size > MAX_PHOTO_BYTES:
                    raise InvalidPhoto("too large")
                data = bytes(await tg_file.download_as_bytearray())
            except TelegramError as exc:
                raise InvalidPhoto("download failed") from exc
            return data, "image/jpeg"

        return load

    async def handle_update(self, core: ChannelCore, data: dict[str, Any]) -> None:
        """Process one update (de-duplicated on ``update_id`` by the core)."""
        from telegram import Update

        try:
            update = Update.de_json(data, self.bot)
        except Exception:  # noqa: BLE001 - malformed update
            logger.info("telegram: an update could not be parsed")
            return
        if update is None:
            return
        try:
            converted = (
                await asyncio.to_thread(self.to_inbound, update)
                if self._callbacks.shared
                else self.to_inbound(update)
            )
            if converted is None:
                logger.debug("telegram: ignored an update without a private message")
                return
            inbound, chat_id = converted
            if update.callback_query is not None:
                try:
                    await self.bot.answer_callback_query(update.callback_query.id)
                except Exception:  # noqa: BLE001 - the spinner stops by itself later
                    logger.info("telegram: answerCallbackQuery failed")
            outcome = await core.handle(inbound)
            if outcome.replies:
                await self.send(chat_id, outcome.replies)
        except Exception as exc:  # noqa: BLE001 - never log the token-bearing URL
            logger.error("telegram: failed to handle an update (%s)", type(exc).__name__)


def secret_ok(expected: str, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "replace"))


class TelegramInput(InputChannel):
    """Telegram webhook connector."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            access_token=str(credentials.get("access_token") or ""),
            secret_token=str(credentials.get("secret_token") or ""),
            webhook_url=str(credentials.get("webhook_url") or ""),
            api_base=credentials.get("api_base") or None,
        )

    def __init__(
        self,
        access_token: str,
        secret_token: str,
        webhook_url: str = "",
        api_base: str | None = None,
        store_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.access_token = access_token
        self.secret_token = secret_token
        self.webhook_url = webhook_url
        self.agent = TelegramAgent(access_token, api_base)
        self.store_factory = store_factory
        self.tasks: set[asyncio.Task] = set()

    @property
    def enabled(self) -> bool:
        return bool(self.access_token and self.secret_token)

    def url_prefix(self) -> str:
        return self.name()

    async def push(self, chat_id: int | str, texts: list[str]) -> None:
        await self.agent.push(chat_id, texts)

    async def set_webhook(self) -> bool:
        """Register ``webhook_url`` with Telegram, with the secret token."""
        return bool(
            await self.agent.bot.set_webhook(
                url=self.webhook_url,
                secret_token=self.secret_token,
                allowed_updates=ALLOWED_UPDATES,
            )
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("telegram_webhook", __name__)
        kwargs = {} if self.store_factory is None else {"store_factory": self.store_factory}
        core = ChannelCore(self.name(), on_new_message, **kwargs)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "disabled"})

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.enabled:
                return response.json(
                    {
                        "error": "telegram_disabled",
                        "message": "Telegram webhook is not configured: set TELEGRAM_BOT_TOKEN "
                        "and TELEGRAM_SECRET_TOKEN.",
                    },
                    status=503,
                )
            if not secret_ok(
                self.secret_token, request.headers.get("X-Telegram-Bot-Api-Secret-Token")
            ):
                return response.json({"error": "invalid_secret_token"}, status=401)
            body = request.body or b""
            if len(body) > MAX_BODY_BYTES:
                return response.json({"error": "too_large"}, status=413)
            try:
                data = json.loads(body)
            except ValueError:
                return response.json({"error": "malformed_json"}, status=400)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                return response.json({"error": "malformed_update"}, status=400)
            task = asyncio.create_task(self.agent.handle_update(core, data))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            return response.json({"status": "ok"})

        @bp.listener("after_server_start")
        async def register_webhook(*_: Any) -> None:
            if not (self.enabled and self.webhook_url):
                return

            async def register() -> None:
                try:
                    ok = await self.set_webhook()
                    logger.info("telegram: setWebhook %s", "succeeded" if ok else "failed")
                except Exception as exc:  # noqa: BLE001
                    logger.warning("telegram: setWebhook failed (%s)", type(exc).__name__)

            task = asyncio.create_task(register())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

        @bp.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.agent.close()

        return bp


# ---------------------------------------------------------------------- polling


async def poll(
    agent: TelegramAgent,
    core: ChannelCore,
    *,
    timeout: int = 30,
    stop: asyncio.Event | None = None,
    max_rounds: int | None = None,
) -> int:
    """Long-poll ``getUpdates`` and feed each update to the core; returns updates handled.

    Stops when ``stop`` is set or after ``max_rounds`` calls. Network errors back off and retry.
    """
    from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError

    offset: int | None = None
    handled = 0
    rounds = 0
    backoff = 1.0
    while (stop is None or not stop.is_set()) and (max_rounds is None or rounds < max_rounds):
        rounds += 1
        try:
            updates = await agent.bot.get_updates(
                offset=offset,
                timeout=timeout,
                allowed_updates=ALLOWED_UPDATES,
                read_timeout=timeout + 10,
            )
            backoff = 1.0
        except (Conflict, InvalidToken):
            raise
        except (NetworkError, TelegramError) as exc:
            logger.warning("telegram: getUpdates failed (%s); retrying", type(exc).__name__)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 60.0)
            continue
        for update in updates:
            offset = update.update_id + 1
            await agent.handle_update(core, update.to_dict())
            handled += 1
    return handled


class RestForwarder:
    """An ``on_new_message`` that sends each message to Rasa's REST channel.

    The bot's answers come back in the HTTP response and go to the message's output channel, so
    the polling process needs no model of its own.
    """

    def __init__(self, rasa_url: str, timeout: float = 120.0) -> None:
        self.url = rasa_url.rstrip("/") + "/webhooks/rest/webhook"
        self.timeout = timeout
        self._session: Any = None

    async def __call__(self, message: UserMessage) -> None:
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        body = {
            "sender": message.sender_id,
            "message": message.text,
            "metadata": dict(message.metadata or {}),
        }
        async with self._session.post(self.url, json=body) as resp:
            resp.raise_for_status()
            answers = await resp.json()
        for answer in answers if isinstance(answers, list) else []:
            if isinstance(answer, dict):
                answer.pop("recipient_id", None)
                await message.output_channel.send_response(message.sender_id, answer)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
