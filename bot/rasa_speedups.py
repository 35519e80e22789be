"""Measured hot spots of Rasa 3.6 on our path, each replaced by the same work done once.

Three deviations from Rasa, installed by :func:`apply` in the Rasa server's process (when our
tracker store starts, :mod:`bot.tracker_cache`; in training only 2 and 8, see below):

1. The action server's answers are checked against a schema validator built once (below).
2. ``SpacyNLP.load_model`` returns one loaded spaCy model per model name and process
   (:func:`shared_spacy_model`): Rasa's predict graph has two ``SpacyNLP`` nodes
   (``provide_SpacyNLP0`` hands the model to the tokenizer, ``run_SpacyNLP0`` parses the
   messages), each built by ``SpacyNLP.create`` -> ``spacy.load``, so GiNZA was loaded twice at
   every start. The loaded ``Language`` is only read at prediction (``nlp(text)``), so both
   nodes can hold the same object.
3. ``RasaModel.load`` (DIET, TED) builds the weights by one eager forward pass
   (:func:`load_rasa_model`). Rasa builds the weights of a saved model by ``model.fit`` on one
   example and then overwrites every weight from the checkpoint; in graph mode that fit first
   converts and traces the whole training step (forward, gradients, Adam) with AutoGraph - the
   largest part of the Rasa server's start - for a step whose result is thrown away. Rasa's own
   loss function run eagerly on the same batch creates the same variables; the checkpoint is
   then loaded (every existing variable must be restored from it) and the prediction function
   traced exactly as before (``run_eagerly`` is put back, so predictions stay graph functions).
   The whole training step run eagerly is not enough: Adam's slot variables are then created in
   another order than in training and restoring them fails on TED (shape mismatch).
   The prediction function is then traced without AutoGraph (:func:`trace_without_autograph`):
   the same ``tf.function`` of ``predict_step`` with the same input signature, but AutoGraph no
   longer rewrites the source of the ~200 functions it calls first (the model's load 13.2 → 8.7 s
   here). Their branches are on Python values only; a branch on a tensor would fail at that trace
   (and Rasa's function would be built instead), not change an answer.

Rasa checks every answer of the action server against its response schema with
``jsonschema.validate(result, schema)`` (``RemoteAction._validate_action_result``). That call first
validates the *schema itself* against the JSON-Schema meta-schema and builds a new validator, on
every call; the events schema is large, so on this machine it took about 45 ms of the Rasa
server's CPU per action call - more than the NLU pipeline - and every user turn makes at least one
call (the ``language`` slot's custom mapping). bench/profile_turn.py found it (docs/performance.md).

:func:`apply` replaces the method with one that checks the (constant) schema and builds the
validator once, then validates each answer exactly as ``jsonschema.validate`` does (same
validator class, ``best_match`` of the errors, the same message added to the error).

Two more cut work that bare Rasa does not do but our stack did on every turn
(docs/performance.md, "The action server round trip"):

4. The ``language`` slot's custom mapping (``action_detect_language``, bot/domain/dialogue.yml)
   runs in the Rasa process (:func:`detect_language_events`) instead of as a call to the action
   server in every ``action_extract_slots``: the same function
   (:func:`actions.parsing.detect_language`) on the same fields of the tracker the call would
   have posted (latest intent, text, ``language`` entities, the slot), the same ``SlotSet``.
   Small talk then makes no action call at all; the action server keeps the action for a Rasa
   without these replacements.
5. Calls to an endpoint (the action server) keep their HTTP connection
   (:func:`endpoint_request`): Rasa's ``EndpointConfig.request`` opens a new aiohttp session and
   TCP connection per call. One session per endpoint settings and event loop is kept; idle
   connections are dropped after :data:`KEEPALIVE_SECONDS`, before Sanic's keep-alive timeout
   (5 s) would close them under a request. A request that fails on a *reused* connection
   because the server closed it (an action server restarted since; the request never reached
   the new process) is sent once more on a new connection; a failure on a new connection is
   raised as before (the server may have received it).

One more cuts a call that Rasa repeats with the same request:

6. A form that activates asks the action server's ``validate_<form>`` a second time after an
   empty answer (:func:`form_do`). ``LoopAction._activate_loop`` runs ``FormAction.activate``
   on a copy of the tracker with the form active: ``action_extract_slots``, then the validation
   action with the required slots already filled - none, when the message named none. When
   that returns no events, ``FormAction.do`` calls ``_validate_if_required`` on the original
   tracker (the form not yet active there), which sends the validation action the slots set
   since the user's message - none again. The two requests differ only in the form being
   active and in extraction events that set no slot. Our validation actions (actions/forms,
   rasa_sdk ``FormValidationAction`` with ``validate_<slot>`` methods and one ``extract_location``
   that reads only the latest message and the slots, never the active loop; no
   ``required_slots`` override) answer both requests alike: with no events when the message names
   nothing, so the second may be skipped; with the district's slots when it names one, and then
   the first answer had events and nothing is skipped. :func:`form_do` skips only that second call, and only when
   both candidate sets are empty; the form then asks for its next slot exactly as ``do`` does
   after an empty validation. The test checks the assumption on every validation action.

And one skips work whose result Rasa throws away:

7. A button's payload (「/inform{"hazard": "tsunami"}」, 「/affirm」, a shared location) is not run
   through the NLU pipeline (:func:`parse_with_graph`). Rasa's predict graph runs every
   component - GiNZA, the featurizers, DIET, the danger layer - on the payload's text, and then its
   last node, ``RegexMessageHandler``, replaces the whole message with a new one holding only the
   text, intent, intent ranking and entities unpacked from the payload
   (``YAMLStoryReader.unpack_regex_message``). For a text that unpacks, the same unpacking is done
   here, with the same domain and extractor name, and the graph is not run; any other text (one
   that does not start with ``/``, is no payload, or names no intent of the domain) runs the graph as
   before, and only the graph warns about it.
   A form turn answered with a button made the Rasa server pay the NLU's 30-40 ms for nothing.

And one skips work whose result nothing reads, in training too:

8. GiNZA's trained pipes are not run (:func:`lean_spacy_model`, :data:`UNREAD_PIPES`). Rasa's
   ``SpacyNLP`` loads ``ja_ginza`` with only its parser disabled, so every message - each training
   example, each turn - went through GiNZA's tok2vec network, morphologizer, NER, compound
   splitter and bunsetu recognizer: about 26 ms a message here, the tokenizer alone 0.5 ms. No
   component of config.yml reads what they add: ``SpacyTokenizer`` reads each token's text,
   offset, lemma and tag (``tag_``: SudachiPy's part of speech, set by GiNZA's tokenizer),
   ``SpacyFeaturizer`` the static word vectors (in the vocabulary), the CountVectors and regex
   features the text and lemma; the morphologizer only re-predicts the coarse ``pos_``, which none
   reads, and the danger layer and the vocabulary extractor read the raw text. The test compares
   every field Rasa's components read, token by token, for both loads; the trained model and its
   predictions are the same. ``bosai train`` and ``bench/nlu_eval.py`` install it with
   replacement 2, so training featurises the 5,900 examples in seconds instead of about 2 minutes.

``tests/bot/test_rasa_speedups.py`` compares each with Rasa's own behaviour (same errors; the same
spaCy object in both nodes; the same parse and the same action probabilities from the model loaded
both ways). Figures: docs/performance.md, "Cold start".
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from types import SimpleNamespace
from typing import Any

import aiohttp
from rasa.core.actions.action import ActionExtractSlots, RemoteAction
from rasa.core.actions.forms import FormAction
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.core.processor import MessageProcessor
from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import ActiveLoop, Event, SlotSet
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.endpoints import ClientResponseError, EndpointConfig, concat_url
from rasa.utils.tensorflow.models import RasaModel

from bot.training import TRAINING_SPEEDUPS

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_applied = False
#: Rasa's own methods, kept for reference (tests compare both)
ORIGINAL = RemoteAction._validate_action_result
ORIGINAL_SPACY_LOAD = SpacyNLP.load_model
ORIGINAL_RASA_MODEL_LOAD: Any = RasaModel.__dict__["load"]  # the classmethod object
ORIGINAL_RUN_CUSTOM_ACTION = ActionExtractSlots._run_custom_action
ORIGINAL_ENDPOINT_REQUEST = EndpointConfig.request
ORIGINAL_FORM_DO = FormAction.do
ORIGINAL_PARSE_WITH_GRAPH = MessageProcessor._parse_message_with_graph


@functools.lru_cache(maxsize=1)
def response_validator() -> Any:
    """The validator of Rasa's action-response schema (schema checked once)."""
    from jsonschema.validators import validator_for

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the validator built once."""
    from jsonschema import exceptions

    error = exceptions.best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


#: The pipes of a spaCy model that no component of config.yml reads (replacement 8), per model
#: name: they are disabled after Rasa's own load (which disables the parser).
UNREAD_PIPES: dict[str, tuple[str, ...]] = {
    "ja_ginza": ("tok2vec", "morphologizer", "ner", "compound_splitter", "bunsetu_recognizer"),
}
_lean = False  # set by apply() when replacement 8 is selected


def lean_spacy_model(spacy_model_name: str) -> SpacyModel:
    """``SpacyNLP.load_model`` (same checks, same errors) with :data:`UNREAD_PIPES` disabled."""
    model = ORIGINAL_SPACY_LOAD(spacy_model_name)
    for pipe in UNREAD_PIPES.get(spacy_model_name, ()):
        if pipe in model.model.pipe_names:
            model.model.disable_pipe(pipe)
    return model


@functools.cache
def shared_spacy_model(spacy_model_name: str) -> SpacyModel:
    """``SpacyNLP.load_model`` done once per model name in this process (same checks, same
    errors: an error is not cached, so the next node raises it again); lean when replacement 8
    is installed too."""
    return (lean_spacy_model if _lean else ORIGINAL_SPACY_LOAD)(spacy_model_name)


def load_rasa_model(
    cls: Any,
    model_file_name: str,
    model_data_example: Any,
    predict_data_example: Any = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """``RasaModel.load`` (rasa/utils/tensorflow/models.py, Rasa 3.6.21) with the weights built by
    one eager forward pass instead of a traced training step; everything else as Rasa does it.

    The pass is Rasa's own ``batch_loss`` on the same one-example batch ``model.fit`` gives
    ``train_step``, so the same layers create the same variables; no gradients and no optimizer
    step (the optimizer's slots are what a checkpoint would restore for further training only).
    After ``load_weights`` every variable that exists must have been restored from the checkpoint
    (``assert_existing_objects_matched``); if anything here fails, Rasa's own method loads the
    model instead. Fine-tuning always uses Rasa's method (it trains on from the optimizer state).
    """
    original = ORIGINAL_RASA_MODEL_LOAD.__func__
    if finetune_mode:
        return original(
            cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
            *args, **kwargs,
        )
    try:
        import tensorflow as tf
        from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
        from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator

        model = cls(*args, **kwargs)
        learning_rate = kwargs.get("config", {}).get(LEARNING_RATE, 0.001)
        run_eagerly = kwargs.get("config", {}).get(RUN_EAGERLY)

        def build_step(batch_in: Any) -> Any:
            model._training = True  # as in RasaModel.train_step
            model.batch_loss(batch_in)
            model._training = None
            return model._get_metric_results()

        model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), run_eagerly=True)
        model.train_step = build_step
        model.fit(RasaBatchDataGenerator(model_data_example, batch_size=1), verbose=False)
        del model.train_step
        model.run_eagerly = run_eagerly  # predictions: graph functions, as after Rasa's load
        model.train_function = None
        status = model.load_weights(model_file_name)
        status.assert_existing_objects_matched()
        status.expect_partial()  # the optimizer's slot values stay in the checkpoint
    except Exception:  # noqa: BLE001 - any surprise: Rasa's own way, slower but known
        logger.warning("eager weight building failed; loading %s Rasa's way", cls.__name__,
                       exc_info=True)
        return original(
            cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
            *args, **kwargs,
        )
    # predict on one data example, as Rasa does: traces the prediction function now
    if predict_data_example:
        trace_without_autograph(model, predict_data_example)
    return model


def trace_without_autograph(model: Any, model_data: Any) -> None:
    """Rasa's one-example prediction at load (``run_inference``), with the prediction function
    Rasa's ``_rasa_predict`` would build (``tf.function(predict_step, input_signature=...)``, the
    same signature from the same first batch) given beforehand, traced without AutoGraph.
    AutoGraph rewrites the Python source of every function ``predict_step`` calls (about 200 for
    DIET and TED) before tracing - most of the load; DIET's and TED's prediction code branches only
    on Python values (configuration, shapes known when tracing), so the traced graph is the same,
    and a branch on a tensor would fail at this trace rather than change an answer. Any failure:
    the prediction runs again with Rasa's own function."""
    import tensorflow as tf
    from rasa.utils import train_utils

    if not getattr(model, "_run_eagerly", False) and model._tf_predict_step is None:
        try:
            generator, _ = train_utils.create_data_generators(
                model_data=model_data, batch_sizes=1, epochs=1, shuffle=False
            )
            batch_in = next(iter(generator))[0]
            model._tf_predict_step = tf.function(
                model.predict_step, input_signature=model._dynamic_signature(batch_in),
                autograph=False,
            )
            model.run_inference(model_data)  # traces it
            return
        except Exception:  # noqa: BLE001 - Rasa's own (AutoGraph) function below
            logger.warning("tracing %s without AutoGraph failed; Rasa's way", type(model).__name__,
                           exc_info=True)
            model._tf_predict_step = None
    model.run_inference(model_data)


def detect_language_events(tracker: Any) -> list[Event]:
    """What ``action_detect_language`` (actions/common.py) answers, computed from Rasa's tracker:
    the action reads the latest message's intent, text and ``language`` entities and the
    ``language`` slot from the tracker Rasa posts (``current_state()``), which are these."""
    from actions.parsing import detect_language

    latest = tracker.latest_message
    intent = (latest.intent or {}).get("name") if latest is not None else None
    text = str((latest.text if latest is not None else None) or "")
    entities = [
        e.get("value")
        for e in (latest.entities if latest is not None else None) or []
        if e.get("entity") == "language" and e.get("value") is not None
    ]
    current = tracker.get_slot("language")
    lang = detect_language(intent, text, entities, current)
    if lang and lang != current:
        return [SlotSet("language", lang)]
    return []


def repeats_activation_validation(form: FormAction, tracker: Any, domain: Any,
                                  events_so_far: list[Event]) -> bool:
    """Whether ``FormAction.do`` is about to ask the validation action again with no slot to
    validate, after ``activate`` asked it with none and got no events: the form was activated
    in this run (not yet active on the tracker, and ``activate`` returned nothing but the
    ``ActiveLoop`` event), no required slot is filled (so ``activate`` validated ``{}``), and no
    required slot was set since the user's message (so ``validate`` would validate ``{}``)."""
    if tracker.active_loop_name == form.name():
        return False
    if any(not isinstance(e, ActiveLoop) for e in events_so_far):
        return False
    if any(tracker.get_slot(name) is not None for name in form.required_slots(domain)):
        return False
    return not form._get_slot_extractions(tracker, domain)


async def form_do(
    self: FormAction,
    output_channel: Any,
    nlg: Any,
    tracker: Any,
    domain: Any,
    events_so_far: list[Event],
) -> list[Event]:
    """``FormAction.do`` without the repeated validation call (see the module docstring)."""
    if not repeats_activation_validation(self, tracker, domain, events_so_far):
        return await ORIGINAL_FORM_DO(self, output_channel, nlg, tracker, domain, events_so_far)
    # what ``do`` returns when the repeated validation answers [] (as it did a moment ago)
    return await self.request_next_slot(tracker, domain, output_channel, nlg, events_so_far)


def unpacked_payload(text: str | None, domain: Any) -> Any:
    """What ``RegexMessageHandler`` (the predict graph's last node) makes of ``text``: a new
    message for a payload that names an intent of ``domain``, else None."""
    if not text or not text.strip().startswith("/"):
        return None
    # A slash text that is no payload, or names no intent of the domain, runs the graph, whose
    # RegexMessageHandler then warns about it: not unpacked (and warned about) here first.
    match = YAMLStoryReader._regex_message_pattern().match(text.strip())
    if match is None or (domain and match.group(INTENT_NAME_KEY).strip() not in domain.intents):
        return None
    original = Message({TEXT: text})
    unpacked = YAMLStoryReader.unpack_regex_message(
        original, domain, entity_extractor_name=RegexMessageHandler.__name__
    )
    if unpacked is original or not unpacked.get(INTENT):
        return None
    return unpacked


def parse_with_graph(
    self: MessageProcessor, message: Any, tracker: Any, only_output_properties: bool = True
) -> dict[str, Any]:
    """``MessageProcessor._parse_message_with_graph`` without running the NLU pipeline on a
    payload whose result the graph's last node replaces (see the module docstring)."""
    unpacked = unpacked_payload(message.text, self.domain)
    if unpacked is None:
        return ORIGINAL_PARSE_WITH_GRAPH(self, message, tracker, only_output_properties)
    parse_data: dict[str, Any] = {
        TEXT: "",
        INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0},
        ENTITIES: [],
    }
    parse_data.update(unpacked.as_dict(only_output_properties=only_output_properties))
    return parse_data


#: custom slot mappings answered in the Rasa process: action name -> events from the tracker
LOCAL_SLOT_ACTIONS = {"action_detect_language": detect_language_events}


async def run_custom_action(
    self: ActionExtractSlots,
    custom_action: str,
    output_channel: Any,
    nlg: Any,
    tracker: Any,
    domain: Any,
) -> list[Event]:
    """``ActionExtractSlots._run_custom_action`` with :data:`LOCAL_SLOT_ACTIONS` run here."""
    local = LOCAL_SLOT_ACTIONS.get(custom_action)
    if local is None:
        return await ORIGINAL_RUN_CUSTOM_ACTION(self, custom_action, output_channel, nlg, tracker, domain)
    return local(tracker)


#: idle kept connections are closed after this (Sanic closes them after 5 s)
KEEPALIVE_SECONDS = 2.0
_kept: dict[tuple[Any, ...], tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession]] = {}


def _trace_config() -> aiohttp.TraceConfig:
    config = aiohttp.TraceConfig()

    async def reused(session: Any, ctx: SimpleNamespace, params: Any) -> None:
        if ctx.trace_request_ctx is not None:
            ctx.trace_request_ctx.reused = True

    config.on_connection_reuseconn.append(reused)  # type: ignore[arg-type]
    return config


def kept_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    """The kept session for ``endpoint``'s settings in the running event loop (what
    ``EndpointConfig.session()`` builds, plus a connector that keeps connections)."""
    loop = asyncio.get_running_loop()
    auth = tuple(sorted((endpoint.basic_auth or {}).items()))
    key = (id(loop), tuple(sorted((endpoint.headers or {}).items())), auth)
    held = _kept.get(key)
    if held is not None and held[0] is loop and not held[1].closed:
        return held[1]
    for stale in [k for k, (old_loop, _) in _kept.items() if old_loop.is_closed()]:
        del _kept[stale]  # sessions of loops that are gone (tests run one loop each)
    basic = aiohttp.BasicAuth(**dict(auth)) if auth else None
    session = aiohttp.ClientSession(
        headers=endpoint.headers,
        auth=basic,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
        trace_configs=[_trace_config()],
    )
    _kept[key] = (loop, session)
    return session


async def endpoint_request(
    self: EndpointConfig,
    method: str = "post",
    subpath: str | None = None,
    content_type: str | None = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any:
    """``EndpointConfig.request`` (rasa/utils/endpoints.py, Rasa 3.6.21) on a kept session;
    headers, URL, parameters, errors and the answer exactly as Rasa builds them. TLS with a
    private CA file (``cafile``) is left to Rasa's own request (its file checks and errors)."""
    if self.cafile:
        return await ORIGINAL_ENDPOINT_REQUEST(
            self, method, subpath, content_type, compress, **kwargs
        )
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if "headers" in kwargs:
        headers.update(kwargs["headers"])
        del kwargs["headers"]
    if self.headers:
        headers.update(self.headers)
    url = concat_url(self.url, subpath)
    params = self.combine_parameters(kwargs)
    session = kept_session(self)
    for attempt in (1, 2):
        ctx = SimpleNamespace(reused=False)
        try:
            async with session.request(
                method,
                url,
                headers=headers,
                params=params,
                compress=compress,
                ssl=None,
                trace_request_ctx=ctx,
                **kwargs,
            ) as response:
                if response.status >= 400:
                    raise ClientResponseError(
                        response.status, response.reason, await response.content.read()
                    )
                try:
                    return await response.json()
                except aiohttp.ContentTypeError:
                    return None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
            if attempt == 2 or not ctx.reused:
                raise
            logger.debug("kept connection to %s was closed by the server; new connection", url)
    raise AssertionError("unreachable")


#: the replacements by name; ``BOSAI_RASA_SPEEDUPS`` (comma-separated names, or ``none``) picks
#: some of them - for measuring each one (bench/turn_latency.py ``--speedups``) and as a way back
#: to Rasa's own behaviour should a Rasa upgrade break one. Default: all.
NAMES = ("schema", "spacy", "eager", "language", "keepalive", "form", "payload", "pipes")
#: the replacements that change nothing but time in training (``bosai train``, bench/nlu_eval.py)
TRAINING = TRAINING_SPEEDUPS


def selected(value: str | None) -> set[str]:
    """The replacements that ``BOSAI_RASA_SPEEDUPS=value`` selects (unset or empty: all)."""
    if value is None or not value.strip():
        return set(NAMES)
    names = {v.strip() for v in value.split(",") if v.strip()}
    if names == {"none"}:
        return set()
    unknown = names - set(NAMES)
    if unknown:
        raise ValueError(f"BOSAI_RASA_SPEEDUPS: unknown {sorted(unknown)}; known: {NAMES}, none")
    return names


def apply(names: set[str] | None = None) -> None:
    """Install the replacements above on Rasa's classes (idempotent; by default those that
    ``BOSAI_RASA_SPEEDUPS`` selects)."""
    global _applied, _lean
    with _lock:
        if _applied:
            return
        if names is None:
            names = selected(os.environ.get("BOSAI_RASA_SPEEDUPS"))
        if "schema" in names:
            RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
        _lean = "pipes" in names
        if "spacy" in names:
            SpacyNLP.load_model = staticmethod(shared_spacy_model)  # type: ignore[method-assign,assignment]
        elif _lean:
            SpacyNLP.load_model = staticmethod(lean_spacy_model)  # type: ignore[method-assign,assignment]
        if "eager" in names:
            RasaModel.load = classmethod(load_rasa_model)  # type: ignore[method-assign,assignment]
        if "language" in names:
            ActionExtractSlots._run_custom_action = run_custom_action  # type: ignore[method-assign]
        if "keepalive" in names:
            EndpointConfig.request = endpoint_request  # type: ignore[method-assign]
        if "form" in names:
            FormAction.do = form_do  # type: ignore[method-assign]
        if "payload" in names:
            MessageProcessor._parse_message_with_graph = parse_with_graph  # type: ignore[method-assign]
        _applied = True
