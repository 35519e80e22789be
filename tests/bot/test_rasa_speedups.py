"""Rasa's action-response check with the schema checked once gives the same answers and errors."""

from __future__ import annotations

import time

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_speedups

RESPONSES = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "timestamp": None, "name": "language", "value": "en"}],
     "responses": [{"response": "utter_greet", "language": "en"}]},
    {"events": [{"event": "active_loop", "name": "report_damage_form"},
                {"event": "slot", "name": "requested_slot", "value": "location"}], "responses": []},
    {"events": [{"event": "followup", "name": "action_listen"}]},
]
BAD = [
    {"events": "not a list"},
    {"events": [{"event": "slot", "name": 3}]},
    {"events": [{"no_event_key": 1}]},
    {"responses": "x"},
]


@pytest.fixture
def action() -> RemoteAction:
    return RemoteAction("action_detect_language", EndpointConfig("http://127.0.0.1:1/webhook"))


@pytest.mark.parametrize("result", RESPONSES)
def test_valid_answers_pass_both(action: RemoteAction, result: dict) -> None:
    assert rasa_speedups.ORIGINAL(action, result) is True
    assert rasa_speedups.validate_action_result(action, result) is True


@pytest.mark.parametrize("result", BAD)
def test_invalid_answers_fail_both_with_the_same_message(action: RemoteAction, result: dict) -> None:
    with pytest.raises(ValidationError) as theirs:
        rasa_speedups.ORIGINAL(action, result)
    with pytest.raises(ValidationError) as ours:
        rasa_speedups.validate_action_result(action, result)
    assert ours.value.message == theirs.value.message
    assert list(ours.value.path) == list(theirs.value.path)


def test_apply_installs_it_and_one_check_is_much_cheaper(action: RemoteAction) -> None:
    rasa_speedups.apply()
    rasa_speedups.apply()
    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result
    result = RESPONSES[1]
    t0 = time.perf_counter()
    for _ in range(5):
        rasa_speedups.ORIGINAL(action, result)
    original = time.perf_counter() - t0
    action._validate_action_result(result)  # builds the validator once
    t0 = time.perf_counter()
    for _ in range(5):
        action._validate_action_result(result)
    assert time.perf_counter() - t0 < original / 5
