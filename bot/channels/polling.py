"""Telegram without a public URL: long polling (``bosai telegram-poll``) into the durable intake.

:func:`poll` takes each batch of updates from ``getUpdates`` and stores them in the intake
(:mod:`bot.store.intake`, channel ``telegram``, de-duplicated on ``update_id``) exactly as the
webhook does, and only then confirms them to Telegram (the next ``getUpdates`` carries
``offset`` = last ``update_id`` + 1; Telegram forgets an update only then). When the store cannot
take them the offset is not advanced: Telegram hands the same updates out again at the next call.

The Rasa server's Telegram connector (:class:`~bot.channels.telegram.TelegramInput`, started by
``bosai run`` with ``TELEGRAM_BOT_TOKEN``) answers them with its worker pool
(:class:`~bot.channels.intake.IntakeWorker`): in order per resident, retried, resumed after a
restart, drained at shutdown, the same as webhook updates. So the poller needs no model and no
connection to Rasa, only the same store (``DATABASE_URL`` / ``BOSAI_VAR_DIR``) as ``bosai run``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bot.channels.telegram import ALLOWED_UPDATES, TelegramAgent, intake_item
from bot.store.intake import IntakeItem

logger = logging.getLogger(__name__)

__all__ = ["poll"]


def _store(store_factory: Callable[[], Any], items: list[IntakeItem]) -> None:
    store_factory().add_intake("telegram", items)


async def poll(
    agent: TelegramAgent,
    store_factory: Callable[[], Any],
    *,
    timeout: int = 30,
    stop: asyncio.Event | None = None,
    max_rounds: int | None = None,
    backoff_cap: float = 60.0,
) -> int:
    """Long-poll ``getUpdates`` and store each update as a pending intake event; returns the
    number of updates confirmed to Telegram.

    Stops when ``stop`` is set or after ``max_rounds`` calls. Network errors and a store that
    cannot take the updates back off (doubling up to ``backoff_cap`` seconds) and retry; the
    updates of a batch that was not stored are not confirmed.
    """
    from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError

    offset: int | None = None
    confirmed = 0
    rounds = 0
    backoff = 1.0

    async def wait() -> None:
        nonlocal backoff
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, backoff_cap)

    while (stop is None or not stop.is_set()) and (max_rounds is None or rounds < max_rounds):
        rounds += 1
        try:
            updates = await agent.bot.get_updates(
                offset=offset,
                timeout=timeout,
                allowed_updates=ALLOWED_UPDATES,
                read_timeout=timeout + 10,
            )
        except (Conflict, InvalidToken):
            raise
        except (NetworkError, TelegramError) as exc:
            logger.warning("telegram: getUpdates failed (%s); retrying", type(exc).__name__)
            await wait()
            continue
        if not updates:
            backoff = 1.0
            continue
        items = [item for item in (intake_item(u.to_dict()) for u in updates) if item]
        if items:
            try:
                await asyncio.to_thread(_store, store_factory, items)
            except Exception as exc:  # noqa: BLE001 - not confirmed: Telegram keeps them
                logger.error(
                    "telegram: could not store %d update(s) (%s); not confirmed, retrying",
                    len(items),
                    type(exc).__name__,
                )
                await wait()
                continue
        backoff = 1.0
        offset = max(u.update_id for u in updates) + 1  # confirmed by the next getUpdates
        confirmed += len(updates)
    if offset is not None:
        # confirm what was stored before leaving (else Telegram hands it out again at the next
        # start; the intake would recognise it, but there is no need)
        try:
            await agent.bot.get_updates(offset=offset, timeout=0, allowed_updates=ALLOWED_UPDATES)
        except (NetworkError, TelegramError):
            pass
    return confirmed
