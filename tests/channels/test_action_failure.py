"""The action server down during a LINE turn: the turn fails unsaved and the intake retries it
(bot/strict_actions.py), instead of Rasa 3.6 logging the error and saving a turn without the
action; the same when the tracker store's database is gone. The real trained agent, the real LINE connector and intake, the real action server
(``bosai actions``) when it comes back; only LINE is a fake.
"""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.utils.endpoints import EndpointConfig
from sanic import Sanic

from bot.channels import core
from bot.channels.core import CollectingOutput, location_payload
from bot.channels.line import LineInput
from bot.store import Store
from tests.channels.helpers import (
    FAST_INTAKE,
    FakeLine,
    ServedLine,
    action_server_env,
    free_port,
    serve,
    settle,
)
from tests.channels.test_line import SECRET, TOKEN, USER, event, sign, text_event
from tests.store.conftest import pg_url  # noqa: F401 - the fixture

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[2]
HAKODATE = {"latitude": 41.7687, "longitude": 140.7288}


def point_actions_at(agent: Agent, port: int) -> None:
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
    agent.action_endpoint = endpoint
    assert agent.processor is not None
    agent.processor.action_endpoint = endpoint


def location_event(event_id: str) -> dict:
    message = {"type": "location", "id": "300001", "title": "現在地", **HAKODATE}
    return event(message=message, event_id=event_id)


class LineOnRasa(ServedLine):
    """The LINE connector in a Sanic app whose ``ctx.agent`` is the trained agent, as in
    ``rasa run`` (the connector's start listener finds the agent there)."""

    def __init__(self, store: Store, api: FakeLine, agent: Agent, config: Any) -> None:
        channel = LineInput(SECRET, TOKEN, api.base, api.base, store_factory=lambda: store)
        channel.intake_config = config
        Sanic.test_mode = True
        self.app = Sanic(f"test_actions_down_{uuid.uuid4().hex[:8]}")
        self.app.ctx.agent = agent

        async def on_new_message(message: UserMessage) -> None:  # Rasa's own handler
            await self.app.ctx.agent.handle_message(message)

        self.app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/line")
        super().__init__(channel, serve(self.app), sign)


def intake_state(store: Store, event_id: str) -> dict[str, Any]:
    state = store.intake_event("line", event_id)
    assert state is not None, f"{event_id} was not stored"
    return state


async def user_turns(agent: Agent, sender: str, message_id: str) -> int:
    """How many times the tracker store holds the resident's message ``message_id``."""
    tracker = await agent.tracker_store.retrieve(sender)
    if tracker is None:
        return 0
    return sum(
        1 for e in tracker.events if getattr(e, "message_id", None) == message_id
        and type(e).__name__ == "UserUttered"
    )


async def test_rasa_alone_saves_a_turn_whose_action_failed(agent: Agent) -> None:
    """What the guard prevents: without it (REST, the widget) Rasa carries on silently."""
    point_actions_at(agent, free_port())  # nothing listens there
    output = CollectingOutput("rest")
    message = UserMessage(
        location_payload(HAKODATE["latitude"], HAKODATE["longitude"]),
        output,
        "rest:unguarded",
        input_channel="rest",
        message_id="MSG-UNGUARDED",
    )
    await agent.handle_message(message)  # no error
    assert await user_turns(agent, "rest:unguarded", "MSG-UNGUARDED") == 1


async def test_action_server_down_the_resident_gets_the_apology_and_no_turn_is_saved(
    store: Store, line_api: FakeLine, agent: Agent
) -> None:
    point_actions_at(agent, free_port())
    config = dataclasses.replace(FAST_INTAKE, max_attempts=2)
    async with LineOnRasa(store, line_api, agent, config) as line:
        assert await line.post(location_event("EVACTIONSDOWN")) == 200
        await settle(line.channel, timeout=60)
    assert line_api.texts == [core.ERROR_TEXT]  # 「もう一度送ってください」 with 119/110, once
    assert "もう一度送ってください" in core.ERROR_TEXT and "119" in core.ERROR_TEXT
    state = intake_state(store, "EVACTIONSDOWN")
    assert state["status"] == "failed" and state["attempts"] == 2
    assert state["last_error"] == "processing: ActionServerFailed"
    sender = store.sender_id("line", USER)
    assert await user_turns(agent, sender, "EVACTIONSDOWN") == 0  # resending it starts afresh


async def test_a_turn_retried_after_the_action_server_came_back_is_answered_once(
    store: Store, line_api: FakeLine, agent: Agent, tmp_path: Path
) -> None:
    port = free_port()
    point_actions_at(agent, port)
    config = dataclasses.replace(
        FAST_INTAKE, max_attempts=12, backoff_base=1.0, backoff_cap=5.0, give_up_seconds=120.0
    )
    env = action_server_env(tmp_path)
    server: subprocess.Popen | None = None
    try:
        async with LineOnRasa(store, line_api, agent, config) as line:
            assert await line.post(location_event("EVACTIONSBACK")) == 200
            for _ in range(600):  # the first attempt failed: the action server was down
                state = intake_state(store, "EVACTIONSBACK")
                if (state["last_error"] or "").startswith("processing"):
                    break
                await asyncio.sleep(0.05)
            assert state["last_error"] == "processing: ActionServerFailed"
            server = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "actions", "--port", str(port)],
                cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            await settle(line.channel, timeout=120)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
    assert core.ERROR_TEXT not in line_api.texts
    assert line_api.delivered, "the resident got no answer"
    state = intake_state(store, "EVACTIONSBACK")
    assert state["status"] == "done" and state["attempts"] >= 2
    assert await user_turns(agent, store.sender_id("line", USER), "EVACTIONSBACK") == 1



async def test_tracker_store_down_the_turn_fails_instead_of_starting_the_conversation_afresh(
    store: Store, line_api: FakeLine, agent: Agent, pg_url: str  # noqa: F811 - the fixture
) -> None:
    """PostgreSQL under Rasa's tracker store gone: Rasa's fail-safe wrapper would start the
    conversation afresh (and keep the turn in memory only); a LINE turn fails and is retried,
    then the resident gets the apology."""
    from urllib.parse import urlsplit

    from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore

    from tests.store.conftest import _pg_admin

    u = urlsplit(pg_url)
    name = u.path.lstrip("/")
    sql = SQLTrackerStore(
        agent.domain, dialect="postgresql", host=u.hostname, port=u.port, db=name,
        username=u.username,
    )  # fmt: skip
    fail_safe = FailSafeTrackerStore(sql)  # what Agent makes of a configured tracker store
    previous = agent.tracker_store, agent.processor.tracker_store  # type: ignore[union-attr]
    agent.tracker_store = agent.processor.tracker_store = fail_safe  # type: ignore[union-attr]
    try:
        admin = _pg_admin()
        with admin.cursor() as cur:  # the database goes away under the running store
            cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()
        config = dataclasses.replace(FAST_INTAKE, max_attempts=2)
        async with LineOnRasa(store, line_api, agent, config) as line:
            assert await line.post(text_event("こんにちは", "EVTRACKERDOWN")) == 200
            await settle(line.channel, timeout=60)
    finally:
        agent.tracker_store, agent.processor.tracker_store = previous  # type: ignore[union-attr]
        sql.engine.dispose()
    assert line_api.texts == [core.ERROR_TEXT]
    state = intake_state(store, "EVTRACKERDOWN")
    assert state["status"] == "failed" and state["last_error"] == "processing: TrackerStoreFailed"
