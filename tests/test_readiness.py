"""`bosai run` says "ready" only after a real turn went through Rasa and the action server,
and the tracker store's cache serves a long conversation that Rasa's own retrieve agrees with."""

from __future__ import annotations

import json
import sqlite3

import pytest

from bot.supervisor import READY_SENDER

pytestmark = pytest.mark.rasa


def stored_events(stack, sender: str) -> list[dict]:
    with sqlite3.connect(stack.var_dir / "tracker.db") as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()
    return [json.loads(r[0]) for r in rows]


def test_ready_only_after_a_turn_through_rasa_and_the_action_server(rasa_stack) -> None:
    output = "".join(rasa_stack.output)
    assert "first turn through Rasa and actions" in output
    events = stored_events(rasa_stack, READY_SENDER)
    names = [e.get("name") for e in events if e.get("event") == "action"]
    assert "action_receive_location" in names, names
    # Rasa logs the action even when the action server fails; the answer it uttered exists only
    # when the action server replied
    after = events[next(i for i, e in enumerate(events) if e.get("name") == "action_receive_location"):]
    uttered = [e for e in after if e.get("event") == "bot"]
    assert uttered and (uttered[0].get("metadata") or {}).get("utter_action", "").startswith(
        "utter_location_"
    ), after


def test_a_long_conversation_is_stored_turn_by_turn(rasa_stack) -> None:
    """Every turn's events reach the database although Rasa reads them from the cache."""
    sender = "readiness-long"
    for i in range(12):
        text = ("こんにちは", "ありがとうございました", "あなたはロボットですか")[i % 3]
        assert rasa_stack.rest(sender, text)
    events = stored_events(rasa_stack, rasa_stack.sender(sender))
    users = [e["text"] for e in events if e.get("event") == "user"]
    assert len(users) == 12 and users[-1] == "あなたはロボットですか"
