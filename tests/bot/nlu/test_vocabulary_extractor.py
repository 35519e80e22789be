"""VocabularyEntityExtractor on Rasa messages: entities from paraphrase, negation respected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.vocabulary_extractor import VocabularyEntityExtractor, extract_entities
from bot.settings import REPO_ROOT

NAME = "VocabularyEntityExtractor"


@pytest.fixture()
def extractor(tmp_path: Path) -> VocabularyEntityExtractor:
    return VocabularyEntityExtractor.create(
        VocabularyEntityExtractor.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("vocabulary_extractor"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def _run(
    extractor: VocabularyEntityExtractor, text: str, entities: list[dict[str, Any]] | None = None
) -> Message:
    data: dict[str, Any] = {"text": text}
    if entities is not None:
        data["entities"] = entities
    message = Message(data=data)
    extractor.process([message])
    return message


def _found(message: Message) -> list[tuple[str, str, str]]:
    text = message.get("text")
    return [
        (e["entity"], e["value"], text[e["start"] : e["end"]])
        for e in message.get("entities") or []
        if e.get("extractor") == NAME
    ]


def test_hazard_from_paraphrase(extractor):
    assert ("hazard", "flood", "川があふれ") in _found(_run(extractor, "川があふれそう"))


def test_building_damage_from_paraphrase(extractor):
    assert _found(_run(extractor, "家が傾いた")) == [("damage_type", "building_damage", "家が傾")]


def test_supply_list(extractor):
    found = _found(_run(extractor, "毛布足りない、トイレ使えない、高齢者多い"))
    assert [(e, v) for e, v, _ in found] == [("supply", "blankets"), ("supply", "toilet")]


def test_head_count_and_place_text(extractor):
    text = "〇〇町3丁目12-4の青い屋根の家、2階に大人3 子ども1 水きてる"
    found = _found(_run(extractor, text))
    assert ("place_text", "〇〇町3丁目12-4の青い屋根の家", "〇〇町3丁目12-4の青い屋根の家") in found
    assert ("number", "4", "大人3 子ども1") in found
    assert ("damage_type", "road_flooded", "水きて") in found
    assert not any(e == "supply" for e, _, _ in found)  # 水 of 水きてる is no supply


def test_place_text_of_a_city_address(extractor):
    found = _found(_run(extractor, "札幌市北区〇〇2条5丁目の実家、祖母と連絡が取れない"))
    assert ("place_text", "札幌市北区〇〇2条5丁目の実家", "札幌市北区〇〇2条5丁目の実家") in found
    assert ("damage_type", "missing_contact", "連絡が取れない") in found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # floodwater going down is the flood, not the supply water (a review found supply water)
        ("水ひいたから家に戻った", ("hazard", "flood", "水ひい")),
        ("水が引いたので片付けてます", ("hazard", "flood", "水が引い")),
        # the water supply stopped, in kana: an outage, not a request for water
        ("水道とまった", ("damage_type", "water_outage", "水道とまっ")),
        ("すいどうとまってる", ("damage_type", "water_outage", "すいどうとまっ")),
    ],
)
def test_water_that_is_no_supply(extractor, text, expected):
    found = _found(_run(extractor, text))
    assert expected in found
    assert not any(e == "supply" for e, _, _ in found)


def test_place_type_only_where_someone_stays(extractor):
    assert _found(_run(extractor, "車で様子見てる")) == [("place_type", "car", "車で様子見")]
    assert not any(e == "place_type" for e, _, _ in _found(_run(extractor, "車が流された")))


@pytest.mark.parametrize("text", ["けがはない", "停電していない", "水は出ます", "けが人はいません"])
def test_denied_words_give_no_entity(extractor, text):
    message = _run(extractor, text)
    assert _found(message) == []
    assert message.get("entities") is None  # nothing added, no attribute created


def test_types_diet_extracted_are_left_alone(extractor):
    diet = {
        "entity": "damage_type",
        "value": "road_flooded",
        "start": 0,
        "end": 2,
        "extractor": "DIETClassifier",
    }
    message = _run(extractor, "冠水して家が傾いた、毛布がない", [diet])
    entities = message.get("entities")
    assert entities[0] == diet
    assert [e["entity"] for e in entities if e["entity"] == "damage_type"] == ["damage_type"]
    assert ("supply", "blankets", "毛布") in _found(message)


def test_payloads_are_skipped(extractor):
    message = _run(extractor, '/inform{"damage_type": "fire"}', [])
    assert message.get("entities") == []


def test_entity_shape_is_rasa_s(extractor):
    (entity,) = _run(extractor, "カイロ").get("entities")
    assert entity == {"entity": "supply", "start": 0, "end": 3, "value": "other", "extractor": NAME}


def test_config_restricts_the_entity_types(tmp_path):
    only_supply = VocabularyEntityExtractor.create(
        {"entities": ["supply"]},
        LocalModelStorage(tmp_path),
        Resource("x"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    assert _found(_run(only_supply, "川があふれそう、水がない")) == [
        ("supply", "water", "水がない")
    ]
    with pytest.raises(ValueError, match="no vocabulary group"):
        VocabularyEntityExtractor({"entities": ["nonsense"]})


def test_training_data_passes_through(extractor):
    data = TrainingData([Message(data={"text": "家が傾いた", "intent": "report_damage"})])
    assert extractor.process_training_data(data) is data
    assert data.training_examples[0].get("entities") is None


def test_extract_entities_in_text_order():
    found = extract_entities("電気つかない、スマホの充電あと10%")
    assert [(e["entity"], e["value"]) for e in found] == [
        ("damage_type", "power_outage"),
        ("supply", "power"),
    ]
    assert extract_entities("") == []


def test_registered_in_the_default_recipe_after_the_synonym_mapper():
    from rasa.engine import validation
    from rasa.engine.recipes.recipe import Recipe
    from rasa.shared.data import TrainingType

    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text(encoding="utf-8"))
    names = [p["name"] for p in config["pipeline"]]
    if "bot.nlu.vocabulary_extractor.VocabularyEntityExtractor" not in names:
        config["pipeline"].insert(
            names.index("EntitySynonymMapper") + 1,
            {"name": "bot.nlu.vocabulary_extractor.VocabularyEntityExtractor"},
        )
    graph = Recipe.recipe_for_name("default.v1").graph_config_for_recipe(
        config, {}, training_type=TrainingType.NLU
    )
    validation.validate(graph)
    assert any(NAME in node for node in graph.predict_schema.nodes)
    assert not any(NAME in node for node in graph.train_schema.nodes)  # nothing to train
