"""No conversation takeover: a known or guessed LINE userId / Telegram chat id sent through REST or
the widget reaches another resident, never the LINE or Telegram one (issue 11).

The channels are built from ``credentials.yml`` by Rasa's own factory and registered on one Sanic
app, as ``rasa run`` does. Rasa's ``on_new_message`` is a stand-in that behaves like Rasa where
it matters here: one conversation per sender id (its memory is keyed by ``sender_id``, as Rasa's
tracker store is), and the real ``ActionSubmitEvacuation`` run on a tracker with the message's
sender and input channel (as Rasa's action server receives it), storing the registration in the
real report store.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import socketio
from rasa.core.channels.channel import UserMessage, register
from rasa.core.run import create_http_input_channels
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sanic import Sanic

from bot.settings import REPO_ROOT
from bot.store import Store
from bot.store.models import Evacuee
from tests.channels import helpers
from tests.channels.test_line import SECRET as LINE_SECRET
from tests.channels.test_line import TOKEN as LINE_TOKEN
from tests.channels.test_line import USER, fake_line, sign, text_event

pytestmark = pytest.mark.anyio

REST_TOKEN = "rest-token-for-tests"
ORIGIN = "http://city.example"


class Bot:
    """Rasa's part: one memory per sender id, the real evacuation action on each message."""

    def __init__(self, domain: dict[str, Any]) -> None:
        self.domain = domain
        self.memory: dict[str, list[str]] = defaultdict(list)
        self.messages: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        from actions.evacuation import ActionSubmitEvacuation

        self.messages.append(message)
        heard = self.memory[message.sender_id]
        reply = "前回のお話: " + ("、".join(heard) if heard else "なし")
        heard.append(message.text or "")
        tracker = Tracker(
            message.sender_id,
            {"language": "ja", "place_type": "home", "headcount": int(message.text or "1"),
             "vulnerable": {}, "needs": [], "consent": True},
            {"text": message.text, "intent": {"name": "inform"}, "entities": []},
            [{"event": "user", "text": message.text, "input_channel": message.input_channel,
              "parse_data": {}}],
            False, None, {}, "action_listen",
        )  # fmt: skip
        dispatcher = CollectingDispatcher()
        await ActionSubmitEvacuation().run(dispatcher, tracker, self.domain)
        await message.output_channel.send_response(message.sender_id, {"text": reply})


@pytest.fixture(scope="module")
def domain() -> dict[str, Any]:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(REPO_ROOT / "bot" / "domain")).as_dict()


@pytest.fixture
async def stack(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, domain: dict[str, Any]
) -> AsyncIterator[Any]:
    from actions import resources
    from bot.settings import get_settings
    from bot.store import clear_stores, get_store

    api = fake_line()
    api_base = await api.start()
    env = {
        "LINE_CHANNEL_SECRET": LINE_SECRET, "LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN,
        "LINE_API_BASE": api_base, "LINE_DATA_API_BASE": api_base,
        "TELEGRAM_BOT_TOKEN": "", "TELEGRAM_SECRET_TOKEN": "", "TELEGRAM_WEBHOOK_URL": "",
        "TELEGRAM_API_BASE": "", "BOSAI_REST_TOKEN": REST_TOKEN,
        "BOSAI_RESIDENT_SECRET": "takeover-secret", "BOSAI_ALLOWED_ORIGINS": ORIGIN,
    }  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    clear_stores()
    resources.clear(gis=False)
    channels = create_http_input_channels(None, str(REPO_ROOT / "credentials.yml"))
    fast = getattr(helpers, "FAST_INTAKE", None)
    for channel in channels:
        if fast is not None and getattr(channel, "intake_config", fast) is None:
            channel.intake_config = fast  # type: ignore[attr-defined]
    bot = Bot(domain)
    Sanic.test_mode = True
    app = Sanic(f"takeover_{uuid.uuid4().hex[:8]}")
    register(channels, app, route="/webhooks/")
    app.ctx.agent = SimpleNamespace(handle_message=bot)  # Rasa's handler calls the agent
    async with helpers.serve(app) as base:
        yield base, bot, api, get_store()
    await api.stop()
    clear_stores()
    resources.clear(gis=False)


async def line_says(base: str, api: Any, text: str, event_id: str) -> None:
    body = json.dumps({"events": [text_event(text, event_id)]}).encode()
    headers = {"Content-Type": "application/json", "X-Line-Signature": sign(body)}
    before = len(api.calls("/reply"))
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{base}/webhooks/line/webhook", data=body, headers=headers) as r:
            assert r.status == 200
    for _ in range(400):
        if len(api.calls("/reply")) > before:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("LINE reply not sent")


async def rest_says(
    base: str, body: dict[str, Any], token: str | None = REST_TOKEN
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{base}/webhooks/rest/webhook", json=body, headers=headers) as r:
            return r.status, await r.json()


def registrations(store: Store) -> dict[str, tuple[str, int]]:
    with store.session() as s:
        return {e.resident: (e.channel, e.headcount) for e in s.query(Evacuee).all()}


async def test_guessed_line_id_over_rest_is_another_resident(stack: Any) -> None:
    base, bot, api, store = stack
    await line_says(base, api, "3", "01HEVT00000000000000000001")
    (victim,) = bot.messages
    resident = store.resident_id("line", USER)
    assert victim.sender_id == f"line:{resident}"
    assert registrations(store) == {resident: ("line", 3)}

    # the attacker knows the LINE userId (and even the pseudonymous sender) and the channel name
    for i, sender in enumerate([USER, victim.sender_id, f"line:{USER}"]):
        status, replies = await rest_says(
            base, {"sender": sender, "message": str(9 + i), "input_channel": "line",
                   "metadata": {"channel": "line", "resident": resident}},
        )  # fmt: skip
        assert status == 200
        attacker = bot.messages[-1]
        assert attacker.sender_id.startswith("rest:") and attacker.input_channel == "rest"
        assert attacker.sender_id != victim.sender_id
        assert attacker.metadata["resident"] != resident
        # the resident's conversation is not continued: its earlier message is not in the reply
        assert [r["text"] for r in replies] == ["前回のお話: なし"]
        assert all(r["recipient_id"] == attacker.sender_id for r in replies)
    # the LINE resident's registration was not overwritten
    assert registrations(store)[resident] == ("line", 3)
    assert all(ch == "rest" for r, (ch, _) in registrations(store).items() if r != resident)
    # and the resident's own conversation continues where it was
    await line_says(base, api, "4", "01HEVT00000000000000000002")
    assert api.calls("/reply")[-1].json()["messages"][0]["text"] == "前回のお話: 3"
    assert registrations(store)[resident] == ("line", 4)


async def test_guessed_line_id_over_the_widget_is_another_resident(stack: Any) -> None:
    base, bot, api, store = stack
    await line_says(base, api, "2", "01HEVT00000000000000000003")
    victim = bot.messages[-1]
    resident = store.resident_id("line", USER)
    received: list[Any] = []
    client = socketio.AsyncClient(reconnection=False)
    client.on("bot_uttered", lambda data: received.append(("bot", data)))
    client.on("session_confirm", lambda data: received.append(("session", data)))
    await client.connect(base, headers={"Origin": ORIGIN}, transports=["polling"])
    try:
        for forged in (USER, victim.sender_id, resident):
            received.clear()
            await client.emit("session_request", {"session_id": forged})
            for _ in range(250):
                if received:
                    break
                await asyncio.sleep(0.02)
            kind, session = received[0]
            assert kind == "session" and session != forged  # a fresh signed session instead
            await client.emit("user_uttered", {"message": "8", "session_id": session})
            for _ in range(250):
                if len(received) == 2:
                    break
                await asyncio.sleep(0.02)
            assert received[1] == ("bot", {"text": "前回のお話: なし"})
            assert bot.messages[-1].sender_id.startswith("socketio:")
            assert bot.messages[-1].sender_id != victim.sender_id
    finally:
        await client.disconnect()
    assert registrations(store)[resident] == ("line", 2)


async def test_rest_needs_the_token(stack: Any) -> None:
    base, bot, _api, _store = stack
    status, body = await rest_says(base, {"sender": "a", "message": "1"}, token=None)
    assert status == 401 and body["error"] == "missing_token"
    status, body = await rest_says(base, {"sender": "a", "message": "1"}, token="wrong")
    assert status == 403 and body["error"] == "invalid_token"
    assert bot.messages == []
    status, _ = await rest_says(base, {"sender": "a", "message": "1"})
    assert status == 200 and len(bot.messages) == 1
