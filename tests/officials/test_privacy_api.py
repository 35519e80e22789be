"""Role rules on personal data: viewers see places rounded to about 100 m and no free text,
operators see everything; every export is written to the audit log; the evacuee grid never shows
a cell of one or two households. Every answer is checked against the OpenAPI document."""

from __future__ import annotations

import csv
import io

from bot.store.audit import AuditEntry
from tests.officials.conftest import Api
from tests.officials.test_api import assert_error

ADDRESS = "緑町3丁目12-4の青い屋根の家、母が人工透析"


def _report(api: Api) -> int:
    report = api.store.create_report(
        category="building_damage",
        text=ADDRESS,
        place_text="緑町3丁目12-4",
        lat=41.768712,
        lon=140.728834,
        channel="line",
        resident="r" * 64,
    )
    api.store.change_status(report.id, "confirmed", by="yamada", note="緑町3丁目12-4 山田さん宅")
    return report.id


def _audit(api: Api) -> list[AuditEntry]:
    return api.store.audit.recent()


def test_viewer_sees_rounded_place_and_no_free_text(api: Api) -> None:
    rid = _report(api)
    feature = api.get("/api/v1/reports", role="viewer").json()["features"][0]
    assert feature["geometry"]["coordinates"] == [140.729, 41.769]
    props = feature["properties"]
    assert (props["lat"], props["lon"], props["text"], props["place_text"]) == (
        41.769,
        140.729,
        None,
        None,
    )
    assert props["category"] == "building_damage" and props["status"] == "confirmed"
    detail = api.get(f"/api/v1/reports/{rid}", role="viewer").json()["report"]
    assert (detail["lat"], detail["text"], detail["place_text"]) == (41.769, None, None)
    assert [h["note"] for h in detail["history"]] == [None, None]
    csv_body = api.get("/api/v1/reports", role="viewer", params={"format": "csv"})
    text = csv_body.content.decode("utf-8-sig")
    assert "緑町" not in text and "透析" not in text
    row = next(csv.DictReader(io.StringIO(text)))
    assert (row["lat"], row["lon"], row["text"], row["place_text"]) == ("41.769", "140.729", "", "")


def test_operator_and_admin_see_exact_place_and_text(api: Api) -> None:
    rid = _report(api)
    for role in ("operator", "admin"):
        props = api.get("/api/v1/reports", role=role).json()["features"][0]["properties"]
        assert (props["lat"], props["lon"], props["text"], props["place_text"]) == (
            41.768712,
            140.728834,
            ADDRESS,
            "緑町3丁目12-4",
        )
        detail = api.get(f"/api/v1/reports/{rid}", role=role).json()["report"]
        assert detail["history"][-1]["note"] == "緑町3丁目12-4 山田さん宅"


def test_viewer_cannot_search_the_free_text(api: Api) -> None:
    _report(api)
    assert_error(api.get("/api/v1/reports", role="viewer", params={"q": "緑町"}), 403, "operator")
    found = api.get("/api/v1/reports", role="operator", params={"q": "緑町"}).json()
    assert found["count"] == 1


def test_every_export_writes_an_audit_row(api: Api) -> None:
    _report(api)
    api.get("/api/v1/reports", role="viewer", params={"limit": 500})  # the map: no export
    api.get("/api/v1/reports", role="viewer")
    assert _audit(api) == []
    api.get(
        "/api/v1/reports",
        role="viewer",
        params={"format": "csv", "category": "fire,building_damage"},
    )
    api.get("/api/v1/reports", role="operator", params={"format": "geojson"})
    api.get(
        "/api/v1/reports", role="admin", params={"limit": 5000, "since": "2025-01-01T00:00:00Z"}
    )
    rows = [r.to_dict() for r in reversed(_audit(api))]
    assert [(r["official"], r["role"], r["action"], r["resource"]) for r in rows] == [
        ("viewer-user", "viewer", "export", "reports"),
        ("operator-user", "operator", "export", "reports"),
        ("admin-user", "admin", "export", "reports"),
    ]
    assert rows[0]["detail"]["format"] == "csv" and rows[0]["detail"]["rows"] == 1
    assert rows[0]["detail"]["filters"] == {"category": ["fire", "building_damage"]}
    assert rows[1]["detail"]["format"] == "geojson"
    assert rows[2]["detail"]["filters"]["since"].startswith("2025-01-01T00:00:00")
    assert ADDRESS not in str(rows)  # the log names the export, never its content


def test_a_grid_cell_with_one_or_two_households_is_not_visible(api: Api) -> None:
    s = api.store
    for i, (lat, lon) in enumerate([(43.0615, 141.3515), (43.2015, 141.5015), (43.2016, 141.5016)]):
        s.upsert_evacuee(
            s.resident_id("line", f"u{i}"),
            "line",
            "home",
            2,
            {"medical": 1},
            [],
            True,
            lat=lat,
            lon=lon,
        )
    for role in ("viewer", "operator"):
        body = api.get("/api/v1/evacuees/summary", role=role, params={"cell": "0.01"}).json()
        assert body["cells"] == []
        alone = api.get(
            "/api/v1/evacuees/summary", role=role, params={"bbox": "141.351,43.061,141.352,43.062"}
        ).json()
        assert alone["total"]["registrations"] == 0
        assert alone["vulnerable_people"]["medical"] == 0
    s.upsert_evacuee(
        s.resident_id("line", "u3"), "line", "car", 1, {}, [], True, lat=43.2017, lon=141.5017
    )
    cells = api.get("/api/v1/evacuees/summary", params={"cell": "0.01"}).json()["cells"]
    assert [(c["registrations"], c["merged"], c["size_deg"]) for c in cells] == [(3, False, 0.01)]


def test_admins_read_the_audit_log(api: Api) -> None:
    _report(api)
    api.get("/api/v1/reports", role="viewer", params={"format": "csv", "bbox": "140,41,141,42"})
    body = api.get("/api/v1/audit", role="admin").json()
    assert body["count"] == 1
    entry = body["entries"][0]
    assert (entry["official"], entry["role"], entry["action"], entry["resource"]) == (
        "viewer-user",
        "viewer",
        "export",
        "reports",
    )
    assert entry["detail"]["rows"] == 1 and entry["detail"]["filters"]["bbox"] == [140, 41, 141, 42]
    for role in ("viewer", "operator"):
        assert_error(api.get("/api/v1/audit", role=role), 403, "admin")
    assert_error(api.get("/api/v1/audit", role="admin", params={"limit": 0}), 400, "limit")


def test_viewer_gets_no_photo_only_how_many(api: Api) -> None:
    """A photo can show a face or a house number: viewers get neither its bytes nor its ref."""
    rid = _report(api)
    jpeg = b"\xff\xd8\xff\xe0" + b"\x01" * 64
    up = api.upload_photo(rid, jpeg, "image/jpeg")
    assert up.status_code == 201, up.text
    url, ref = up.json()["url"], up.json()["photo"]
    for viewed in (
        api.get(f"/api/v1/reports/{rid}", role="viewer").json()["report"],
        api.get("/api/v1/reports", role="viewer").json()["features"][0]["properties"],
        api.get("/api/v1/reports", role="viewer", params={"format": "geojson"}).json()[
            "features"
        ][0]["properties"],
    ):
        assert (viewed["photos"], viewed["photo_urls"], viewed["photo_count"]) == ([], [], 1)
    csv_text = api.get("/api/v1/reports", role="viewer", params={"format": "csv"}).text
    assert ref not in csv_text
    assert_error(api.get(url, role="viewer"), 403, "operator")
    for role in ("operator", "admin"):
        detail = api.get(f"/api/v1/reports/{rid}", role=role).json()["report"]
        assert (detail["photos"], detail["photo_urls"], detail["photo_count"]) == ([ref], [url], 1)
        assert api.get(url, role=role).content.startswith(b"\xff\xd8")
