"""Telegram without a public URL: long polling (``bosai telegram-poll``).

:func:`poll` feeds each update from ``getUpdates`` to the same :class:`~bot.channels.telegram.
TelegramAgent` and :class:`~bot.channels.core.ChannelCore` as the webhook; :class:`RestForwarder`
stands in for Rasa's ``on_new_message`` by sending each message to the running Rasa server's relay
channel (:mod:`bot.channels.relay`: signed with a key derived from the resident secret, so the
sender stays the resident's ``telegram:<hash>``), so the polling process needs no model of its own.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.channels.core import ChannelCore
from bot.channels.telegram import ALLOWED_UPDATES, TelegramAgent

logger = logging.getLogger(__name__)

__all__ = ["poll", "RestForwarder"]


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
    """An ``on_new_message`` that sends each message to the Rasa server's relay channel.

    The body is signed (:func:`bot.channels.relay.sign`) with ``secret`` (the resident secret of
    this installation when omitted). The bot's answers come back in the HTTP response and go to
    the message's output channel, so the polling process needs no model of its own.
    """

    def __init__(self, rasa_url: str, timeout: float = 120.0, secret: bytes | None = None) -> None:
        self.url = rasa_url.rstrip("/") + "/webhooks/relay/webhook"
        self.timeout = timeout
        self._secret = secret
        self._session: Any = None

    async def __call__(self, message: UserMessage) -> None:
        import aiohttp

        from bot import identity
        from bot.channels.relay import SIGNATURE_HEADER, relay_body, sign

        if self._secret is None:
            self._secret = identity.default_secret()
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        body = relay_body(message)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self._secret, body)}
        async with self._session.post(self.url, data=body, headers=headers) as resp:
            resp.raise_for_status()
            answers = await resp.json()
        for answer in answers if isinstance(answers, list) else []:
            if isinstance(answer, dict):
                answer.pop("recipient_id", None)
                await message.output_channel.send_response(message.sender_id, answer)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
