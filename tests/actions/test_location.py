"""Location slots: payload, a confident site name, an unsure text read back and denied."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.hazards import ValidateHazardCheckForm
from actions.forms.location import CLEARED
from actions.forms.reports import ValidateReportDamageForm
from actions.forms.shelters import ValidateShelterSearchForm
from tests.actions.conftest import make_tracker, responses, run, validate


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
    # 「函館市民館」: not the exact name (0.82), read back as the place it most likely means
    tracker = make_tracker(text="函館市民館", intent="inform", active_loop="hazard_check_form")
    result, messages = validate(ValidateHazardCheckForm(), "validate_location", "函館市民館", tracker, domain)
    assert result["location"] == "函館市民会館" and result["location_confirm"] is None
    assert "函館市" in result["location_address"]
    assert messages == []  # the form asks utter_ask_location_confirm next
    deny = make_tracker(result, text="/deny", intent="deny", active_loop="hazard_check_form")
    result2, messages2 = validate(ValidateHazardCheckForm(), "validate_location_confirm", "/deny", deny, domain)
    assert result2 == CLEARED
    assert responses(messages2) == ["utter_location_retry"]
    yes = make_tracker(result, text="はい", intent="affirm", active_loop="hazard_check_form")
    result3, messages3 = validate(ValidateHazardCheckForm(), "validate_location_confirm", "はい", yes, domain)
    assert result3 == {"location_confirm": True} and messages3 == []


@pytest.mark.parametrize(
    "text",
    # what only shares letters with a site's name: before the floor (actions/resources.py
    # MIN_SITE_SCORE) each was read back as a place elsewhere in Hokkaido, 「はこだて市民館」 as
    # 公立はこだて未来大学 (0.42), 「Otaru station」 as a guesthouse in 北見市 (0.26)
    ["はこだて市民館", "Otaru station", "Hakodate shelter", "うちの前", "〇〇中体育館", "my house"],
)
def test_a_place_that_only_shares_letters_is_not_found_rather_than_guessed(env, domain, text):
    tracker = make_tracker(text=text, intent="inform", active_loop="shelter_search_form")
    result, messages = validate(ValidateHazardCheckForm(), "validate_location", text, tracker, domain)
    assert result == CLEARED
    assert responses(messages) == ["utter_location_not_found"]


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


def _share_location_turn(order: list[str]):
    """The read-back of an unsure place is answered with the GPS location: Rasa fills
    ``location`` (「現在地」, from_intent), the coordinates and ``location_confirm`` (from_text,
    the payload) in the same turn, and the form validates all of them."""
    unsure = {"location": "はこだて市民館", "location_address": "函館市", "location_confirm": None,
              "location_source": "text", "latitude": 41.76, "longitude": 140.71}
    payload = '/share_location{"latitude": 41.77, "longitude": 140.73}'
    tracker = make_tracker({**unsure, "requested_slot": "location_confirm"}, text=payload,
                           intent="share_location", active_loop="hazard_check_form")
    filled = {"latitude": 41.77, "longitude": 140.73, "location": "現在地", "location_confirm": payload}
    for name in order:  # the form validates the newest slot event first
        tracker.slots[name] = filled[name]
        tracker.events.append({"event": "slot", "name": name, "value": filled[name]})
    return tracker


def test_a_location_shared_at_the_read_back_replaces_the_place_without_not_understood(env, domain):
    for order in (["latitude", "longitude", "location", "location_confirm"],
                  ["location_confirm", "latitude", "longitude", "location"]):
        events, messages = run(ValidateHazardCheckForm(), _share_location_turn(order), domain)
        slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
        assert slots["location"] == "現在地" and slots["location_confirm"] is True, order
        assert (slots["latitude"], slots["longitude"]) == (41.77, 140.73)
        assert slots["location_address"] is None
        assert "utter_not_understood_answer" not in responses(messages), order
        assert responses(messages) == ["utter_location_gps"]


def test_a_photo_sent_at_the_read_back_asks_again_without_not_understood(env, domain):
    tracker = make_tracker({"location": "はこだて市民館", "location_confirm": None},
                           text='/share_photo{"photo_ref": "p1"}', intent="share_photo",
                           active_loop="hazard_check_form")
    result, messages = validate(ValidateHazardCheckForm(), "validate_location_confirm",
                                '/share_photo{"photo_ref": "p1"}', tracker, domain)
    assert result == {"location_confirm": None} and messages == []


# ---------------------------------------------------------------- districts (gis/areas.py)

def _district_centre(prefix: str) -> tuple[float, float, int]:
    """Mean of the sites whose address is in the district, from the raw GSI GeoJSON."""
    import json
    import unicodedata
    from pathlib import Path

    from tests.actions.conftest import DATA

    pts = []
    for name in ("emergency_sites_hokkaido.geojson", "designated_shelters_hokkaido.geojson"):
        raw = json.loads((Path(str(DATA)) / "gsi" / name).read_text("utf-8"))
        for f in raw["features"]:
            addr = unicodedata.normalize("NFKC", f["properties"]["住所"] or "")
            if addr.startswith(prefix) and addr[len(prefix) : len(prefix) + 1].isdigit():
                pts.append(f["geometry"]["coordinates"][:2])
    return sum(p[1] for p in pts) / len(pts), sum(p[0] for p in pts) / len(pts), len(pts)


def test_a_district_is_read_back_at_the_centre_of_its_sites(env, domain):
    """「函館市柏野町」 names no site; the site search would read back one that shares letters.
    The district's point is the centre of its sites, read back as 「…付近」 to be confirmed."""
    lat, lon, n = _district_centre("北海道函館市柏野町")
    assert n >= 2
    tracker = make_tracker(text="函館市柏野町です", intent="inform", active_loop="shelter_search_form")
    result, messages = validate(ValidateHazardCheckForm(), "validate_location", "函館市柏野町です", tracker, domain)
    assert result["location"] == "函館市柏野町付近"
    assert result["location_source"] == "area"
    assert result["location_confirm"] is None and messages == []  # the form reads it back next
    assert result["latitude"] == pytest.approx(lat) and result["longitude"] == pytest.approx(lon)


def test_a_district_written_with_digits_and_a_full_address(env, domain):
    lat, lon, _ = _district_centre("北海道旭川市豊岡八条")
    text = "旭川市豊岡8条4丁目"
    tracker = make_tracker(text=text, intent="inform", active_loop="hazard_check_form")
    result, _ = validate(ValidateHazardCheckForm(), "validate_location", text, tracker, domain)
    assert result["location"] == "旭川市豊岡八条付近"
    assert result["location_address"] == text  # the resident's own words are kept for the read-back
    assert result["latitude"] == pytest.approx(lat) and result["longitude"] == pytest.approx(lon)


def test_a_site_name_still_wins_over_a_district_spelt_inside_it(env, domain):
    tracker = make_tracker(text="函館市役所", intent="inform", active_loop="hazard_check_form")
    result, _ = validate(ValidateHazardCheckForm(), "validate_location", "函館市役所", tracker, domain)
    assert result["location"] == "函館市役所" and result["location_source"] == "site"


def _opening(text: str, form: Any = None, loop: str = "shelter_search_form", **slots: Any) -> dict[str, Any]:
    """``extract_location`` on the message that opens the form."""
    tracker = make_tracker(slots, text=text, intent="find_shelter", active_loop=loop)
    form = form or ValidateShelterSearchForm()
    return asyncio.run(form.extract_location(CollectingDispatcher(), tracker, {}))


def test_the_opening_question_carries_its_district(env, domain):
    assert _opening("津波どこに逃げれば 函館市柏野町") == {"location": "函館市柏野町"}
    assert _opening("旭川市豊岡8条 ひなんじょ どこ") == {"location": "旭川市豊岡八条"}


@pytest.mark.parametrize(
    "text",
    [
        "避難所どこ 函館",  # a town alone is no point: asked where
        "津波どこに逃げれば",
        "大町の避難所",  # 大町 in many towns
        '/find_shelter{"hazard": "tsunami"}',
    ],
)
def test_the_opening_question_without_a_clear_district_asks_where(env, domain, text):
    assert _opening(text) == {}


def test_the_district_is_taken_only_from_the_opening_message(env, domain):
    # asked for the place: the from_text mapping and validate_location take the answer
    assert _opening("函館市柏野町", requested_slot="location") == {}


def test_a_later_question_naming_a_district_replaces_the_kept_place(env, domain):
    kept = {"location": "現在地", "location_source": "gps", "location_confirm": True,
            "latitude": 41.77, "longitude": 140.73}
    assert _opening("函館市柏野町の津波の避難場所は？", **kept) == {"location": "函館市柏野町"}
    assert _opening("津波の避難場所は？", **kept) == {}  # none named: the kept place is used
    # the place already is that district: not read back again
    same = {**kept, "location": "函館市柏野町付近", "location_source": "area"}
    assert _opening("函館市柏野町の洪水の避難場所は？", **same) == {}


def test_reports_do_not_take_a_district_from_their_opening_message(env, domain):
    assert _opening("函館市柏野町で道路が冠水", ValidateReportDamageForm(), "report_damage_form") == {}


def test_the_hazard_check_takes_the_district_from_its_opening_message(env, domain):
    assert _opening("函館市柏野町 ここ土砂崩れ危ない？", ValidateHazardCheckForm(), "hazard_check_form") == {
        "location": "函館市柏野町"
    }
