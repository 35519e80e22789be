"""Entities from paraphrase: what DIET did not tag, read from the text with the vocabulary.

Residents rarely write the words DIET was trained on: 「川があふれそう」 is the hazard flood,
「家が傾いた」 building damage, 「車で様子見てる」 the place type car, 「毛布足りない、トイレ使えない」
two supplies, 「2階に大人3 子ども1」 a head-count of 4, and 「〇〇町3丁目12-4の青い屋根の家」 a place
for the officials. For every entity type DIET (or any earlier extractor) did not extract in a
message, this component adds what :mod:`bot.vocabulary` finds in the text, denials respected
(「けがはない」 gives no injured_person). Values are codes already (it runs after
EntitySynonymMapper).

Modelled on Rasa 3.6's ``RegexEntityExtractor`` (``rasa/nlu/extractors/regex_entity_extractor.py``):
a GraphComponent with ``EntityExtractorMixin`` that appends to the message's ``entities`` with
``add_to_output=True``; unlike it, nothing is trained or persisted (the vocabulary is the model).
The place text is never logged.

config.yml, after EntitySynonymMapper::

    - name: bot.nlu.vocabulary_extractor.VocabularyEntityExtractor
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from actions.parsing import head_count, place_text_span
from bot import vocabulary
from bot.nlu.base import RuleComponent

NUMBER = "number"
PLACE_TEXT = "place_text"
# Entity types read by default: those of the vocabulary groups that extract, then the two below.
DEFAULT_ENTITIES = (
    "hazard",
    "damage_type",
    "place_type",
    "congestion",
    "supply",
    NUMBER,
    PLACE_TEXT,
)


def extract_entities(
    text: str,
    skip: set[str] | frozenset[str] = frozenset(),
    entities: tuple[str, ...] = DEFAULT_ENTITIES,
) -> list[dict[str, Any]]:
    """The entities the vocabulary finds in ``text`` (types in ``skip`` left out), in text order.

    >>> [(e["entity"], e["value"]) for e in extract_entities("川があふれそう、毛布がない")]
    [('hazard', 'flood'), ('damage_type', 'river_rising'), ('supply', 'blankets')]
    """
    found: list[dict[str, Any]] = []
    if not text or text.lstrip().startswith("/"):
        return found
    for entity in entities:
        if entity in skip:
            continue
        if entity == NUMBER:
            said = head_count(text)
            if said is not None:
                found.append(_entity(NUMBER, str(said[0]), said[1], said[2]))
            continue
        if entity == PLACE_TEXT:
            span = place_text_span(text)
            if span is not None:
                found.append(_entity(PLACE_TEXT, text[span[0] : span[1]], *span))
            continue
        group = vocabulary.entity_group(entity)
        if group is None:
            continue
        for hit in vocabulary.extract(group, text):
            found.append(_entity(entity, hit.code, hit.start, hit.end))
    found.sort(key=lambda e: (e[ENTITY_ATTRIBUTE_START], e[ENTITY_ATTRIBUTE_END]))
    return found


def _entity(entity: str, value: str, start: int, end: int) -> dict[str, Any]:
    return {
        ENTITY_ATTRIBUTE_TYPE: entity,
        ENTITY_ATTRIBUTE_START: start,
        ENTITY_ATTRIBUTE_END: end,
        ENTITY_ATTRIBUTE_VALUE: value,
    }


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class VocabularyEntityExtractor(RuleComponent, EntityExtractorMixin):
    """Adds vocabulary entities for the entity types no earlier extractor found in a message.

    Config: ``entities`` — the entity types to read (default: hazard, damage_type, place_type,
    congestion, supply, number, place_text).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"entities": list(DEFAULT_ENTITIES)}

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = {**self.get_default_config(), **config}
        self._entities = tuple(self._config["entities"])
        unknown = [
            e
            for e in self._entities
            if e not in (NUMBER, PLACE_TEXT) and vocabulary.entity_group(e) is None
        ]
        if unknown:
            raise ValueError(f"{type(self).__name__}: no vocabulary group for entities {unknown}")

    def process(self, messages: list[Message]) -> list[Message]:
        """Append the vocabulary's entities to each message (types already extracted are kept)."""
        for message in messages:
            existing = list(message.get(ENTITIES) or [])
            skip = {e.get(ENTITY_ATTRIBUTE_TYPE) for e in existing}
            added = extract_entities(message.get(TEXT) or "", skip, self._entities)
            if added:
                message.set(ENTITIES, existing + self.add_extractor_name(added), add_to_output=True)
        return messages
