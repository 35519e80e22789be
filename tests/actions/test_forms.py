"""Form validators read entity values first (codes) and fall back to the vocabulary on the text."""

from __future__ import annotations

from typing import Any

from actions.forms.evacuation import ValidateRegisterEvacuationForm
from actions.forms.reports import ValidateReportDamageForm, ValidateShelterStatusForm
from actions.forms.shelters import ValidateShelterSearchForm
from actions.forms.supplies import ValidateSupplyRequestForm
from tests.actions.conftest import make_tracker, responses, validate

DOMAIN: dict[str, Any] = {}  # the validators utter by response name only


def _ent(entity: str, value: Any, extractor: str = "DIETClassifier") -> dict[str, Any]:
    return {"entity": entity, "value": value, "extractor": extractor}


def _urgency(text: str, slots: dict[str, Any] | None = None, entities=None):
    tracker = make_tracker(slots, text=text, intent="inform", entities=entities,
                           active_loop="report_damage_form")
    return validate(ValidateReportDamageForm(), "validate_urgency", text, tracker, DOMAIN)


def test_urgency_denied_is_low():
    assert _urgency("急ぎではありません") == ({"urgency": "low"}, [])
    assert _urgency("急ぎじゃないです") == ({"urgency": "low"}, [])


def test_urgency_from_the_button_entity():
    tracker = make_tracker(text='/inform{"urgency": "high"}', intent="inform",
                           entities=[_ent("urgency", "high", None)], active_loop="report_damage_form")
    assert validate(ValidateReportDamageForm(), "validate_urgency", "high", tracker, DOMAIN) == (
        {"urgency": "high"}, [])


def test_a_sentence_about_the_situation_goes_to_the_description_and_urgency_is_asked_again():
    slots = {"description": "家の前の道路が冠水"}
    result, messages = _urgency("交差点が膝まで水につかっています", slots)
    assert result == {"urgency": None, "description": "家の前の道路が冠水\n交差点が膝まで水につかっています"}
    assert responses(messages) == ["utter_description_added"]


def test_a_situation_said_with_its_urgency_keeps_both():
    result, messages = _urgency("至急です、道路が冠水して車が通れません", {"description": None})
    assert result == {"urgency": "critical", "description": "至急です、道路が冠水して車が通れません"}
    assert messages == []


def test_urgency_not_understood():
    result, messages = _urgency("うーん")
    assert result == {"urgency": None} and responses(messages) == ["utter_not_understood_answer"]
    result, messages = _urgency("急ぎ")
    assert result == {"urgency": "high"} and messages == []


def _damage(text: str, slot_value: Any, entities=None):
    tracker = make_tracker(text=text, intent="inform", entities=entities, active_loop="report_damage_form")
    return validate(ValidateReportDamageForm(), "validate_damage_type", slot_value, tracker, DOMAIN)


def test_damage_type_prefers_the_entity_code():
    assert _damage("冠水してる", "road_flooded", [_ent("damage_type", "road_flooded")])[0] == {
        "damage_type": "road_flooded"}


def test_damage_type_entity_value_that_is_no_category_goes_through_the_vocabulary():
    # 浸水 tagged damage_type is mapped to the hazard code "flood" by the synonym mapper
    result, _ = _damage("浸水してます", "flood", [_ent("damage_type", "flood")])
    assert result == {"damage_type": "road_flooded"}


def test_damage_type_entity_denied_by_the_text_is_not_taken():
    text = "停電はしてない、断水です"
    result, _ = _damage(text, "power_outage", [_ent("damage_type", "power_outage")])
    assert result == {"damage_type": "water_outage"}


def test_damage_type_from_paraphrases():
    assert _damage("家が傾いた", "家が傾いた")[0] == {"damage_type": "building_damage"}
    assert _damage("電気つかない", "電気つかない")[0] == {"damage_type": "power_outage"}
    result, messages = _damage("けがはないです", "けがはないです")
    assert result == {"damage_type": None} and responses(messages) == ["utter_not_understood_answer"]


def test_fix_field_from_words_and_entity():
    v = ValidateReportDamageForm()
    tracker = make_tracker(text="場所じゃなくて人数", intent="inform", active_loop="report_damage_form")
    result, messages = validate(v, "validate_report_fix", "場所じゃなくて人数", tracker, DOMAIN)
    assert result == {"affected": None, "report_confirm": None, "report_fix": None}
    assert responses(messages) == ["utter_correct_again"]
    tracker = make_tracker(text="写真", intent="inform", entities=[_ent("fix_field", "photo_ref")],
                           active_loop="report_damage_form")
    result, _ = validate(v, "validate_report_fix", "写真", tracker, DOMAIN)
    assert result == {"photo_ref": None, "report_confirm": None, "report_fix": None}


def test_hazard_fire_entity_is_large_fire():
    tracker = make_tracker(text="火事の避難場所", intent="find_shelter",
                           entities=[_ent("hazard", "fire")], active_loop="shelter_search_form")
    assert validate(ValidateShelterSearchForm(), "validate_hazard", "fire", tracker, DOMAIN) == (
        {"hazard": "large_fire"}, [])
    tracker = make_tracker(text="川があふれそう", intent="inform", active_loop="shelter_search_form")
    assert validate(ValidateShelterSearchForm(), "validate_hazard", "川があふれそう", tracker, DOMAIN) == (
        {"hazard": "flood"}, [])


def test_place_type_from_indirect_words():
    v = ValidateRegisterEvacuationForm()
    tracker = make_tracker(text="車で様子見てる", intent="inform", active_loop="register_evacuation_form")
    assert validate(v, "validate_place_type", "車で様子見てる", tracker, DOMAIN) == ({"place_type": "car"}, [])
    tracker = make_tracker(text="いいえ", intent="inform", active_loop="register_evacuation_form")
    result, messages = validate(v, "validate_place_type", "いいえ", tracker, DOMAIN)
    assert result == {"place_type": None} and responses(messages) == ["utter_not_understood_answer"]


def test_headcount_sums_groups_over_number_entities():
    v = ValidateRegisterEvacuationForm()
    tracker = make_tracker(text="2階に大人3 子ども1", intent="register_evacuation",
                           entities=[_ent("number", "3"), _ent("number", "1")],
                           active_loop="register_evacuation_form")
    assert validate(v, "validate_headcount", "3", tracker, DOMAIN) == ({"headcount": 4}, [])
    tracker = make_tracker(text="/inform{\"number\": 2}", intent="inform",
                           entities=[_ent("number", 2, None)], active_loop="register_evacuation_form")
    assert validate(v, "validate_headcount", 2, tracker, DOMAIN) == ({"headcount": 2}, [])


def test_vulnerable_from_ages_and_denials():
    v = ValidateRegisterEvacuationForm()
    tracker = make_tracker(text="88歳の祖父がいます", intent="inform", active_loop="register_evacuation_form")
    assert validate(v, "validate_vulnerable", "88歳の祖父がいます", tracker, DOMAIN) == (
        {"vulnerable": {"elderly": 1}}, [])
    tracker = make_tracker(text="高齢者はいません", intent="inform", active_loop="register_evacuation_form")
    assert validate(v, "validate_vulnerable", "高齢者はいません", tracker, DOMAIN) == ({"vulnerable": {}}, [])


def test_supplies_entities_plus_text_minus_what_is_enough():
    v = ValidateSupplyRequestForm()
    text = "水は足りてる、毛布とカイロがほしい"
    tracker = make_tracker(text=text, intent="request_supplies",
                           entities=[_ent("supply", "water"), _ent("supply", "blankets")],
                           active_loop="supply_request_form")
    assert validate(v, "validate_supplies", "water", tracker, DOMAIN) == (
        {"supplies": ["blankets", "other"]}, [])


def test_shortages_from_a_telegraphic_list():
    v = ValidateShelterStatusForm()
    text = "毛布足りない、トイレ使えない、高齢者多い"
    tracker = make_tracker(text=text, intent="report_shelter_status", active_loop="shelter_status_form")
    assert validate(v, "validate_shortages", text, tracker, DOMAIN) == (
        {"shortages": ["blankets", "toilet"]}, [])


def test_congestion_denied_crowding_is_vacant():
    v = ValidateShelterStatusForm()
    tracker = make_tracker(text="混雑はしていません", intent="inform", active_loop="shelter_status_form")
    assert validate(v, "validate_congestion", "混雑はしていません", tracker, DOMAIN) == (
        {"congestion": "vacant"}, [])
