"""What every rule-based (untrained) NLU component of ours shares: built from its config alone,
leaves the training data as it is. Kept apart so that the components can import it without
importing each other."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.training_data import TrainingData
from typing_extensions import Self


class RuleComponent(GraphComponent):
    """A graph component with no training: ``create`` passes the config to the subclass's
    ``__init__(config)``."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Self:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
