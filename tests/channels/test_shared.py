"""Channel state shared between instances: Telegram's long button payloads and the widget's upload
rate limit, in this process by default and in Redis with REDIS_URL (the local Redis server; those
tests are skipped with the reason when it is not reachable)."""

from __future__ import annotations

import time
import uuid

import pytest

from bot.channels.shared import SharedState


def test_in_process_values_and_rate_limit() -> None:
    state = SharedState(redis_url="", max_local=2)
    assert not state.shared
    state.put("cb:1", "/report{\"a\": 1}", 60)
    assert state.get("cb:1") == "/report{\"a\": 1}"
    state.put("cb:2", "x", 60)
    state.put("cb:3", "y", 60)
    assert state.get("cb:1") is None and state.get("cb:3") == "y"  # oldest dropped
    assert [state.over_limit("ip", 2, 60) for _ in range(3)] == [False, False, True]
    assert state.over_limit("other-ip", 2, 60) is False
    assert [state.over_limit("short", 1, 0.2) for _ in range(2)] == [False, True]
    time.sleep(0.3)
    assert state.over_limit("short", 1, 0.2) is False


def test_two_instances_share_values_and_limits_through_redis(redis_url: str) -> None:
    a, b = SharedState(redis_url), SharedState(redis_url)
    assert a.shared and b.shared
    key = f"cb:{uuid.uuid4().hex}"
    a.put(key, "/inform{\"shelter_name\": \"函館市民会館\"}", 60)
    assert b.get(key) == "/inform{\"shelter_name\": \"函館市民会館\"}"
    client = f"203.0.113.{uuid.uuid4().int % 250}"
    assert a.over_limit(client, 2, 60) is False
    assert b.over_limit(client, 2, 60) is False
    assert a.over_limit(client, 2, 60) is True  # the third upload, counted across both instances
    assert b.over_limit(client, 2, 60) is True
    a.put("cb:expires", "x", 1)
    time.sleep(2.1)
    assert b.get("cb:expires") is None


def test_redis_down_falls_back_to_this_process() -> None:
    state = SharedState("redis://127.0.0.1:1/0")  # nothing listens on port 1
    started = time.monotonic()
    state.put("cb:x", "payload", 60)
    assert state.get("cb:x") == "payload"
    assert [state.over_limit("ip", 1, 60) for _ in range(2)] == [False, True]
    assert time.monotonic() - started < 10


def test_telegram_button_tapped_on_another_instance(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.channels.telegram import TelegramAgent

    monkeypatch.setenv("REDIS_URL", redis_url)
    first, second = TelegramAgent("123:abc"), TelegramAgent("123:abc")
    payload = '/report_damage{"damage_type": "building_damage", "note": "' + "あ" * 30 + '"}'
    data = first.callback_data(payload)
    assert data.startswith("cb:") and len(data.encode()) <= 64
    assert second.resolve_callback(data) == payload
    assert second.resolve_callback("cb:" + "0" * 32) is None
