"""Location slots: payload, a confident site name, an unsure text read back and denied."""

from __future__ import annotations

from actions.forms.hazards import ValidateHazardCheckForm
from actions.forms.location import CLEARED
from tests.actions.conftest import make_tracker, responses, validate


def test_location_payload_is_used(env, domain):
    tracker = make_tracker({"latitude": 41.77, "longitude": 140.73}, text='/share_location{"latitude": 41.77}',
                           intent="share_location", active_loop="hazard_check_form")
    result, messages = validate(ValidateHazardCheckForm(), "validate_location", "現在地", tracker, domain)
    assert result == {"location": "現在地", "location_source": "gps", "location_address": None,
                      "location_confirm": True, "latitude": 41.77, "longitude": 140.73}
    assert responses(messages) == ["utter_location_gps"]


def test_confident_site_name_is_announced(env, domain):
    tracker = make_tracker(text="函館市役所の近くです", intent="inform", active_loop="hazard_check_form")
    result, messages = validate(ValidateHazardCheckForm(), "validate_location", "函館市役所の近くです", tracker, domain)
    assert result["location"] == "函館市役所"
    assert result["location_confirm"] is True
    assert result["location_source"] == "site"
    assert 41.7 < result["latitude"] < 41.8 and 140.7 < result["longitude"] < 140.8
    assert responses(messages) == ["utter_location_understood"]


def test_unsure_text_is_read_back_then_denied(env, domain):
    tracker = make_tracker(text="はこだて市民館", intent="inform", active_loop="hazard_check_form")
    result, messages = validate(ValidateHazardCheckForm(), "validate_location", "はこだて市民館", tracker, domain)
    assert result["location"] and result["location_confirm"] is None
    assert messages == []  # the form asks utter_ask_location_confirm next
    deny = make_tracker(result, text="/deny", intent="deny", active_loop="hazard_check_form")
    result2, messages2 = validate(ValidateHazardCheckForm(), "validate_location_confirm", "/deny", deny, domain)
    assert result2 == CLEARED
    assert responses(messages2) == ["utter_location_retry"]
    yes = make_tracker(result, text="はい", intent="affirm", active_loop="hazard_check_form")
    result3, messages3 = validate(ValidateHazardCheckForm(), "validate_location_confirm", "はい", yes, domain)
    assert result3 == {"location_confirm": True} and messages3 == []


def test_unknown_place(env, domain):
    tracker = make_tracker(text="ぱぴぷぺぽ", intent="inform", active_loop="hazard_check_form")
    result, messages = validate(ValidateHazardCheckForm(), "validate_location", "ぱぴぷぺぽ", tracker, domain)
    assert result == CLEARED
    assert responses(messages) == ["utter_location_not_found"]


def test_location_kept_from_an_earlier_question_is_not_searched_again(env, domain):
    slots = {"location": "函館市役所", "location_confirm": True, "latitude": 41.7687, "longitude": 140.7289,
             "location_source": "site"}
    tracker = make_tracker(slots, text="水がほしい", intent="request_supplies", active_loop="supply_request_form")
    result, messages = validate(ValidateHazardCheckForm(), "validate_location", "函館市役所", tracker, domain)
    assert result == {"location": "函館市役所"} and messages == []
