"""Cancel, correct, language detection, a location outside forms, disaster information."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.common import (
    ActionCancelForm,
    ActionCorrectForm,
    ActionDetectLanguage,
    ActionReceiveLocation,
)
from actions.forms.location import CLEARED
from actions.info import ActionAnswerDisasterInfo
from tests.actions.conftest import make_tracker, responses, run


def test_cancel_forgets_the_form(env, domain):
    history = [{"event": "active_loop", "name": "supply_request_form"}, {"event": "active_loop", "name": None}]
    tracker = make_tracker({"supplies": ["water"], "requested_slot": None}, text="やめる", intent="cancel", events=history)
    events, messages = run(ActionCancelForm(), tracker, domain)
    assert responses(messages) == ["utter_cancelled"]
    assert SlotSet("supplies", None) in events and SlotSet("supply_headcount", None) in events
    assert SlotSet("latitude", None) in events and SlotSet("requested_slot", None) in events


def test_correct_asks_the_previous_answer_again(env, domain):
    slots = {"place_type": "car", "location": "現在地", "location_confirm": True, "latitude": 41.7,
             "longitude": 140.7, "headcount": 3, "requested_slot": "vulnerable"}
    tracker = make_tracker(slots, text="間違えた", intent="correct", active_loop="register_evacuation_form")
    events, messages = run(ActionCorrectForm(), tracker, domain)
    assert events == [SlotSet("headcount", None)]
    assert responses(messages) == ["utter_correct_again"]

    slots["requested_slot"] = "headcount"
    tracker = make_tracker(slots, text="間違えた", intent="correct", active_loop="register_evacuation_form")
    events, _ = run(ActionCorrectForm(), tracker, domain)
    assert events == [SlotSet(k, v) for k, v in CLEARED.items()]


def test_correct_at_the_read_back_opens_the_fix_question(env, domain):
    tracker = make_tracker({"requested_slot": "report_confirm"}, text="間違えた", intent="correct",
                           active_loop="report_damage_form")
    events, messages = run(ActionCorrectForm(), tracker, domain)
    assert events == [SlotSet("report_confirm", False), SlotSet("report_fix", None)]
    assert responses(messages) == ["utter_correct_again"]


def test_correct_at_first_question(env, domain):
    tracker = make_tracker({"requested_slot": "supplies"}, text="間違えた", intent="correct",
                           active_loop="supply_request_form")
    events, messages = run(ActionCorrectForm(), tracker, domain)
    assert events == [] and responses(messages) == ["utter_correct_nothing"]


def test_correct_with_the_new_value_in_the_same_message(env, domain):
    slots = {"place_type": "car", "location": "現在地", "location_confirm": True, "latitude": 41.7,
             "longitude": 140.7, "headcount": 3, "requested_slot": "vulnerable"}
    for text, expected in [("間違えた、4人", 4), ("3人じゃなくて5人でした", 5), ("訂正します、二名です", 2),
                           ("sorry I meant 6 people", 6), ("ミスった、ふたりだわ", 2)]:
        tracker = make_tracker(slots, text=text, intent="correct", active_loop="register_evacuation_form")
        events, messages = run(ActionCorrectForm(), tracker, domain)
        assert events == [SlotSet("headcount", expected)], text
        assert messages[0]["response"] == "utter_corrected" and messages[0]["value"] == f"{expected}人"

    # The value may belong to an earlier answer than the last one: the place type here.
    tracker = make_tracker(slots, text="間違えた、車じゃなくて自宅です", intent="correct",
                           active_loop="register_evacuation_form")
    events, messages = run(ActionCorrectForm(), tracker, domain)
    assert events == [SlotSet("place_type", "home")]
    assert messages[0]["value"] == "自宅"

    # No value in the message (a number word that is not a headcount included): ask again.
    for text in ("一つ前に戻りたい", "間違えた", "さっきの取り消して入れ直したい"):
        tracker = make_tracker(slots, text=text, intent="correct", active_loop="register_evacuation_form")
        events, messages = run(ActionCorrectForm(), tracker, domain)
        assert events == [SlotSet("headcount", None)], text
        assert responses(messages) == ["utter_correct_again"]


def test_correct_with_a_value_at_the_read_back_shows_it_again(env, domain):
    slots = {"damage_type": "road_flooded", "location": "現在地", "location_confirm": True,
             "latitude": 41.7, "longitude": 140.7, "description": "道路が冠水", "affected": 0,
             "photo_ref": "none", "urgency": "normal", "requested_slot": "report_confirm", "language": "en"}
    tracker = make_tracker(slots, text="wrong, it's 2 people", intent="correct", active_loop="report_damage_form")
    events, messages = run(ActionCorrectForm(), tracker, domain)
    assert events == [SlotSet("affected", 2), SlotSet("report_confirm", None), SlotSet("report_fix", None)]
    assert messages[0]["value"] == "2 people"
    tracker = make_tracker(slots, text="間違えた、冠水じゃなくて土砂崩れ", intent="correct",
                           active_loop="report_damage_form")
    events, _ = run(ActionCorrectForm(), tracker, domain)
    assert events[0] == SlotSet("damage_type", "landslide")


def test_language_detection(env, domain):
    action = ActionDetectLanguage()
    assert run(action, make_tracker(text="/lang en"), domain) == ([SlotSet("language", "en")], [])
    tracker = make_tracker(text="英語でお願いします", intent="set_language",
                           entities=[{"entity": "language", "value": "英語"}])
    assert run(action, tracker, domain)[0] == [SlotSet("language", "en")]
    assert run(action, make_tracker(text="Where is the nearest shelter?"), domain)[0] == [SlotSet("language", "en")]
    assert run(action, make_tracker(text="避難所はどこ"), domain)[0] == []
    assert run(action, make_tracker({"language": "en"}, text="/lang ja"), domain)[0] == [SlotSet("language", "ja")]
    assert run(action, make_tracker({"language": "en"}, text="函館駅"), domain)[0] == []


def test_location_outside_a_form(env, domain):
    tracker = make_tracker({"latitude": 41.7, "longitude": 140.7}, text="/share_location", intent="share_location")
    events, messages = run(ActionReceiveLocation(), tracker, domain)
    assert events == [SlotSet("location", "現在地"), SlotSet("location_source", "gps"),
                      SlotSet("location_address", None), SlotSet("location_confirm", True)]
    assert responses(messages) == ["utter_location_received"]
    events, messages = run(ActionReceiveLocation(), make_tracker(text="/share_location", intent="share_location"),
                           domain)
    assert responses(messages) == ["utter_location_invalid"]


def test_disaster_info_without_notices_points_to_the_municipality(env, domain):
    events, messages = run(ActionAnswerDisasterInfo(), make_tracker(intent="ask_disaster_info"), domain)
    assert events == [] and responses(messages) == ["utter_no_notices"]


def test_fallback_handles_the_language_command(env, domain):
    from actions.common import ActionHandleFallback

    _, messages = run(ActionHandleFallback(), make_tracker({"language": "en"}, text="/lang en", intent="nlu_fallback"),
                      domain)
    assert responses(messages) == ["utter_language_set"]
    _, messages = run(ActionHandleFallback(), make_tracker(text="ほげほげ", intent="nlu_fallback"), domain)
    assert responses(messages) == ["utter_default"]
