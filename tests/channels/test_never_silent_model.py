"""Never silence, with the real trained model and action server behind the real LINE connector:
buttons tapped out of their context (a LINE quick reply or a Telegram inline keyboard from an
earlier question) each get at least one message, and not the apology. With the model of
2026-11-30 a bare ``/inform`` is such a turn: Rasa runs ``action_keep_message`` and utters
nothing, so the resident gets the acknowledgement (bot/channels/texts.py ``RECEIVED_TEXT``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.core.agent import Agent

from bot.channels import core, texts
from bot.store import Store
from tests.channels.helpers import FAST_INTAKE, FakeLine, served_actions, settle
from tests.channels.test_action_failure import LineOnRasa, point_actions_at
from tests.channels.test_line import event

pytestmark = pytest.mark.anyio

TAPPED = ["/inform", '/inform{"hazard": "flood"}', '/inform{"supply": "water"}', "/affirm", "/deny"]


@pytest.fixture
def action_server(tmp_path: Path) -> Iterator[int]:
    with served_actions(tmp_path) as port:
        yield port


async def test_buttons_out_of_context_are_never_answered_with_silence(
    store: Store,
    line_api: FakeLine,
    agent: Agent,  # noqa: F811 - the fixture
    action_server: int,
) -> None:
    point_actions_at(agent, action_server)
    config = dataclasses.replace(FAST_INTAKE, give_up_seconds=120.0)
    async with LineOnRasa(store, line_api, agent, config) as line:
        for index, payload in enumerate(TAPPED):
            ev = event("postback", f"EVTAPPED{index}", postback={"data": payload})
            ev["source"] = {"type": "user", "userId": f"U{index:032x}"}
            assert await line.post(ev) == 200
        await settle(line.channel, timeout=120)
    for index, payload in enumerate(TAPPED):
        state = store.intake_event("line", f"EVTAPPED{index}")
        assert state["status"] == "done", payload
        assert state["sent_parts"] >= 1, f"{payload} was answered with nothing"
    assert all(text for text in line_api.texts)
    assert core.ERROR_TEXT not in line_api.texts
    assert texts.RECEIVED_TEXT in line_api.texts  # the bare /inform (model of 2026-11-30)
