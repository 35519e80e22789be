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
from tests.actions.conftest import env, gis_cache  # noqa: F401 - fixtures: the real GIS index

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
    assert rasa_speedups.selected(None) == set(rasa_speedups.NAMES)
    assert rasa_speedups.selected("") == set(rasa_speedups.NAMES)
    assert set(rasa_speedups.NAMES) == {"schema", "spacy", "eager", "language", "keepalive", "form",
                                        "payload", "pipes"}
    assert rasa_speedups.TRAINING == {"spacy", "pipes"}
    assert rasa_speedups.selected("none") == set()
    assert rasa_speedups.selected(" spacy, eager ") == {"spacy", "eager"}
    with pytest.raises(ValueError, match="unknown"):
        rasa_speedups.selected("spacy,fast")


def _rasa_features(model: Any, texts: list[str]) -> list[tuple]:
    """What Rasa's spaCy components make of each text in training: tokens (text, offsets, lemma, the tag
    ``SpacyTokenizer`` keeps) and ``SpacyFeaturizer``'s sequence and sentence features."""
    from rasa.nlu.featurizers.dense_featurizer.spacy_featurizer import SpacyFeaturizer
    from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
    from rasa.nlu.utils.spacy_utils import SpacyNLP
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    messages = [Message(data={TEXT: t}) for t in texts]
    data = TrainingData(training_examples=messages)  # the training path (spaCy's pipe)
    SpacyNLP(model, {**SpacyNLP.get_default_config(), "model": "ja_ginza"}).process_training_data(
        data, model
    )
    SpacyTokenizer(SpacyTokenizer.get_default_config()).process_training_data(data)
    SpacyFeaturizer(
        {**SpacyFeaturizer.get_default_config(), "pooling": "mean"}, "f"
    ).process_training_data(data)
    out = []
    for m in messages:
        tokens = [(t.text, t.start, t.end, t.lemma, t.data) for t in m.get("text_tokens")]
        seq, sent = m.get_dense_features(TEXT)
        out.append((tokens, seq.features.tobytes(), sent.features.tobytes()))
    return out


def test_ginza_without_its_unread_pipes_gives_rasa_the_same_tokens_and_features() -> None:
    """Replacement 8: GiNZA's tokenizer and vectors alone give Rasa's tokenizer and featurizer
    exactly what the whole pipeline gives (a sample of the training data, real-post messages,
    dialect, English, emoji), in about 1/40 of the time."""
    import yaml

    texts = ["２かい　大人2 こども1　みずきてる💦 はやく", "Water is up to the 2nd floor!!", "#拡散希望 〇〇町3-12-4"]
    for path in sorted((REPO / "data" / "nlu").glob("*.yml"))[::2]:
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            lines = [x[2:] for x in (item.get("examples") or "").splitlines() if x.startswith("- ")]
            texts += lines[::40]
    texts = list(dict.fromkeys(texts))  # Rasa's TrainingData keeps one message per text
    assert len(texts) > 60
    full = rasa_speedups.ORIGINAL_SPACY_LOAD("ja_ginza")
    lean = rasa_speedups.lean_spacy_model("ja_ginza")
    assert "tok2vec" in full.model.pipe_names and lean.model.pipe_names == []
    t0 = time.perf_counter()
    theirs = _rasa_features(full, texts)
    t1 = time.perf_counter()
    ours = _rasa_features(lean, texts)
    t2 = time.perf_counter()
    assert ours == theirs
    assert (t2 - t1) < (t1 - t0) / 3


# the model loaded the Rasa way and ours: the same parse and the same next action
TEXTS = ["こんにちは", "津波の避難所はどこ", "家が傾いた、助けて", "ありがとう", "水と毛布が足りない",
         "2かい 大人2 こども1 みずきてる はやく", "カイロと毛布", "Water is up to the 2nd floor, 5 of us"]


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
            m.setattr(rasa_speedups, "_lean", True)
            rasa_speedups.shared_spacy_model.cache_clear()
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
    assert a.model.pipe_names == []  # GiNZA's tokenizer and vectors only (replacement 8)
    ours = _predictions(ours_agent)

    # DIET and TED loaded, with every variable of Rasa's load and the same values
    assert {n.split("_")[1].rstrip("0123456789") for n in theirs_weights} == {
        "bot.nlu.diet.BucketedDIETClassifier", "TEDPolicy"  # config.yml's DIET (bot/nlu/diet.py)
    }
    assert _model_weights(ours_agent) == theirs_weights
    # their prediction functions traced at load without AutoGraph (the same graph, tested below)
    functions = [
        node._component.model._tf_predict_step
        for node in ours_agent.processor.graph_runner._instantiated_nodes.values()
        if getattr(node._component, "model", None) is not None
        and hasattr(node._component.model, "_tf_predict_step")
    ]
    assert len(functions) == 2 and all(f is not None and f._autograph is False for f in functions)

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
        assert [s["score"] for s in n_ours["scores"]] == pytest.approx(
            [s["score"] for s in n_theirs["scores"]], abs=1e-6
        )
    # the texts reach more than one intent and more than one next action
    assert len({p["intent"]["name"] for p, _ in ours}) >= 3


# -- 4. the language slot's custom mapping in the Rasa process

LANGUAGE_CASES = [
    # (slot before, text, intent, language entities)
    ("ja", "/lang en", None, []),
    ("en", "/lang ja", None, []),
    ("ja", "英語でお願いします", "set_language", ["英語"]),
    ("en", "日本語にして", "set_language", ["日本語"]),
    ("ja", "english please", "set_language", []),
    ("ja", "Where is the nearest shelter?", "find_shelter", []),
    ("en", "Where is the nearest shelter?", "find_shelter", []),
    ("ja", "避難所はどこですか", "find_shelter", []),
    ("en", "避難所はどこですか", "find_shelter", []),
    ("en", "函館駅", "inform", []),
    ("ja", "/share_location{\"latitude\": 41.7}", "share_location", []),
    ("en", "", None, []),
    ("ja", "英語の案内はありますか", "ask_disaster_info", ["英語"]),
]


def _rasa_tracker(slot: str, text: str, intent: str | None, languages: list[str]) -> Any:
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.slots import TextSlot
    from rasa.shared.core.trackers import DialogueStateTracker

    entities = [{"entity": "language", "value": v, "start": 0, "end": 1} for v in languages]
    parsed = {"name": intent, "confidence": 0.9} if intent else {}
    return DialogueStateTracker.from_events(
        "resident", [
            SlotSet("language", slot),
            ActionExecuted(ACTION_LISTEN_NAME),
            UserUttered(text, parsed, entities),
        ],
        slots=[TextSlot("language", mappings=[{"type": "custom"}], initial_value="ja",
                        influence_conversation=False)],
    )


@pytest.mark.parametrize("case", LANGUAGE_CASES)
def test_language_in_process_answers_what_the_action_server_answers(case: tuple) -> None:
    """The action server's ``action_detect_language`` on the tracker Rasa would post
    (``current_state()`` turned into rasa_sdk's tracker) and the in-process function on Rasa's
    tracker give the same slot events."""
    from rasa.shared.core.trackers import EventVerbosity
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.common import ActionDetectLanguage

    tracker = _rasa_tracker(*case)
    posted = Tracker.from_dict(tracker.current_state(EventVerbosity.AFTER_RESTART))
    remote = asyncio.run(ActionDetectLanguage().run(CollectingDispatcher(), posted, {}))
    local = rasa_speedups.detect_language_events(tracker)
    assert [(e.key, e.value) for e in local] == [(e["name"], e["value"]) for e in remote]


def test_the_cases_switch_both_ways_and_keep() -> None:
    outcomes = {tuple(e.value for e in rasa_speedups.detect_language_events(_rasa_tracker(*c)))
                for c in LANGUAGE_CASES}
    assert outcomes == {("en",), ("ja",), ()}


def test_extract_slots_sets_the_language_without_calling_the_action_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``action_extract_slots`` with the replacement: the language comes from this process even
    though the action endpoint is unreachable; another custom mapping still goes to the
    endpoint (and, unreachable, sets nothing, as in Rasa)."""
    from rasa.core.actions.action import ActionExtractSlots
    from rasa.shared.core.domain import Domain

    domain = Domain.from_dict({
        "intents": ["find_shelter"],
        "slots": {
            "language": {"type": "text", "influence_conversation": False, "initial_value": "ja",
                         "mappings": [{"type": "custom", "action": "action_detect_language"}]},
            "other": {"type": "text", "influence_conversation": False,
                      "mappings": [{"type": "custom", "action": "action_other"}]},
        },
        "actions": ["action_detect_language", "action_other"],
    })
    calls: list[str] = []

    async def remote(self: Any, name: str, *args: Any) -> list:
        calls.append(name)
        return []

    monkeypatch.setattr(rasa_speedups, "ORIGINAL_RUN_CUSTOM_ACTION", remote)
    monkeypatch.setattr(ActionExtractSlots, "_run_custom_action", rasa_speedups.run_custom_action)
    tracker = _rasa_tracker("ja", "Where is the nearest shelter?", "find_shelter", [])
    action = ActionExtractSlots(EndpointConfig("http://127.0.0.1:1/webhook"))
    events = asyncio.run(action.run(None, None, tracker, domain))  # type: ignore[arg-type]
    assert [(e.key, e.value) for e in events] == [("language", "en")]
    assert calls == ["action_other"]


# -- 5. kept connections to the action server


class _Server:
    """A loopback HTTP server counting requests and TCP connections; ``mode`` picks the
    answer: json, text, error (500 with a body) or hangup (read the request, close)."""

    def __init__(self) -> None:
        self.requests = 0
        self.connections = 0
        self.mode = "json"
        self.server: asyncio.AbstractServer | None = None
        self.port = 0
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self, port: int = 0) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()
        for writer in list(self._writers):
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                self.requests += 1
                if self.mode == "hangup":
                    writer.close()
                    return
                status, ctype, body = {
                    "json": (b"200 OK", b"application/json", b'{"events": [], "n": %d}' % self.requests),
                    "text": (b"200 OK", b"text/plain", b"plain"),
                    "error": (b"500 Internal Server Error", b"text/plain", b"broken"),
                }[self.mode]
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype
                             + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


def test_kept_connection_is_reused_and_answers_as_rasa_s_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rasa.utils.endpoints import ClientResponseError

    async def scenario() -> None:
        server = _Server()
        await server.start()
        endpoint = EndpointConfig(f"http://127.0.0.1:{server.port}/webhook")
        ours = [await rasa_speedups.endpoint_request(endpoint, json={"next_action": "a"})
                for _ in range(3)]
        assert server.connections == 1 and server.requests == 3
        theirs = await rasa_speedups.ORIGINAL_ENDPOINT_REQUEST(endpoint, json={"x": 1})
        assert ours == [{"events": [], "n": 1}, {"events": [], "n": 2}, {"events": [], "n": 3}]
        assert theirs == {"events": [], "n": 4} and server.connections == 2
        server.mode = "text"
        assert await rasa_speedups.endpoint_request(endpoint, json={}) is None
        server.mode = "error"
        for request in (rasa_speedups.endpoint_request, rasa_speedups.ORIGINAL_ENDPOINT_REQUEST):
            with pytest.raises(ClientResponseError) as err:
                await request(endpoint, json={})
            assert (err.value.status, err.value.text) == (500, b"broken")
        await server.stop()
        await rasa_speedups.kept_session(endpoint).close()

    asyncio.run(scenario())


def test_a_server_restarted_between_calls_gets_the_next_call_once() -> None:
    """The kept connection belongs to the server's old process: the request is sent again on a
    new connection, and the new server sees it exactly once."""

    async def scenario() -> None:
        first = _Server()
        await first.start()
        endpoint = EndpointConfig(f"http://127.0.0.1:{first.port}/webhook")
        assert await rasa_speedups.endpoint_request(endpoint, json={}) == {"events": [], "n": 1}
        await first.stop()
        second = _Server()
        await second.start(first.port)
        assert await rasa_speedups.endpoint_request(endpoint, json={}) == {"events": [], "n": 1}
        assert second.requests == 1
        await second.stop()
        await rasa_speedups.kept_session(endpoint).close()

    asyncio.run(scenario())


def test_a_hangup_on_a_new_connection_is_not_sent_again() -> None:
    """The server may have acted on a request it hung up on: only a reused connection is
    retried."""
    import aiohttp

    async def scenario() -> None:
        server = _Server()
        server.mode = "hangup"
        await server.start()
        endpoint = EndpointConfig(f"http://127.0.0.1:{server.port}/webhook")
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await rasa_speedups.endpoint_request(endpoint, json={})
        assert server.requests == 1
        await server.stop()
        await rasa_speedups.kept_session(endpoint).close()

    asyncio.run(scenario())


def test_unreachable_server_fails_as_in_rasa() -> None:
    import aiohttp

    async def scenario() -> None:
        endpoint = EndpointConfig("http://127.0.0.1:1/webhook")
        for request in (rasa_speedups.endpoint_request, rasa_speedups.ORIGINAL_ENDPOINT_REQUEST):
            with pytest.raises(aiohttp.ClientConnectorError):
                await request(endpoint, json={})
        await rasa_speedups.kept_session(endpoint).close()

    asyncio.run(scenario())


# -- 6. the repeated validation at a form's activation

FORMS = ["shelter_search_form", "shelter_lookup_form", "hazard_check_form", "report_damage_form",
         "shelter_status_form", "register_evacuation_form", "supply_request_form"]


@pytest.fixture(scope="module")
def rasa_domain() -> Any:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(REPO / "bot" / "domain"))


@pytest.fixture(scope="module")
def executor() -> Any:
    """Our real action server's actions, called in this process instead of over HTTP."""
    from rasa_sdk.executor import ActionExecutor

    ex = ActionExecutor()
    ex.register_package("actions")
    return ex


@pytest.mark.usefixtures("env")
def test_every_validation_action_answers_nothing_to_validate_with_no_events(
    rasa_domain: Any, executor: Any,
) -> None:
    """The assumption of :func:`rasa_speedups.form_do`: a validation action asked with no slot
    candidates answers the same with the form active or not - no events for a message that names
    nothing (rasa_sdk's ``FormValidationAction`` with ``validate_<slot>`` methods, and one
    ``extract_location`` that reads only the latest message and the slots)."""
    from rasa_sdk.forms import FormValidationAction

    for form in FORMS:
        action = executor.actions[f"validate_{form}"]
        cls = type(action) if not isinstance(action, type) else action
        if hasattr(action, "__self__"):  # a bound run method
            cls = type(action.__self__)
        assert issubclass(cls, FormValidationAction), form
        assert {m for m in dir(cls) if m.startswith("extract_")} <= {"extract_location"}, form
        assert cls.required_slots is FormValidationAction.required_slots, form
        assert cls.run is FormValidationAction.run, form
        for active in (form, None):
            payload = _validation_call(rasa_domain, form, active)
            answer = asyncio.run(executor.run(payload))
            assert answer == {"events": [], "responses": []}, (form, active, answer)
        # a message that names a district (actions/forms/location.py extract_location): the same
        # answer both times, so the second call is never skipped after a first one with events
        answers = [
            asyncio.run(executor.run(_validation_call(rasa_domain, form, active, "津波どこ 函館市柏野町")))
            for active in (form, None)
        ]
        assert answers[0] == answers[1], form
        if form in ("shelter_search_form", "hazard_check_form"):
            assert any(e.get("name") == "location" for e in answers[0]["events"]), form


def _validation_call(domain: Any, form: str, active: str | None, text: str = "お願いします") -> dict:
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    events = [ActionExecuted(ACTION_LISTEN_NAME), UserUttered(text, {"name": "inform", "confidence": 0.9}, [])]
    if active:
        events.append(ActiveLoop(active))
    events += [SlotSet(REQUESTED_SLOT, None), ActionExecuted(form)]
    tracker = DialogueStateTracker.from_events("resident", events, slots=domain.slots)
    action = RemoteAction(f"validate_{form}", EndpointConfig("http://127.0.0.1:1/webhook"))
    return action._action_call_format(tracker, domain)


def _run_form(form: str, message: str, intent: str, entities: list[dict], domain: Any, executor: Any,
              monkeypatch: pytest.MonkeyPatch, do: Any) -> tuple[list, list, list]:
    """Activate ``form`` on a fresh conversation whose last message is ``message``, with Rasa's
    ``FormAction`` and the action server's real actions; returns (events, sent messages, calls)."""
    from rasa.core.actions.forms import FormAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    calls: list[tuple[str, str | None]] = []

    async def request(self: Any, method: str = "post", subpath: Any = None,
                      content_type: Any = None, compress: bool = False, **kwargs: Any) -> Any:
        payload = kwargs["json"]
        calls.append((payload["next_action"], (payload["tracker"].get("active_loop") or {}).get("name")))
        return await executor.run(payload)

    monkeypatch.setattr(EndpointConfig, "request", request)
    monkeypatch.setattr(FormAction, "do", do)
    tracker = DialogueStateTracker.from_events("resident", [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered(message, {"name": intent, "confidence": 0.95}, entities),
    ], slots=domain.slots)
    channel = CollectingOutputChannel()
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    action = FormAction(form, EndpointConfig("http://127.0.0.1:1/webhook"))
    events = asyncio.run(action.run(channel, nlg, tracker, domain))
    plain = [(type(e).__name__, getattr(e, "key", None) or getattr(e, "name", None),
              getattr(e, "value", None) or getattr(e, "text", None)) for e in events]
    asked = [e.text for e in events if type(e).__name__ == "BotUttered"]
    return plain, asked + [m.get("text") for m in channel.messages], calls


@pytest.mark.parametrize("form,message,intent,entities", [
    ("shelter_search_form", "避難所どこ", "find_shelter", []),
    ("shelter_lookup_form", "避難所の様子を知りたい", "ask_shelter_status", []),
    ("hazard_check_form", "ここ危ない？", "check_hazard", []),
    ("report_damage_form", "被害を報告したい", "report_damage", []),
    ("register_evacuation_form", "避難しました", "register_evacuation", []),
    ("supply_request_form", "物資がほしい", "request_supplies", []),
    # a message that fills a slot: activate's validation answers events, no call to skip
    ("shelter_search_form", "津波の避難場所", "find_shelter",
     [{"entity": "hazard", "value": "tsunami", "start": 0, "end": 2}]),
])
def test_a_form_activates_with_one_validation_call_and_the_same_events(
    form: str, message: str, intent: str, entities: list[dict], rasa_domain: Any, executor: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = _run_form(form, message, intent, entities, rasa_domain, executor, monkeypatch,
                         rasa_speedups.ORIGINAL_FORM_DO)
    ours = _run_form(form, message, intent, entities, rasa_domain, executor, monkeypatch,
                     rasa_speedups.form_do)
    assert ours[:2] == original[:2]
    assert original[1], "the form asked for its first slot"
    validate = f"validate_{form}"
    before, after = original[2].count((validate, None)), ours[2].count((validate, None))
    if entities:
        assert (before, after) == (0, 0) and ours[2] == original[2]
    else:
        # Rasa: once at activation (form active on a copy), once in do (not active); ours: once
        assert original[2].count((validate, form)) == ours[2].count((validate, form)) == 1
        assert (before, after) == (1, 0)
        assert [c for c in ours[2] if c != (validate, None)] == [
            c for c in original[2] if c != (validate, None)]


def test_the_form_switch_installs_it() -> None:
    assert "form" in rasa_speedups.NAMES
    assert rasa_speedups.selected("form") == {"form"}


# -- 7. a button's payload is not run through the NLU pipeline

PAYLOADS = [
    '/inform{"hazard": "tsunami"}', "/affirm", "/deny", '/share_location{"lat": 41.77, "lon": 140.73}',
    '/inform{"place_type": "car", "number": 3}', "  /find_shelter  ", "/affirm@0.8",
    # not unpacked: the graph runs as before
    "/no_such_intent", "/", "/ 避難所どこ", "避難所どこ", "津波の避難所はどこ/教えて",
]


@pytest.mark.rasa
def test_a_payload_parses_as_the_graph_parses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.trackers import DialogueStateTracker

    agent = _load_agent(True, monkeypatch)
    processor = agent.processor
    graph_runs: list[str] = []
    original_run = processor.graph_runner.run

    def counting_run(*args: Any, **kwargs: Any) -> Any:
        graph_runs.append("run")
        return original_run(*args, **kwargs)

    monkeypatch.setattr(processor.graph_runner, "run", counting_run)
    for text in PAYLOADS:
        for only_output in (True, False):
            tracker = DialogueStateTracker.from_events("payload", [], slots=agent.domain.slots)
            message = UserMessage(text, sender_id="payload")
            graph_runs.clear()
            theirs = rasa_speedups.ORIGINAL_PARSE_WITH_GRAPH(processor, message, tracker, only_output)
            assert graph_runs == ["run"]
            graph_runs.clear()
            ours = rasa_speedups.parse_with_graph(processor, message, tracker, only_output)
            unpacks = rasa_speedups.unpacked_payload(text, agent.domain) is not None
            assert graph_runs == ([] if unpacks else ["run"]), text
            if unpacks:
                assert ours == theirs, text
            else:
                assert ours["intent"] == theirs["intent"] and ours["entities"] == theirs["entities"], text
    assert rasa_speedups.unpacked_payload('/inform{"hazard": "tsunami"}', agent.domain) is not None
    assert rasa_speedups.unpacked_payload("/no_such_intent", agent.domain) is None
    monkeypatch.setattr(MessageProcessor, "_parse_message_with_graph", rasa_speedups.parse_with_graph)
    parsed = asyncio.run(processor.parse_message(UserMessage('/inform{"hazard": "flood"}')))
    assert parsed["intent"]["name"] == "inform"
    assert [(e["entity"], e["value"]) for e in parsed["entities"]] == [("hazard", "flood")]


def test_a_slash_text_that_the_graph_will_parse_is_not_unpacked_or_warned_about_twice(
    recwarn: pytest.WarningsRecorder,
) -> None:
    from rasa.shared.core.domain import Domain

    domain = Domain.from_dict({"intents": ["greet", "inform"], "entities": ["hazard"]})
    assert rasa_speedups.unpacked_payload("/no_such_intent", domain) is None
    assert rasa_speedups.unpacked_payload("/ not a payload at all", domain) is None
    assert not recwarn.list  # the graph's RegexMessageHandler warns, once
    unpacked = rasa_speedups.unpacked_payload(' /inform{"hazard": "tsunami"}', domain)
    assert unpacked is not None and unpacked.get("intent")["name"] == "inform"
    assert unpacked.get("entities")[0]["value"] == "tsunami"
