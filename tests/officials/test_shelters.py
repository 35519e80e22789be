"""Shelters endpoints against the real GIS index built from a small slice of the open data."""

from __future__ import annotations

from tests.officials.conftest import NUMAZU_BBOX, Api, wait_for_gis
from tests.officials.test_api import assert_error


def test_shelters_503_with_clear_message_when_cache_missing(api: Api) -> None:
    resp = wait_for_gis(api)
    err = assert_error(resp, 503, "bosai data import")
    assert err["code"] == "gis_unavailable"
    put = api.request(
        "PUT", "/api/v1/shelters/E2220300001111/status", role="operator", json={"status": "open"}
    )
    assert_error(put, 503, "bosai data import")


def test_shelters_list_and_status_update(gis_api: Api) -> None:
    resp = wait_for_gis(gis_api)
    assert resp.status_code == 200, resp.text
    fc = resp.json()
    assert fc["type"] == "FeatureCollection" and fc["count"] == len(fc["features"]) > 100
    shelter = next(f for f in fc["features"] if f["properties"]["kind"] == "shelter")
    sid = shelter["properties"]["id"]
    assert shelter["properties"]["status"] is None and shelter["properties"]["name"]
    lon, lat = shelter["geometry"]["coordinates"]
    assert 138.7 <= lon <= 139.0 and 35.0 <= lat <= 35.2

    assert_error(
        gis_api.request(
            "PUT", f"/api/v1/shelters/{sid}/status", role="viewer", json={"status": "open"}
        ),
        403,
    )
    put = gis_api.request(
        "PUT",
        f"/api/v1/shelters/{sid}/status",
        role="operator",
        json={"status": "open", "congestion": "crowded", "shortages": ["water", "blankets"]},
    )
    assert put.status_code == 200, put.text
    assert put.json()["shelter_status"]["by"] == "operator-user"

    only = gis_api.get(
        "/api/v1/shelters", params={"bbox": f"{lon},{lat},{lon},{lat}", "kind": "shelter"}
    ).json()
    props = next(f["properties"] for f in only["features"] if f["properties"]["id"] == sid)
    assert props["status"] == "open" and props["congestion"] == "crowded"
    assert props["congestion_label"] == "混雑" and props["shortages"] == ["water", "blankets"]

    assert_error(
        gis_api.request(
            "PUT",
            "/api/v1/shelters/E9999999999999/status",
            role="operator",
            json={"status": "open"},
        ),
        404,
        "共通ID",
    )
    assert_error(
        gis_api.request(
            "PUT",
            f"/api/v1/shelters/{sid}/status",
            role="operator",
            json={"status": "open", "congestion": "packed"},
        ),
        400,
        "congestion",
    )
    assert_error(gis_api.get("/api/v1/shelters", params={"kind": "castle"}), 400, "kind")
    assert_error(gis_api.get("/api/v1/shelters", params={"limit": "0"}), 400, "limit")
    limited = gis_api.get("/api/v1/shelters", params={"bbox": NUMAZU_BBOX, "limit": 3}).json()
    assert limited["count"] == 3
