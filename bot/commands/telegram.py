"""``bosai telegram-poll``: Telegram without a public URL (long polling).

Each update is stored in the durable intake (pending, de-duplicated on ``update_id``) before it
is confirmed to Telegram; the Rasa server's Telegram connector answers it with its worker pool,
exactly like a webhook update (:mod:`bot.channels.polling`). Needs ``TELEGRAM_BOT_TOKEN`` here
and in ``bosai run`` (which answers), and the same store (``DATABASE_URL`` / ``BOSAI_VAR_DIR``)
as ``bosai run``; ``TELEGRAM_API_BASE`` overrides the API URL (all read through
:mod:`bot.settings`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from bot.settings import Settings


async def _poll(args: argparse.Namespace, token: str, settings: Settings) -> int:
    from telegram.error import Conflict, InvalidToken

    from bot.channels.polling import poll
    from bot.channels.telegram import TelegramAgent
    from bot.store import get_store

    agent = TelegramAgent(token, args.api_base or settings.telegram_api_base, settings.redis_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        if args.delete_webhook:
            await agent.bot.delete_webhook(drop_pending_updates=False)
        print(
            "Polling Telegram; updates are stored for the Rasa server's Telegram connector "
            "(bosai run with TELEGRAM_BOT_TOKEN answers them; Ctrl+C to stop)",
            file=sys.stderr,
        )
        await poll(agent, get_store, timeout=args.timeout, stop=stop, max_rounds=args.max_rounds)
    except Conflict:
        print(
            "Telegram refused polling because a webhook is set. Run with --delete-webhook "
            "(webhook mode stops until it is set again).",
            file=sys.stderr,
        )
        return 2
    except InvalidToken:
        print("Telegram rejected TELEGRAM_BOT_TOKEN.", file=sys.stderr)
        return 2
    finally:
        await agent.close()
    return 0


def _telegram_poll(args: argparse.Namespace) -> int:
    from bot.settings import get_settings

    settings = get_settings()
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    if not token:
        print("Set TELEGRAM_BOT_TOKEN (from @BotFather) to poll Telegram.", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines contain the token
    return asyncio.run(_poll(args, token, settings))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("telegram-poll", help="receive Telegram messages by long polling")
    p.add_argument("--rasa-url", default=None, help=argparse.SUPPRESS)  # unused since the intake
    p.add_argument("--api-base", default=None, help="Bot API base (default: TELEGRAM_API_BASE)")
    p.add_argument("--timeout", type=int, default=30, help="long-poll seconds per request")
    p.add_argument(
        "--delete-webhook", action="store_true", help="remove a registered webhook first"
    )
    p.add_argument("--max-rounds", type=int, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=_telegram_poll)
