"""Damage report form, read-back, storing; shelter status reports; supplies; evacuation."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.emergency import ActionPrepareUrgentReport
from actions.evacuation import ActionSubmitEvacuation
from actions.forms.evacuation import ValidateRegisterEvacuationForm
from actions.forms.location import CLEARED
from actions.forms.reports import ValidateReportDamageForm
from actions.reports import (
    REPORT_SLOTS,
    ActionAskReportConfirm,
    ActionSubmitReport,
    ActionSubmitShelterStatus,
)
from actions.supplies import ActionSubmitSupplies
from bot.store import ReportQuery
from tests.actions.conftest import make_tracker, responses, run, validate

REPORT = {
    "damage_type": "road_flooded", "latitude": 41.7687, "longitude": 140.7288, "location": "現在地",
    "location_source": "gps", "location_confirm": True, "description": "道路が膝まで冠水",
    "affected": 2, "photo_ref": "none", "urgency": "high", "report_confirm": True, "report_fix": "none",
}


def test_read_back_summary(env, domain):
    events, messages = run(ActionAskReportConfirm(), make_tracker(dict(REPORT, report_confirm=None)), domain)
    assert events == []
    assert responses(messages) == ["utter_ask_report_confirm"]
    m = messages[0]
    assert (m["category"], m["place"], m["affected"], m["photo"], m["urgency_label"]) == (
        "道路冠水", "現在地", "2", "なし", "高（急ぎ）")


def test_confirmed_report_is_stored_and_numbered(env, domain):
    tracker = make_tracker(REPORT, sender_id="alice", channel="telegram")
    events, messages = run(ActionSubmitReport(), tracker, domain)
    assert events == [*(SlotSet(s, None) for s in REPORT_SLOTS), SlotSet("about_someone_else", "no")]
    assert responses(messages) == ["utter_report_saved"]
    page = env.list_reports(ReportQuery())
    assert len(page.reports) == 1
    report = page.reports[0]
    assert messages[0]["report_id"] == report.id
    assert (report.category, report.text, report.headcount, report.urgency, report.channel) == (
        "road_flooded", "道路が膝まで冠水", 2, "high", "telegram")
    assert (report.lat, report.lon) == (41.7687, 140.7288)
    assert report.resident == env.resident_id("telegram", "alice") != "alice"


def test_unconfirmed_report_is_not_stored(env, domain):
    events, messages = run(ActionSubmitReport(), make_tracker(dict(REPORT, report_confirm=None)), domain)
    assert events == [SlotSet(s, None) for s in REPORT_SLOTS] and messages == []
    assert env.list_reports(ReportQuery()).reports == []


def test_report_validators(env, domain):
    v = ValidateReportDamageForm()
    t = make_tracker(text="川沿いの道路が冠水して車が通れません", intent="report_damage", active_loop="report_damage_form")
    assert validate(v, "validate_damage_type", "road_flooded", t, domain) == (
        {"damage_type": "road_flooded", "description": "川沿いの道路が冠水して車が通れません"}, [])
    t = make_tracker(text="三人です", intent="inform", active_loop="report_damage_form")
    assert validate(v, "validate_affected", "三人です", t, domain) == ({"affected": 3}, [])
    t = make_tracker(text="/deny", intent="deny", active_loop="report_damage_form")
    assert validate(v, "validate_affected", "/deny", t, domain) == ({"affected": 0}, [])
    assert validate(v, "validate_photo_ref", "/deny", t, domain) == ({"photo_ref": "none"}, [])
    assert validate(v, "validate_report_confirm", "/deny", t, domain) == (
        {"report_confirm": False, "report_fix": None}, [])
    t = make_tracker(text='/share_photo{"photo_ref": "p_1"}', intent="share_photo",
                     entities=[{"entity": "photo_ref", "value": "p_1"}], active_loop="report_damage_form")
    result, messages = validate(v, "validate_photo_ref", "p_1", t, domain)
    assert result == {"photo_ref": "p_1"} and responses(messages) == ["utter_photo_received"]
    t = make_tracker(text="場所", intent="inform", active_loop="report_damage_form")
    result, messages = validate(v, "validate_report_fix", "場所", t, domain)
    assert result == {**CLEARED, "report_confirm": None, "report_fix": None}
    assert responses(messages) == ["utter_correct_again"]
    t = make_tracker(text="うーん", intent="inform", active_loop="report_damage_form")
    assert validate(v, "validate_urgency", "うーん", t, domain) == (
        {"urgency": None}, [{"response": "utter_not_understood_answer", **_blank()}])


def _blank() -> dict:
    return {"text": None, "buttons": [], "elements": [], "custom": {}, "template": "utter_not_understood_answer",
            "image": None, "attachment": None}


def test_shelter_status_report_is_stored(env, domain):
    slots = {"shelter_name": "函館市役所", "shelter_id": "E0120200211201", "congestion": "full", "shortages": ["water"]}
    events, messages = run(ActionSubmitShelterStatus(), make_tracker(slots), domain)
    assert events == [SlotSet(s, None) for s in ("shelter_name", "shelter_id", "congestion", "shortages")]
    assert responses(messages) == ["utter_shelter_status_saved"]
    report = env.list_reports(ReportQuery()).reports[0]
    assert (report.category, report.shelter_id, report.needs) == ("shelter_status", "E0120200211201", ["water"])
    assert messages[0]["congestion"] == "満員" and messages[0]["report_id"] == report.id


def test_supply_request_is_stored(env, domain):
    slots = {"supplies": ["water", "blankets"], "supply_headcount": 3, "latitude": 41.77, "longitude": 140.73,
             "location": "現在地", "location_source": "gps", "location_confirm": True}
    events, messages = run(ActionSubmitSupplies(), make_tracker(slots), domain)
    assert events == [SlotSet("supplies", None), SlotSet("supply_headcount", None)]
    assert responses(messages) == ["utter_supplies_saved"]
    report = env.list_reports(ReportQuery()).reports[0]
    assert (report.category, report.needs, report.headcount) == ("supply_request", ["water", "blankets"], 3)
    assert messages[0]["items"] == "水、毛布"


def test_evacuation_registration_is_updated_by_later_messages(env, domain):
    slots = {"place_type": "car", "headcount": 3, "vulnerable": {"elderly": 1}, "needs": ["water"],
             "consent": True, "latitude": 41.77, "longitude": 140.73, "location": "現在地",
             "location_source": "gps", "location_confirm": True}
    events, messages = run(ActionSubmitEvacuation(), make_tracker(slots, sender_id="bob"), domain)
    assert events == []
    assert responses(messages) == ["utter_evacuation_saved", "utter_car_advice"]
    events, messages = run(ActionSubmitEvacuation(), make_tracker(dict(slots, headcount=4, place_type="relatives"),
                                                                  sender_id="bob"), domain)
    assert responses(messages) == ["utter_evacuation_updated"]
    assert messages[0]["headcount"] == 4 and messages[0]["place_type_label"] == "親戚・知人宅"
    from bot.store.models import Evacuee

    with env.session() as s:
        rows = s.query(Evacuee).all()
    assert len(rows) == 1
    assert (rows[0].headcount, rows[0].place_type, rows[0].vulnerable) == (4, "relatives", {"elderly": 1})
    assert rows[0].resident == env.resident_id("rest", "bob")


def test_evacuation_validators(env, domain):
    v = ValidateRegisterEvacuationForm()
    t = make_tracker(text="大人2人と子ども１人", intent="inform", active_loop="register_evacuation_form")
    assert validate(v, "validate_headcount", "大人2人と子ども１人", t, domain) == ({"headcount": 3}, [])
    t = make_tracker(text="車です", intent="inform", active_loop="register_evacuation_form")
    assert validate(v, "validate_place_type", "車です", t, domain) == ({"place_type": "car"}, [])
    t = make_tracker(text="祖母が透析を受けています", intent="inform", active_loop="register_evacuation_form")
    assert validate(v, "validate_vulnerable", "祖母が透析を受けています", t, domain) == (
        {"vulnerable": {"elderly": 1, "medical": 1}}, [])
    t = make_tracker(text="水と毛布", intent="inform", active_loop="register_evacuation_form",
                     entities=[{"entity": "supply", "value": "water"}])
    assert validate(v, "validate_needs", "水と毛布", t, domain) == ({"needs": ["water", "blankets"]}, [])
    t = make_tracker(text="/affirm", intent="affirm", active_loop="register_evacuation_form")
    assert validate(v, "validate_consent", "/affirm", t, domain) == ({"consent": True}, [])


def test_urgent_report_is_prepared_from_the_emergency_message(env, domain):
    earlier = [{"event": "user", "text": "家が倒壊して閉じ込められています",
                "parse_data": {"intent": {"name": "emergency"}}}]
    events, messages = run(ActionPrepareUrgentReport(), make_tracker(text="/affirm", intent="affirm", events=earlier),
                           domain)
    assert messages == []
    assert events == [SlotSet("damage_type", "injured_person"), SlotSet("urgency", "critical"),
                      SlotSet("report_confirm", None), SlotSet("report_fix", None),
                      SlotSet("description", "家が倒壊して閉じ込められています"),
                      SlotSet("about_someone_else", "no")]
