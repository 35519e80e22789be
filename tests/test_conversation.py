"""A short conversation with the real trained bot over Rasa's REST channel."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.rasa


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def test_greeting_help_and_goodbye(rasa_stack) -> None:
    reply = texts(rasa_stack.rest("conv-1", "こんにちは"))
    assert "防災チャットボット" in reply
    reply = texts(rasa_stack.rest("conv-1", "何ができるの？"))
    assert "できること" in reply and "119" in reply and "110" in reply
    reply = texts(rasa_stack.rest("conv-1", "ありがとうございました"))
    assert "どういたしまして" in reply
    reply = texts(rasa_stack.rest("conv-1", "さようなら"))
    assert "お気をつけて" in reply


def test_bot_challenge(rasa_stack) -> None:
    reply = texts(rasa_stack.rest("conv-2", "あなたはロボットですか"))
    assert "チャットボット" in reply and "人ではありません" in reply


def test_unknown_question_gets_fallback_with_emergency_numbers(rasa_stack) -> None:
    reply = texts(rasa_stack.rest("conv-3", "ｑｗｅｒｔｙ ｚｘｃｖ 量子色力学の格子計算"))
    assert "119" in reply and "110" in reply


def test_health_of_all_three_services(rasa_stack) -> None:
    import json
    import urllib.request

    for url in (rasa_stack.action_url + "/health", rasa_stack.officials_url + "/health"):
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.status == 200
            assert json.loads(resp.read())["status"] == "ok"
    with urllib.request.urlopen(rasa_stack.rasa_url + "/", timeout=10) as resp:
        assert "Hello from Rasa" in resp.read().decode()


def test_rasa_http_api_needs_the_token(rasa_stack) -> None:
    """Conversations (with residents' locations) are not readable without the API token."""
    import urllib.error
    import urllib.request

    rasa_stack.rest("conv-4", "こんにちは")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(rasa_stack.rasa_url + "/conversations/conv-4/tracker", timeout=10)
    assert err.value.code == 401
