"""credentials.yml loads through Rasa's own channel factory and registers on one Sanic app."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from rasa.core.channels.channel import register
from rasa.core.run import create_http_input_channels
from sanic import Sanic

from bot.channels.line import LineInput
from bot.channels.rest import TokenRestInput
from bot.channels.telegram import TelegramInput
from bot.channels.webchat import WebchatInput

CREDENTIALS = Path(__file__).resolve().parents[2] / "credentials.yml"
VARS = (
    "LINE_CHANNEL_SECRET LINE_CHANNEL_ACCESS_TOKEN LINE_API_BASE LINE_DATA_API_BASE "
    "TELEGRAM_BOT_TOKEN TELEGRAM_SECRET_TOKEN TELEGRAM_API_BASE TELEGRAM_WEBHOOK_URL "
    "BOSAI_REST_TOKEN"
).split()


def test_credentials_with_empty_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARS:
        monkeypatch.setenv(name, "")
    channels = create_http_input_channels(None, str(CREDENTIALS))
    by_type = {type(c): c for c in channels}
    assert set(by_type) == {TokenRestInput, WebchatInput, LineInput, TelegramInput}
    assert not by_type[TokenRestInput].enabled  # type: ignore[attr-defined]
    line, telegram, web = by_type[LineInput], by_type[TelegramInput], by_type[WebchatInput]
    assert isinstance(line, LineInput) and not line.enabled
    assert line.client.api_base == "https://api.line.me"
    assert line.client.data_api_base == "https://api-data.line.me"
    assert isinstance(telegram, TelegramInput) and not telegram.enabled
    assert telegram.agent.api_base == "https://api.telegram.org/bot"
    assert isinstance(web, WebchatInput) and web.session_persistence is True
    assert web.name() == "socketio"

    Sanic.test_mode = True
    app = Sanic(f"creds_{uuid.uuid4().hex[:8]}")
    register(channels, app, route="/webhooks/")
    paths = {r.path for r in app.router.routes}
    assert {"webhooks/line/webhook", "webhooks/telegram/webhook"} <= paths
    # bosai telegram-poll stores updates in the intake: no relay into Rasa is served
    assert "webhooks/relay/webhook" not in paths
    assert "socket.io" in paths
    # without BOSAI_REST_TOKEN the REST channel is not served at all
    assert not any(p.startswith("webhooks/rest") for p in paths)


def test_credentials_with_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARS:
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("LINE_CHANNEL_SECRET", "s")
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", "t")
    monkeypatch.setenv("LINE_API_BASE", "http://127.0.0.1:9/")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", "y")
    monkeypatch.setenv("BOSAI_REST_TOKEN", "rest-token")
    channels = create_http_input_channels(None, str(CREDENTIALS))
    rest = next(c for c in channels if isinstance(c, TokenRestInput))
    assert rest.enabled and rest.token == "rest-token"
    line = next(c for c in channels if isinstance(c, LineInput))
    telegram = next(c for c in channels if isinstance(c, TelegramInput))
    assert line.enabled and line.client.api_base == "http://127.0.0.1:9"
    assert telegram.enabled
