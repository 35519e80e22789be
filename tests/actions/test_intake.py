"""Intake: every report-starting, danger, fallback and out-of-scope message reaches the inbox;
the report or registration that takes it over marks it handled. Real store, real actions."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.emergency import ActionPrepareUrgentReport
from actions.intake import ActionKeepIfUncertain, ActionKeepMessage, about_someone_else
from actions.reports import ActionSubmitReport

from .conftest import make_tracker, responses, run


def _slots(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_fallback_message_is_kept_and_the_resident_is_told(env, domain):
    tracker = make_tracker(
        text="なんかよくわからんけど外がやばい",
        intent="nlu_fallback",
        slots={"latitude": 43.06, "longitude": 141.35},
    )
    events, messages = run(ActionKeepMessage(), tracker, domain)
    assert events == []
    assert responses(messages) == ["utter_message_kept"]
    (row,) = env.list_inbox(handled=False).items
    assert row.text == "なんかよくわからんけど外がやばい"
    assert row.reason == "fallback" and row.intent == "nlu_fallback"
    assert (row.lat, row.lon) == (43.06, 141.35)
    assert row.resident != "resident-1"  # a keyed pseudonym, never the channel's user id
    assert row.channel == "rest"


def test_out_of_scope_message_is_kept(env, domain):
    run(ActionKeepMessage(), make_tracker(text="眠れない…", intent="out_of_scope"), domain)
    (row,) = env.list_inbox(handled=False).items
    assert row.reason == "out_of_scope" and not row.danger


def test_a_resident_asking_for_a_person_is_kept_and_told(env, domain):
    tracker = make_tracker(text="ちゃんと人が読んでるの？", intent="bot_challenge")
    events, messages = run(ActionKeepMessage(), tracker, domain)
    assert events == []
    assert responses(messages) == ["utter_message_kept"]
    (row,) = env.list_inbox(handled=False).items
    assert row.text == "ちゃんと人が読んでるの？"
    assert row.reason == "wants_person" and row.intent == "bot_challenge" and not row.danger


def test_danger_message_is_kept_with_its_marks_and_place(env, domain):
    entities = [
        {"entity": "life_threat", "value": "stranded"},
        {"entity": "place_text", "value": "〇〇町3丁目12-4の青い屋根の家"},
    ]
    tracker = make_tracker(
        text="〇〇町3丁目12-4の青い屋根の家、祖母が取り残されてる",
        intent="emergency",
        entities=entities,
    )
    events, messages = run(ActionKeepMessage(), tracker, domain)
    assert messages == []  # the 119 line came first from the rules; nothing more to say here
    (row,) = env.list_inbox(handled=False).items
    assert row.danger and row.danger_terms == ["stranded"]
    assert row.place_text == "〇〇町3丁目12-4の青い屋根の家"
    assert _slots(events)["inbox_message_id"] == row.id


def test_damage_report_is_prefilled_from_a_message_that_says_several_things(env, domain):
    text = "1階浸水、2階に3人、水と食料がない"
    events, messages = run(
        ActionKeepMessage(), make_tracker(text=text, intent="report_damage"), domain
    )
    assert responses(messages) == ["utter_emergency"]  # every report starts with the 119 line
    slots = _slots(events)
    assert slots["description"] == text
    assert slots["affected"] == 3
    assert slots["report_needs"] == ["water", "food"]
    assert slots["about_someone_else"] == "no"


def test_short_report_message_leaves_the_description_to_the_form(env, domain):
    events, _ = run(
        ActionKeepMessage(), make_tracker(text="道路が冠水", intent="report_damage"), domain
    )
    assert "description" not in _slots(events)


def test_payload_messages_are_not_kept(env, domain):
    run(
        ActionKeepMessage(),
        make_tracker(text='/share_location{"latitude": 43.0}', intent="share_location"),
        domain,
    )
    assert env.list_inbox(handled=None).items == []


def test_submitted_report_marks_the_kept_message_handled(env, domain):
    events, _ = run(
        ActionKeepMessage(),
        make_tracker(text="近所の家の屋根が飛ばされて道をふさいでる", intent="report_damage"),
        domain,
    )
    message_id = _slots(events)["inbox_message_id"]
    slots = {
        "inbox_message_id": message_id,
        "damage_type": "building_damage",
        "description": "屋根",
        "affected": 0,
        "photo_ref": "none",
        "urgency": "normal",
        "report_confirm": True,
        "latitude": 43.06,
        "longitude": 141.35,
        "location": "__here__",
        "location_source": "gps",
    }
    events, messages = run(
        ActionSubmitReport(), make_tracker(slots=slots, text="/affirm", intent="affirm"), domain
    )
    assert responses(messages) == ["utter_report_saved"]
    assert SlotSet("inbox_message_id", None) in events
    assert env.list_inbox(handled=False).items == []
    (row,) = env.list_inbox(handled=True).items
    assert row.id == message_id and row.handled_by == "bot"
    report = env.get_report(int(row.handled_note.split()[-1]))
    assert report.category == "building_damage"


def test_abandoned_report_stays_in_the_inbox(env, domain):
    run(
        ActionKeepMessage(),
        make_tracker(text="川の水があふれそう、堤防のところ", intent="report_damage"),
        domain,
    )
    # the resident never answers the form's questions (low battery): the message stays visible
    (row,) = env.list_inbox(handled=False).items
    assert row.text.startswith("川の水があふれそう")


def test_needs_assistance_is_an_urgent_report_about_the_person(env, domain):
    earlier = [
        {
            "event": "user",
            "text": "実家の父が寝たきりで避難所まで行けない、2人",
            "parse_data": {"intent": {"name": "needs_assistance"}},
        }
    ]
    events, messages = run(
        ActionPrepareUrgentReport(), make_tracker(text="", events=earlier), domain
    )
    slots = _slots(events)
    assert messages == []
    assert slots["damage_type"] == "needs_assistance" and slots["urgency"] == "high"
    assert slots["about_someone_else"] == "yes"
    assert slots["affected"] == 2
    assert slots["photo_ref"] == "none"


def test_safety_check_is_a_missing_contact_report(env, domain):
    earlier = [
        {
            "event": "user",
            "text": "祖母と昨日から連絡が取れない",
            "parse_data": {"intent": {"name": "safety_check"}},
        }
    ]
    events, _ = run(ActionPrepareUrgentReport(), make_tracker(text="", events=earlier), domain)
    slots = _slots(events)
    assert slots["damage_type"] == "missing_contact" and slots["urgency"] == "high"
    assert slots["description"] == "祖母と昨日から連絡が取れない"
    assert slots["about_someone_else"] == "yes"


def test_about_someone_else():
    assert about_someone_else("実家の父が動けない")
    assert about_someone_else("隣のおばあちゃんが出てこない")
    assert about_someone_else("My grandmother is alone at home")
    assert not about_someone_else("足が悪くて避難所まで行けません")


def test_answer_outside_any_form_is_kept_and_the_resident_guided(env, domain):
    events, messages = run(
        ActionKeepMessage(), make_tracker(text="カイロと毛布", intent="inform"), domain
    )
    assert events == [] and responses(messages) == ["utter_inform_kept"]
    (row,) = env.list_inbox(handled=False).items
    assert row.text == "カイロと毛布" and row.reason == "unhandled"


def test_an_answer_outside_a_form_offers_the_flows_its_entities_point_at(env, domain):
    """「車中泊 大人3と犬1匹 水がない」 read as a bare answer: kept for a person as before, and one
    button per flow its entities point at (place type → registration, supply → supplies); the
    button labels come from the domain in the resident's language."""
    entities = [
        {"entity": "place_type", "value": "car"},
        {"entity": "number", "value": "3"},
        {"entity": "supply", "value": "water"},
    ]
    for lang, titles in [
        ("ja", ["物資をお願いする", "避難先を登録する"]),
        ("en", ["Ask for supplies", "Register where we shelter"]),
    ]:
        tracker = make_tracker(
            text="車中泊 大人3と犬1匹 水がない", intent="inform", entities=entities,
            slots={"language": lang},
        )
        events, messages = run(ActionKeepMessage(), tracker, domain)
        assert events == []
        assert responses(messages) == ["utter_inform_kept", "utter_inform_offer"]
        buttons = messages[1]["buttons"]
        assert [b["payload"] for b in buttons] == [
            '/request_supplies{"supply": ["water"]}', '/register_evacuation{"place_type": ["car"]}'
        ]
        assert [b["title"] for b in buttons] == titles
    rows = env.list_inbox(handled=False).items
    assert len(rows) == 2 and {r.reason for r in rows} == {"unhandled"}

    # A damage and a hazard both point at the damage report: one button, not two, carrying both.
    tracker = make_tracker(
        text="床上 道路も川", intent="inform",
        entities=[{"entity": "damage_type", "value": "flooding"}, {"entity": "hazard", "value": "flood"}],
    )
    _, messages = run(ActionKeepMessage(), tracker, domain)
    assert [b["payload"] for b in messages[1]["buttons"]] == [
        '/report_damage{"damage_type": ["flooding"], "hazard": ["flood"]}'
    ]


def test_an_uncertain_question_about_shelter_life_is_kept_for_a_person(env, domain):
    """「犬が鳴きやまない、外の様子がおかしい」 read as a pets question at 0.61: the rule answers
    about pets, then this action keeps the message (it may be a report no one else sees)."""
    for intent, text in [
        ("ask_pets", "犬が鳴きやまない、外の様子がおかしい"),
        ("ask_accessibility", "車いすの母、いまどうなってるか分からん"),
        ("ask_what_to_bring", "水と薬はある、それより裏の崖から石が落ちてくる"),
    ]:
        tracker = make_tracker(text=text, intent=intent, confidence=0.61)
        events, messages = run(ActionKeepIfUncertain(), tracker, domain)
        assert events == [] and responses(messages) == ["utter_message_kept"]
    rows = env.list_inbox(handled=False).items
    assert sorted(r.intent for r in rows) == ["ask_accessibility", "ask_pets", "ask_what_to_bring"]
    assert {r.reason for r in rows} == {"uncertain"}


def test_a_clear_question_about_shelter_life_stays_out_of_the_inbox(env, domain):
    for confidence in (0.99, 0.70):
        tracker = make_tracker(text="ペット連れて行ける？", intent="ask_pets", confidence=confidence)
        events, messages = run(ActionKeepIfUncertain(), tracker, domain)
        assert events == [] and messages == []
    tracker = make_tracker(text="/ask_pets", intent="ask_pets", confidence=0.6)
    assert run(ActionKeepIfUncertain(), tracker, domain) == ([], [])
    assert env.list_inbox(handled=None).items == []
