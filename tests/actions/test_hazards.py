"""action_check_hazard against real zone polygons (Numazu) and a point without data."""

from __future__ import annotations

import json
from pathlib import Path

from shapely.geometry import shape

from actions.hazards import ActionCheckHazard
from tests.actions.conftest import DATA, make_tracker, responses, run


def point_inside(relpath: str) -> tuple[float, float]:
    raw = json.loads((Path(str(DATA)) / "hazard" / relpath).read_text("utf-8"))
    geom = shape(raw["features"][0]["geometry"])
    p = geom.representative_point()
    return p.y, p.x


def gps(lat: float, lon: float, **extra) -> dict:
    return {"latitude": lat, "longitude": lon, "location": "現在地", "location_source": "gps",
            "location_confirm": True, **extra}


def test_zone_at_point_is_described_with_advice(env, domain):
    lat, lon = point_inside("numazu/numazu_tnm_genroku_523856.geojson")
    events, messages = run(ActionCheckHazard(), make_tracker(gps(lat, lon), intent="check_hazard"), domain)
    assert events == []
    assert responses(messages) == ["utter_hazard_results"]
    zones = messages[0]["zones"]
    assert "津波" in zones
    assert "高台" in zones  # what to do


def test_landslide_zone_in_english(env, domain):
    lat, lon = point_inside("numazu/numazu_lsld_sediment_zones.geojson")
    _, messages = run(ActionCheckHazard(), make_tracker(gps(lat, lon, language="en")), domain)
    assert responses(messages) == ["utter_hazard_results"]
    assert "sediment disaster" in messages[0]["zones"]


def test_no_data_is_not_called_safe(env, domain):
    _, messages = run(ActionCheckHazard(), make_tracker(gps(41.7687, 140.7288)), domain)
    assert responses(messages) == ["utter_hazard_no_data"]
    assert messages[0]["place"] == "現在地"


def test_without_location_asks_for_it(env, domain):
    events, messages = run(ActionCheckHazard(), make_tracker(), domain)
    assert events == [] and responses(messages) == ["utter_ask_location"]


def test_a_districts_centre_is_answered_with_the_note_that_it_is_only_roughly_the_place(env, domain):
    lat, lon = point_inside("numazu/numazu_tnm_genroku_523856.geojson")
    area = {"latitude": lat, "longitude": lon, "location": "沼津市〇〇付近", "location_source": "area",
            "location_address": "沼津市〇〇", "location_confirm": True}
    _, messages = run(ActionCheckHazard(), make_tracker(area, intent="check_hazard"), domain)
    assert responses(messages) == ["utter_hazard_results", "utter_location_area_note"]
    assert messages[1]["place"] == "沼津市〇〇付近"
    _, messages = run(ActionCheckHazard(), make_tracker({**area, "latitude": 41.7687, "longitude": 140.7288}), domain)
    assert responses(messages) == ["utter_hazard_no_data", "utter_location_area_note"]
