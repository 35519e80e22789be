"""Officials' notices to residents: the text residents get, and sending it on every channel.

A notice is stored first (``store.create_notice``); when the official asks for a broadcast it is
then sent, from the officials' app process, through each configured channel:

- **LINE**: the broadcast API (``POST {LINE_API_BASE}/v2/bot/message/broadcast``, bearer
  ``LINE_CHANNEL_ACCESS_TOKEN``) reaches every friend of the official account, with the
  :class:`~bot.channels.line.LineClient` of the LINE connector.
- **Telegram**: residents' chat ids are never stored (only keyed hashes), so the notice goes to the
  municipality's public channel or group ``TELEGRAM_NOTICE_CHAT_ID`` (``@name`` or a numeric id)
  with the bot ``TELEGRAM_BOT_TOKEN`` (which must be an administrator allowed to post there),
  through the Telegram connector's :class:`~bot.channels.telegram.TelegramAgent`.

Each channel's outcome is ``(ok, detail)``: ``ok`` True = sent, False = failed, None = skipped
(not configured). Secrets never appear in a detail.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from bot.settings import Settings
from bot.store import vocab
from bot.store.models import Notice

log = logging.getLogger(__name__)

JST = ZoneInfo("Asia/Tokyo")
EMERGENCY_NUMBERS = "緊急時は119番（消防・救急）、110番（警察）へ。"
CHANNELS = ("line", "telegram")
SEND_TIMEOUT_S = 30.0

Outcome = tuple[bool | None, str]


def notice_text(notice: Notice) -> str:
    """The text residents receive: severity and title, body, time, then the emergency numbers.

    Examples
    --------
    ``【緊急】避難指示（警戒レベル4）\\n○○川沿いの方は直ちに避難してください。\\n（11月27日 09:30 発表）\\n
    緊急時は119番（消防・救急）、110番（警察）へ。``
    """
    label = vocab.NOTICE_SEVERITIES.get(notice.severity, vocab.NOTICE_SEVERITIES["info"])
    at = notice.created_at.astimezone(JST)
    return (
        f"【{label}】{notice.title}\n{notice.body}\n"
        f"（{at.month}月{at.day}日 {at:%H:%M} 発表）\n{EMERGENCY_NUMBERS}"
    )


@dataclass(frozen=True)
class BroadcastConfig:
    """Where notices go; taken from the app's settings when the officials' app starts."""

    line_access_token: str = ""
    line_api_base: str = ""
    telegram_bot_token: str = ""
    telegram_api_base: str = ""
    telegram_chat_id: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> BroadcastConfig:
        def secret(value: SecretStr | None) -> str:
            return value.get_secret_value().strip() if value is not None else ""

        return cls(
            line_access_token=secret(settings.line_channel_access_token),
            line_api_base=settings.line_api_base.strip(),
            telegram_bot_token=secret(settings.telegram_bot_token),
            telegram_api_base=settings.telegram_api_base.strip(),
            telegram_chat_id=(settings.telegram_notice_chat_id or "").strip(),
        )

    def scrub(self, text: str) -> str:
        """``text`` with the tokens blanked out (error messages may quote a URL)."""
        for secret in (self.line_access_token, self.telegram_bot_token):
            if secret:
                text = text.replace(secret, "***")
        return text


async def _import(module: str) -> Any:
    """Import a connector module off the event loop (they pull in Rasa: seconds, once)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, importlib.import_module, module)


async def warm_up(config: BroadcastConfig) -> None:
    """Import the connector modules of the configured channels (server start, in background)."""
    modules = []
    if config.line_access_token:
        modules.append("bot.channels.line")
    if config.telegram_bot_token and config.telegram_chat_id:
        modules.append("bot.channels.telegram")
    for module in modules:
        try:
            await _import(module)
        except Exception:  # noqa: BLE001 - reported again when a notice is sent
            log.warning("could not load %s for notices", module, exc_info=True)


async def send_line(config: BroadcastConfig, text: str) -> Outcome:
    if not config.line_access_token:
        return None, "LINE_CHANNEL_ACCESS_TOKEN is not set"
    line = await _import("bot.channels.line")
    client = line.LineClient(
        config.line_access_token,
        config.line_api_base or line.DEFAULT_API_BASE,
        line.DEFAULT_DATA_API_BASE,
    )
    try:
        await client.broadcast([{"type": "text", "text": text[: line.MAX_TEXT]}])
    except line.LineApiError as exc:
        return False, config.scrub(f"LINE API answered {exc.status}: {exc.detail}")
    except Exception as exc:  # noqa: BLE001 - network errors, timeouts
        return False, config.scrub(f"LINE API not reachable ({type(exc).__name__}: {exc})")
    finally:
        await client.close()
    return True, "LINE broadcast accepted"


async def send_telegram(config: BroadcastConfig, text: str) -> Outcome:
    if not config.telegram_bot_token:
        return None, "TELEGRAM_BOT_TOKEN is not set"
    if not config.telegram_chat_id:
        return None, "TELEGRAM_NOTICE_CHAT_ID is not set"
    telegram = await _import("bot.channels.telegram")
    agent = telegram.TelegramAgent(config.telegram_bot_token, config.telegram_api_base or None)
    try:
        await agent.push(config.telegram_chat_id, [text])
    except Exception as exc:  # noqa: BLE001 - TelegramError, network errors
        return False, config.scrub(f"Telegram: {type(exc).__name__}: {exc}")
    finally:
        await agent.close()
    return True, f"posted to {config.telegram_chat_id}"


async def _bounded(name: str, coro: Any) -> Outcome:
    try:
        result: Outcome = await asyncio.wait_for(coro, SEND_TIMEOUT_S)
        return result
    except asyncio.TimeoutError:
        return False, f"{name}: no answer within {SEND_TIMEOUT_S:.0f} s"


async def broadcast(config: BroadcastConfig, notice: Notice) -> dict[str, Outcome]:
    """Send ``notice`` on every channel at once; the outcome per channel (never raises)."""
    text = notice_text(notice)
    results = await asyncio.gather(
        _bounded("LINE", send_line(config, text)),
        _bounded("Telegram", send_telegram(config, text)),
    )
    outcomes = dict(zip(CHANNELS, results, strict=True))
    log.info(
        "notice %s broadcast: %s",
        notice.id,
        ", ".join(
            f"{ch}={'skipped' if ok is None else ('sent' if ok else 'failed')}"
            for ch, (ok, _) in outcomes.items()
        ),
    )
    return outcomes
