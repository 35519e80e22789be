"""Rasa's action-response check with the schema checked once gives the same answers and errors."""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path
from typing import Any

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_speedups

REPO = Path(__file__).resolve().parents[2]

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


def test_the_switch_selects_replacements() -> None:
    assert rasa_speedups.selected(None) == {"schema", "spacy", "eager"}
    assert rasa_speedups.selected("") == {"schema", "spacy", "eager"}
    assert rasa_speedups.selected("none") == set()
    assert rasa_speedups.selected(" spacy, eager ") == {"spacy", "eager"}
    with pytest.raises(ValueError, match="unknown"):
        rasa_speedups.selected("spacy,fast")


# the model loaded the Rasa way and ours: the same parse and the same next action
TEXTS = ["こんにちは", "津波の避難所はどこ", "家が傾いた、助けて", "ありがとう", "水と毛布が足りない"]


def _load_agent(ours: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    from rasa.core.agent import Agent
    from rasa.nlu.utils.spacy_utils import SpacyNLP
    from rasa.utils.tensorflow.models import RasaModel

    from bot.training import latest_model

    model = latest_model(REPO)
    if model is None:
        pytest.fail("no trained model in models/: run `make train` (make test does it first)")
    with monkeypatch.context() as m:
        if ours:
            m.setattr(SpacyNLP, "load_model", staticmethod(rasa_speedups.shared_spacy_model))
            m.setattr(RasaModel, "load", classmethod(rasa_speedups.load_rasa_model))
        else:
            m.setattr(SpacyNLP, "load_model", rasa_speedups.ORIGINAL_SPACY_LOAD)
            m.setattr(RasaModel, "load", rasa_speedups.ORIGINAL_RASA_MODEL_LOAD)
        return Agent.load(str(model))


def _spacy_models(agent: Any) -> list[Any]:
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    return [n._component._model for n in nodes if n._component_class is SpacyNLP]


def _model_weights(agent: Any) -> dict[str, dict[str, str]]:
    """Every variable of the TensorFlow models (DIET, TED): name -> hash of its value."""
    import hashlib

    out = {}
    for name, node in agent.processor.graph_runner._instantiated_nodes.items():
        model = getattr(node._component, "model", None)
        if model is not None and hasattr(model, "variables"):
            out[name] = {
                f"{i}:{v.name}": hashlib.sha256(v.numpy().tobytes()).hexdigest()
                for i, v in enumerate(model.variables)
            }
    return out


def _predictions(agent: Any) -> list[tuple[dict, dict]]:
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    out = []
    for i, text in enumerate(TEXTS):
        parse = asyncio.run(agent.parse_message(text))
        tracker = DialogueStateTracker.from_events(f"same-{i}", [
            ActionExecuted(ACTION_LISTEN_NAME),
            UserUttered(text, parse["intent"], parse["entities"], parse_data=parse),
        ], slots=agent.domain.slots)
        nxt = agent.predict_next_with_tracker(tracker)
        out.append((parse, {"policy": nxt["policy"], "scores": nxt["scores"]}))
    return out


@pytest.mark.rasa
def test_model_loaded_our_way_predicts_exactly_as_rasa_s_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    theirs_agent = _load_agent(False, monkeypatch)
    a, b = _spacy_models(theirs_agent)
    assert a is not b  # Rasa's own load: GiNZA loaded once per SpacyNLP node
    theirs = _predictions(theirs_agent)
    theirs_weights = _model_weights(theirs_agent)
    del theirs_agent, a, b
    gc.collect()

    ours_agent = _load_agent(True, monkeypatch)
    a, b = _spacy_models(ours_agent)
    assert a is b  # one spaCy model shared by provide_SpacyNLP0 and run_SpacyNLP0
    ours = _predictions(ours_agent)

    # DIET and TED loaded, with every variable of Rasa's load and the same values
    assert {n.split("_")[1].rstrip("0123456789") for n in theirs_weights} == {
        "DIETClassifier", "TEDPolicy"
    }
    assert _model_weights(ours_agent) == theirs_weights

    for (p_theirs, n_theirs), (p_ours, n_ours) in zip(theirs, ours, strict=True):
        assert p_ours["intent"]["name"] == p_theirs["intent"]["name"]
        assert [r["name"] for r in p_ours["intent_ranking"]] == [
            r["name"] for r in p_theirs["intent_ranking"]
        ]
        assert [r["confidence"] for r in p_ours["intent_ranking"]] == pytest.approx(
            [r["confidence"] for r in p_theirs["intent_ranking"]], abs=1e-6
        )
        assert p_ours["entities"] == p_theirs["entities"]
        assert n_ours["policy"] == n_theirs["policy"]
        assert [s["action"] for s in n_ours["scores"]] == [s["action"] for s in n_theirs["scores"]]
        assert [s["score"] for s in n_ours["scores"]] == pytest.approx(
            [s["score"] for s in n_theirs["scores"]], abs=1e-6
        )
    # the texts reach more than one intent and more than one next action
    assert len({p["intent"]["name"] for p, _ in ours}) >= 3
