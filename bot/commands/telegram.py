"""``bosai telegram-poll``: Telegram without a public URL (long polling).

Each update goes through the same core as the webhook (de-duplication on ``update_id``, location
checks, photo stripping, the pseudonymous sender) and then to the running Rasa server's relay
channel (signed with a key derived from the resident secret, :mod:`bot.channels.relay`); the
answers are sent back with the Bot API. Needs ``TELEGRAM_BOT_TOKEN`` and the same
``BOSAI_RESIDENT_SECRET`` (or ``BOSAI_VAR_DIR``) as ``bosai run``; ``TELEGRAM_API_BASE``
overrides the API URL (all read through :mod:`bot.settings`).
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

    from bot.channels.core import ChannelCore
    from bot.channels.polling import RestForwarder, poll
    from bot.channels.telegram import TelegramAgent

    rasa_url = args.rasa_url or settings.rasa_url
    agent = TelegramAgent(token, args.api_base or settings.telegram_api_base, settings.redis_url)
    forwarder = RestForwarder(rasa_url)
    core = ChannelCore("telegram", forwarder)
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
        print(f"Polling Telegram; forwarding to {rasa_url} (Ctrl+C to stop)", file=sys.stderr)
        await poll(agent, core, timeout=args.timeout, stop=stop, max_rounds=args.max_rounds)
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
        await forwarder.close()
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
    p.add_argument("--rasa-url", default=None, help="Rasa server (default: BOSAI_RASA_URL)")
    p.add_argument("--api-base", default=None, help="Bot API base (default: TELEGRAM_API_BASE)")
    p.add_argument("--timeout", type=int, default=30, help="long-poll seconds per request")
    p.add_argument(
        "--delete-webhook", action="store_true", help="remove a registered webhook first"
    )
    p.add_argument("--max-rounds", type=int, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=_telegram_poll)
