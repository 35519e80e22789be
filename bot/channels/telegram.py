"""Telegram connector (webhook ``/webhooks/telegram/webhook``) and the polling loop.

Register in ``credentials.yml`` as ``bot.channels.telegram.TelegramInput`` with
``access_token: ${TELEGRAM_BOT_TOKEN}``, ``secret_token: ${TELEGRAM_SECRET_TOKEN}``,
``webhook_url: ${TELEGRAM_WEBHOOK_URL}`` and ``api_base: ${TELEGRAM_API_BASE}`` (``bosai run``
exports them from the settings; an empty base means ``https://api.telegram.org/bot``). The
webhook (:class:`~bot.channels.webhook.WebhookInput`) is enabled only when both the bot token and
the secret token are set; it checks ``X-Telegram-Bot-Api-Secret-Token`` before parsing.

python-telegram-bot 22 is used for parsing (``Update.de_json``) and for sending (``Bot`` with
``base_url``); its httpx client runs on whatever asyncio loop calls it (Sanic's uvloop included),
and the bot object is created lazily inside the running loop.

The webhook and ``bosai telegram-poll`` (:mod:`bot.channels.polling`) both store each update of
a private chat (:func:`intake_item`, de-duplicated on ``update_id``) before they answer 200 or
confirm the update to Telegram; the durable intake's workers (:mod:`bot.channels.intake`) of
:class:`TelegramInput` (running whenever the bot token is set, with or without the webhook's
secret) process it through :class:`TelegramAgent` and the shared
:class:`~bot.channels.core.ChannelCore` and send the answers, one ``sendMessage`` at a time,
remembering which went through; flood control (``RetryAfter``), 5xx and network errors are
retried after the time Telegram asks for or with backoff.

One module over 400 lines on purpose: parsing, rendering and sending (with the intake's retries)
for one platform are read and changed together; the polling loop is in its own module.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

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
from bot.channels.shapes import telegram_update_ok
from bot.channels.shared import SharedState
from bot.channels.webhook import WebhookInput
from bot.settings import TELEGRAM_API_BASE as DEFAULT_API_BASE
from bot.store.intake import ClaimedEvent, IntakeItem

logger = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64
# Buttons older than this stop working (the resident is asked again).
CALLBACK_TTL_SECONDS = 7 * 24 * 3600
LOCATION_HINT = "下の「現在地を送る」ボタンで、今いる場所を送れます。"
ALLOWED_UPDATES = ["message", "callback_query"]
#: a push to one chat outside a conversation (officials) is retried this long
PUSH_GIVE_UP_SECONDS = 60.0


def private_chat(update: dict[str, Any]) -> int | None:
    """The private chat an update (message or button tap) comes from, else None."""
    message = update.get("message")
    if not isinstance(message, dict):
        query = update.get("callback_query")
        message = query.get("message") if isinstance(query, dict) else None
    chat = message.get("chat") if isinstance(message, dict) else None
    if isinstance(chat, dict) and chat.get("type") == "private":
        chat_id = chat.get("id")
        if isinstance(chat_id, int) and not isinstance(chat_id, bool):
            return chat_id
    return None


def intake_item(update: Any) -> IntakeItem | None:
    """The update to store for the intake (webhook and ``bosai telegram-poll``), when it comes
    from a private chat (others are not answered) and has the right field types."""
    if not telegram_update_ok(update):  # wrong types: broken or forged, never stored
        logger.warning("telegram: an update with wrong field types was skipped")
        return None
    chat_id = private_chat(update)
    if chat_id is None:
        return None
    return IntakeItem(str(update["update_id"]), str(chat_id), update)


def send_error(exc: Exception) -> SendError:
    """Telegram's errors as the intake sees them: flood control, 5xx and network errors are
    worth another try (after ``retry_after`` when given); a refused request is not."""
    from telegram.error import (
        BadRequest,
        ChatMigrated,
        Forbidden,
        InvalidToken,
        NetworkError,
        RetryAfter,
    )

    name = f"Telegram {type(exc).__name__}: {exc}"
    if isinstance(exc, RetryAfter):
        wait = getattr(exc, "_retry_after", None)
        seconds = wait.total_seconds() if wait is not None else None
        return SendError(name, transient=True, retry_after=seconds)
    if isinstance(exc, (BadRequest, Forbidden, InvalidToken, ChatMigrated)):
        return SendError(name, transient=False)
    return SendError(name, transient=isinstance(exc, NetworkError))


def file_base(api_base: str) -> str:
    """``https://api.telegram.org/bot`` → ``https://api.telegram.org/file/bot``."""
    base = api_base.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file/bot"


class TelegramAgent:
    """Turns Telegram updates into core events and sends the replies with PTB's ``Bot``."""

    def __init__(
        self, token: str, api_base: str | None = None, redis_url: str | None = None
    ) -> None:
        self.token = token
        self.api_base = api_base or DEFAULT_API_BASE
        self._bot: Any = None
        # long button payloads do not fit Telegram's 64-byte callback_data: keep them here
        # (in Redis when REDIS_URL is set, so that a tap reaching another instance finds them)
        self._callbacks = SharedState(redis_url)

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

    async def send_parts(
        self, chat_id: int | str, replies: list[BotReply], done: int, on_part: OnPart
    ) -> None:
        """Send the rendered messages after the first ``done``; ``on_part(n)`` after each.
        Failures are :class:`~bot.channels.intake.SendError`."""
        from telegram.error import TelegramError

        rendered = (
            await asyncio.to_thread(self.render, replies)
            if self._callbacks.shared
            else self.render(replies)
        )
        for index, params in enumerate(rendered):
            if index < done:
                continue
            try:
                if "photo" in params:
                    await self.bot.send_photo(chat_id=chat_id, photo=params["photo"])
                else:
                    await self.bot.send_message(chat_id=chat_id, **params)
            except TelegramError as exc:
                raise send_error(exc) from exc
            await on_part(index + 1)

    async def push(
        self, chat_id: int | str, texts: list[str], config: IntakeConfig | None = None
    ) -> None:
        """Send plain texts to one chat (officials' notices), retrying flood control, 5xx and
        network errors for up to :data:`PUSH_GIVE_UP_SECONDS` without repeating a sent one."""
        replies = [BotReply(text=t) for t in texts]
        sent = 0

        async def progress(count: int) -> None:
            nonlocal sent
            sent = count

        async def once() -> None:
            await self.send_parts(chat_id, replies, sent, progress)

        await send_with_retries(once, config or IntakeConfig(), PUSH_GIVE_UP_SECONDS)

    async def answer_update(self, core: ChannelCore, data: dict[str, Any]) -> list[BotReply]:
        """The bot's answers to a stored update (durable intake): raises when it fails."""
        from telegram import Update

        update = Update.de_json(data, self.bot)
        converted = await self._accept(update)
        if converted is None:
            return []
        inbound, _chat_id = converted
        return (await core.process(inbound)).replies

    async def _accept(self, update: Any) -> tuple[Inbound, int | str] | None:
        """The update as an inbound message and its chat (:meth:`to_inbound`; in a thread when
        button payloads are in Redis), a tapped button's spinner stopped; None: nothing to do."""
        converted = (
            await asyncio.to_thread(self.to_inbound, update)
            if self._callbacks.shared
            else self.to_inbound(update)
        )
        if converted is not None and update.callback_query is not None:
            try:
                await self.bot.answer_callback_query(update.callback_query.id)
            except Exception:  # noqa: BLE001 - the spinner stops by itself later
                logger.info("telegram: answerCallbackQuery failed")
        return converted

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


def secret_ok(expected: str, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "replace"))


class TelegramInput(WebhookInput):
    """Telegram webhook connector."""

    disabled_error = "telegram_disabled"
    disabled_message = (
        "Telegram webhook is not configured: set TELEGRAM_BOT_TOKEN and TELEGRAM_SECRET_TOKEN."
    )
    unauthenticated_error = "invalid_secret_token"
    malformed_error = "malformed_update"

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
        super().__init__(store_factory)
        self.access_token = access_token
        self.secret_token = secret_token
        self.webhook_url = webhook_url
        self.agent = TelegramAgent(access_token, api_base)

    @property
    def enabled(self) -> bool:
        return bool(self.access_token and self.secret_token)

    def authentic(self, request: Request, body: bytes) -> bool:
        return secret_ok(self.secret_token, request.headers.get("X-Telegram-Bot-Api-Secret-Token"))

    def accept(self, data: Any) -> tuple[bool, Any]:
        ok = isinstance(data, dict) and isinstance(data.get("update_id"), int)
        return ok, data if ok else None

    def intake_items(self, work: Any) -> list[IntakeItem]:
        item = intake_item(work)
        return [item] if item is not None else []

    @property
    def can_answer(self) -> bool:
        """Answers stored updates with the bot token alone: in polling mode (no secret, the
        webhook off) ``bosai telegram-poll`` stores them and this worker answers them."""
        return bool(self.access_token)

    async def answer(self, core: ChannelCore, event: ClaimedEvent) -> list[BotReply]:
        return await self.agent.answer_update(core, event.payload)

    async def deliver(
        self, event: ClaimedEvent, replies: list[BotReply], done: int, on_part: OnPart
    ) -> None:
        chat_id = private_chat(event.payload)
        if chat_id is not None:
            await self.agent.send_parts(chat_id, replies, done, on_part)

    async def on_start(self) -> None:
        if self.enabled and self.webhook_url:
            self.spawn(self._register_webhook())

    async def on_stop(self) -> None:
        await self.agent.close()

    async def push(self, sender: str, texts: list[str]) -> bool:
        """Send plain texts to one resident, addressed by their pseudonymous sender id
        (``telegram:<hash>``) through the address table; False when there is no address."""
        address = await resident_address(self.store_factory, sender)
        if address is None:
            return False
        await self.agent.push(address, texts)
        return True

    async def set_webhook(self) -> bool:
        """Register ``webhook_url`` with Telegram, with the secret token."""
        return bool(
            await self.agent.bot.set_webhook(
                url=self.webhook_url,
                secret_token=self.secret_token,
                allowed_updates=ALLOWED_UPDATES,
            )
        )

    async def _register_webhook(self) -> None:
        try:
            ok = await self.set_webhook()
            logger.info("telegram: setWebhook %s", "succeeded" if ok else "failed")
        except Exception as exc:  # noqa: BLE001
            logger.warning("telegram: setWebhook failed (%s)", type(exc).__name__)
