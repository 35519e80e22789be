"""Rasa graph components of the NLU pipeline (registered in ``config.yml``).

Kept apart from :mod:`bot.nlu.danger` so that the pure detector can be used by the action
server and the channels without importing Rasa.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_RANKING_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.danger import (
    ASSISTANCE_INTENT,
    ASSISTANCE_OVERRIDES,
    EMERGENCY_INTENT,
    LIFE_THREAT_ENTITY,
    assess,
    load_lexicon,
)


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=False,
)
class DangerDetector(GraphComponent):
    """Marks threats to life before the policies see a message (see the module docstring).

    Config: ``lexicon`` (path; the packaged ``danger_lexicon.yml`` by default).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"lexicon": None}

    def __init__(self, config: dict[str, Any]) -> None:
        self._lexicon = load_lexicon(config.get("lexicon"))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DangerDetector:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._mark(message)
        return messages

    def _mark(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        if not text or text.startswith("/"):
            return
        found = assess(text, self._lexicon)
        intent = message.get(INTENT) or {}
        name = intent.get("name")
        if found.threat:
            entities = list(message.get(ENTITIES) or [])
            for m in found.matches:
                entities.append(
                    {
                        "entity": LIFE_THREAT_ENTITY,
                        "value": m.kind,
                        "start": m.start,
                        "end": m.end,
                        "confidence_entity": 1.0,
                        "extractor": type(self).__name__,
                    }
                )
            message.set(ENTITIES, entities, add_to_output=True)
            if name != EMERGENCY_INTENT:
                self._override(message, EMERGENCY_INTENT)
        elif found.assistance and name in ASSISTANCE_OVERRIDES:
            self._override(message, ASSISTANCE_INTENT)

    @staticmethod
    def _override(message: Message, intent_name: str) -> None:
        """Make ``intent_name`` the intent (confidence 1.0); the model's ranking stays below."""
        new = {"name": intent_name, "confidence": 1.0}
        ranking = [
            r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != intent_name
        ]
        message.set(INTENT, new, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [new, *ranking], add_to_output=True)
