"""Behaviour of the officials' API over HTTP (live app, fresh SQLite database per test)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.officials.conftest import Api
from tests.store.helpers import add_report

T0 = datetime(2025, 11, 26, 0, 0, tzinfo=timezone.utc)


def assert_error(resp, status: int, fragment: str = "") -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert err["status"] == status and isinstance(err["code"], str) and err["code"]
    assert fragment in err["message"], err["message"]
    return err


def seed(api: Api) -> dict[str, int]:
    s = api.store
    return {
        "flood": add_report(s, "road_flooded", "札幌駅前が冠水", (43.068, 141.350), "line", T0).id,
        "fire": add_report(
            s, "fire", "煙が見える", (43.07, 141.36), "telegram", T0 + timedelta(hours=1),
        ).id,
        "slide": add_report(
            s, "landslide", "崖崩れ", (41.77, 140.73), "line", T0 + timedelta(hours=2),
            place_text="函館山",
        ).id,
    }


# ---------------------------------------------------------------- auth
PROTECTED = [
    ("GET", "/api/v1/reports"),
    ("GET", "/api/v1/reports/1"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/evacuees/summary"),
    ("GET", "/api/v1/shelters"),
    ("GET", "/api/v1/photos/" + "a" * 64 + ".png"),
    ("POST", "/api/v1/reports"),
    ("PATCH", "/api/v1/reports/1"),
    ("PUT", "/api/v1/shelters/E0110001234111/status"),
    ("GET", "/api/v1/officials"),
    ("GET", "/api/v1/notices"),
    ("POST", "/api/v1/notices"),
]


@pytest.mark.parametrize("method, path", PROTECTED)
def test_no_token_is_401_and_leaks_nothing(api: Api, method: str, path: str) -> None:
    seed(api)
    resp = api.request(method, path, role=None)
    assert_error(resp, 401, "token")
    assert resp.headers["www-authenticate"].startswith("Bearer")
    assert "冠水" not in resp.text
    bad = api.request(method, path, role=None, headers={"Authorization": "Bearer bosai_wrong"})
    assert_error(bad, 401)
    basic = api.request(
        method, path, role=None, headers={"Authorization": "Basic YWRtaW46YWRtaW4="}
    )
    assert_error(basic, 401)


@pytest.mark.parametrize(
    "method, path, body, minimum",
    [
        ("POST", "/api/v1/reports", {"category": "fire"}, "operator"),
        ("PATCH", "/api/v1/reports/{flood}", {"status": "confirmed"}, "operator"),
        (
            "POST",
            "/api/v1/notices",
            {"title": "給水", "body": "○○公園で給水中", "severity": "info"},
            "operator",
        ),
        ("GET", "/api/v1/officials", None, "admin"),
        ("POST", "/api/v1/officials", {"name": "new", "role": "viewer"}, "admin"),
        ("DELETE", "/api/v1/officials/viewer-user", None, "admin"),
    ],
)
def test_roles(api: Api, method: str, path: str, body, minimum: str) -> None:
    ids = seed(api)
    path = path.format(**ids)
    order = ["viewer", "operator", "admin"]
    for role in order[: order.index(minimum)]:
        resp = api.request(method, path, role=role, json=body)
        assert_error(resp, 403, f"needs the {minimum} role")
    resp = api.request(method, path, role=minimum, json=body)
    assert resp.status_code in (200, 201), resp.text


def test_revoked_token_is_refused(api: Api) -> None:
    assert api.get("/api/v1/me").json()["name"] == "viewer-user"
    assert api.request("DELETE", "/api/v1/officials/viewer-user", role="admin").json() == {
        "revoked": "viewer-user"
    }
    assert_error(api.get("/api/v1/me"), 401)


def test_admin_adds_official_whose_token_works(api: Api) -> None:
    resp = api.request(
        "POST", "/api/v1/officials", role="admin", json={"name": "鈴木", "role": "operator"}
    )
    assert resp.status_code == 201
    token = resp.json()["token"]
    me = api.get("/api/v1/me", role=None, headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"name": "鈴木", "role": "operator"}
    listed = api.get("/api/v1/officials", role="admin").json()["officials"]
    assert "鈴木" in [o["name"] for o in listed] and token not in str(listed)


# ---------------------------------------------------------------- list + filters
def ids_of(resp) -> list[int]:
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["type"] == "FeatureCollection"
    return [f["properties"]["id"] for f in body["features"]]


def test_list_is_geojson_newest_first(api: Api) -> None:
    ids = seed(api)
    body = api.get("/api/v1/reports", role="operator").json()  # viewers: tests/officials/test_privacy_api.py
    assert [f["id"] for f in body["features"]] == [ids["slide"], ids["fire"], ids["flood"]]
    flood = body["features"][2]
    assert flood["geometry"] == {"type": "Point", "coordinates": [141.35, 43.068]}
    props = flood["properties"]
    assert props["category"] == "road_flooded" and props["category_label"] == "道路冠水"
    assert props["status"] == "new" and props["status_label"] == "新規"
    assert props["text"] == "札幌駅前が冠水" and props["reported_at"].startswith(
        "2025-11-26T00:00:00"
    )
    assert "resident" not in props
    assert body["next_cursor"] is None


def test_filters(api: Api) -> None:
    ids = seed(api)
    assert ids_of(api.get("/api/v1/reports", params={"category": ["fire", "landslide"]})) == [
        ids["slide"],
        ids["fire"],
    ]
    assert ids_of(api.get("/api/v1/reports?category=fire,road_flooded")) == [
        ids["fire"],
        ids["flood"],
    ]
    assert ids_of(api.get("/api/v1/reports", params={"bbox": "141.0,42.9,141.5,43.2"})) == [
        ids["fire"],
        ids["flood"],
    ]
    assert ids_of(api.get("/api/v1/reports", params={"since": "2025-11-26T01:00:00Z"})) == [
        ids["slide"],
        ids["fire"],
    ]
    # no offset = JST: 09:30 JST is 00:30 UTC
    assert ids_of(
        api.get(
            "/api/v1/reports",
            params={"since": "2025-11-26T09:30:00", "until": "2025-11-26T10:30:00"},
        )
    ) == [ids["fire"]]
    assert ids_of(api.get("/api/v1/reports", role="operator", params={"q": "函館"})) == [
        ids["slide"]
    ]
    api.store.change_status(ids["fire"], "confirmed", by="x")
    assert ids_of(api.get("/api/v1/reports", params={"status": "confirmed"})) == [ids["fire"]]
    assert ids_of(
        api.get("/api/v1/reports", params={"status": "new", "bbox": "141.0,42.9,141.5,43.2"})
    ) == [ids["flood"]]


def test_pagination_with_cursor(api: Api) -> None:
    for i in range(7):
        api.store.create_report(
            category="other", text=f"r{i}", channel="line", reported_at=T0 + timedelta(minutes=i)
        )
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        resp = api.get("/api/v1/reports", role="operator", params=params)
        body = resp.json()
        seen += [f["properties"]["text"] for f in body["features"]]
        pages += 1
        cursor = body["next_cursor"]
        assert resp.headers.get("x-next-cursor") == cursor
        if not cursor:
            break
    assert pages == 3 and seen == [f"r{i}" for i in reversed(range(7))]


@pytest.mark.parametrize(
    "query, fragment",
    [
        ("limit=0", "limit"),
        ("limit=5001", "limit"),
        ("limit=abc", "limit"),
        ("since=yesterday", "since"),
        ("since=1999-12-31", "between 2000"),
        ("since=2025-11-27&until=2025-11-26", "earlier than until"),
        ("category=tornado", "category"),
        ("status=open", "status"),
        ("bbox=1,2,3", "four numbers"),
        ("bbox=141,43,140,44", "minimums"),
        ("bbox=200,0,201,1", "longitudes"),
        ("bbox=nan,0,1,1", "finite"),
        ("q=" + "x" * 101, "longer than 100"),
        ("cursor=%%%", "cursor"),
        ("format=xml", "format"),
        ("limit=1&limit=2", "only once"),
        ("colour=red", "unknown parameter"),
    ],
)
def test_bad_parameters_are_400(api: Api, query: str, fragment: str) -> None:
    assert_error(api.get("/api/v1/reports?" + query), 400, fragment)


def test_csv_export_has_bom_and_escapes_formulas(api: Api) -> None:
    ids = seed(api)
    add_report(api.store, "other", '=HYPERLINK("http://x")', None, "line", T0 + timedelta(hours=5))
    resp = api.get("/api/v1/reports", role="operator", params={"format": "csv"})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in resp.headers["content-disposition"]
    assert resp.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert [int(r["id"]) for r in rows][1:] == [ids["slide"], ids["fire"], ids["flood"]]
    flood = rows[3]
    assert flood["category_label"] == "道路冠水" and flood["text"] == "札幌駅前が冠水"
    assert flood["reported_at"] == "2025-11-26T09:00:00+09:00"  # JST for spreadsheets
    assert rows[0]["text"].startswith("'=")
    filtered = api.get(
        "/api/v1/reports", role="operator", params={"format": "csv", "category": "fire"}
    )
    assert len(list(csv.DictReader(io.StringIO(filtered.content.decode("utf-8-sig"))))) == 1


# ---------------------------------------------------------------- one report
def test_get_report_with_history(api: Api) -> None:
    ids = seed(api)
    body = api.get(f"/api/v1/reports/{ids['flood']}").json()["report"]
    assert body["id"] == ids["flood"] and body["history"][0]["new_status"] == "new"
    assert_error(api.get("/api/v1/reports/999999"), 404, "not found")
    assert_error(api.get("/api/v1/reports/abc"), 400, "positive integer")
    assert_error(api.get("/api/v1/reports/0"), 400)


def test_patch_status_is_audited(api: Api) -> None:
    ids = seed(api)
    resp = api.request(
        "PATCH",
        f"/api/v1/reports/{ids['flood']}",
        role="operator",
        json={"status": "confirmed", "note": "現地確認"},
    )
    assert resp.status_code == 200
    report = resp.json()["report"]
    assert report["status"] == "confirmed"
    assert report["history"][-1] == {
        **report["history"][-1],
        "old_status": "new",
        "new_status": "confirmed",
        "by": "operator-user",
        "note": "現地確認",
    }
    assert api.store.get_report(ids["flood"]).status == "confirmed"
    conflict = api.request(
        "PATCH", f"/api/v1/reports/{ids['flood']}", role="operator", json={"status": "new"}
    )
    assert_error(conflict, 409, "cannot move")
    dup = api.request(
        "PATCH",
        f"/api/v1/reports/{ids['fire']}",
        role="operator",
        json={"status": "duplicate", "duplicate_of": ids["flood"]},
    )
    assert dup.json()["report"]["duplicate_of"] == ids["flood"]
    assert_error(
        api.request(
            "PATCH",
            f"/api/v1/reports/{ids['slide']}",
            role="operator",
            json={"status": "duplicate"},
        ),
        400,
        "duplicate_of is required",
    )
    assert_error(
        api.request(
            "PATCH",
            f"/api/v1/reports/{ids['slide']}",
            role="operator",
            json={"status": "confirmed", "by": "me"},
        ),
        400,
        "unknown field",
    )
    assert_error(
        api.request(
            "PATCH",
            f"/api/v1/reports/{ids['slide']}",
            role="operator",
            data="not json",
            headers={"Content-Type": "application/json"},
        ),
        400,
        "JSON",
    )
    assert [h.new_status for h in api.store.report_history(ids["slide"])] == ["new"]


def test_post_report_as_staff(api: Api) -> None:
    resp = api.request(
        "POST",
        "/api/v1/reports",
        role="operator",
        json={
            "category": "injured_person",
            "text": "電話: 高齢者が動けない",
            "lat": 43.05,
            "lon": 141.34,
            "headcount": 1,
            "urgency": "critical",
            "needs": ["medicine"],
            "reported_at": "2025-11-26T10:00:00+09:00",
        },
    )
    assert resp.status_code == 201, resp.text
    report = resp.json()["report"]
    assert report["channel"] == "staff" and report["urgency"] == "critical"
    assert resp.headers["location"] == f"/api/v1/reports/{report['id']}"
    assert report["reported_at"] == "2025-11-26T01:00:00+00:00"
    assert api.store.report_history(report["id"])[0].by == "operator-user"
    assert_error(
        api.request(
            "POST",
            "/api/v1/reports",
            role="operator",
            json={"category": "fire", "lat": 95, "lon": 0},
        ),
        400,
        "lat",
    )
    assert_error(
        api.request("POST", "/api/v1/reports", role="operator", json={"text": "no category"}),
        400,
        "category is required",
    )
    assert_error(
        api.request(
            "POST", "/api/v1/reports", role="operator", json={"category": "fire", "channel": "line"}
        ),
        400,
        "unknown field",
    )
    assert_error(
        api.request("POST", "/api/v1/reports", role="operator", json=["fire"]), 400, "JSON object"
    )


def test_photos_only_for_officials(api: Api) -> None:
    ids = seed(api)
    png = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64
    up = api.upload_photo(ids["flood"], png, "image/png")
    assert up.status_code == 201, up.text
    url = up.json()["url"]
    detail = api.get(f"/api/v1/reports/{ids['flood']}", role="operator").json()["report"]
    assert detail["photo_urls"] == [url] and detail["photo_count"] == 1
    got = api.get(url, role="operator")
    assert got.content == png and got.headers["content-type"] == "image/png"
    assert_error(api.get(url, role=None), 401)
    assert_error(api.get(url, role="viewer"), 403, "operator")  # docs/privacy.md
    assert_error(api.upload_photo(ids["flood"], b"<svg/>", "image/svg+xml"), 415)
    assert_error(api.get("/api/v1/photos/..%2F..%2Freports.db", role="operator"), 400, "photo ref")
    assert_error(api.get("/api/v1/photos/" + "0" * 64 + ".png", role="operator"), 404)


# ---------------------------------------------------------------- evacuees
def test_evacuee_summary(api: Api) -> None:
    s = api.store

    def register(user: str, place: str, people: int, vuln: dict, lat: float, lon: float) -> None:
        s.upsert_evacuee(s.resident_id("line", user), "line", place, people, vuln, [], True,
                         lat=lat, lon=lon)

    # three households in one cell near Sapporo, three in one cell in Hakodate (a cell needs
    # at least 3 households to be shown: tests/store/test_evacuee_grid.py)
    register("a", "car", 3, {"elderly": 1}, 43.06, 141.35)
    register("a2", "home", 1, {}, 43.061, 141.351)
    register("a3", "home", 1, {}, 43.062, 141.352)
    register("b", "relatives", 2, {"medical": 1}, 41.775, 140.735)
    register("b2", "home", 1, {}, 41.776, 140.736)
    register("b3", "home", 1, {}, 41.777, 140.737)
    register("a", "car", 4, {"elderly": 1}, 43.06, 141.35)  # an update, not a new household
    body = api.get("/api/v1/evacuees/summary", params={"cell": "0.1"}).json()
    assert body["total"] == {
        "registrations": 6,
        "people": 10,
        "households_needing_help": 2,
        "households_with_medical_needs": 1,
    }
    assert body["by_place_type"]["car"] == {"registrations": 1, "people": 4}
    assert body["labels"]["place_types"]["car"] == "車中泊"
    assert len(body["cells"]) == 2
    assert [c["registrations"] for c in body["cells"]] == [3, 3]
    hokkaido_south = api.get("/api/v1/evacuees/summary", params={"bbox": "140,41,141,42"}).json()
    assert hokkaido_south["total"]["people"] == 4
    assert "resident" not in str(body)
    assert_error(api.get("/api/v1/evacuees/summary", params={"cell": "5"}), 400, "cell")


# ---------------------------------------------------------------- misc
def test_unknown_api_path_and_method_use_error_shape(api: Api) -> None:
    assert_error(api.get("/api/v1/nothing-here"), 404)
    assert_error(api.request("DELETE", "/api/v1/reports", role="admin"), 405)


def test_openapi_lists_every_api_route(api: Api) -> None:
    doc = api.get("/api/v1/openapi.json", role=None).json()
    assert doc["openapi"].startswith("3.")
    app = api.server.app
    for route in app.router.routes:
        path = "/" + route.path
        if not path.startswith("/api/v1"):
            continue
        templ = re.sub(r"<(\w+):str>", r"{\1}", path)  # <report_id:str> -> {report_id}
        assert templ in doc["paths"], templ
        for method in route.methods:
            assert method.lower() in doc["paths"][templ], (templ, method)


def test_meta_has_attribution_and_tiles(api: Api) -> None:
    meta = api.get("/api/v1/meta", role=None).json()
    assert any("国土地理院" in line for line in meta["attribution"])
    assert meta["tiles_url"].startswith("http://127.0.0.1:9/")
    assert meta["categories"]["road_flooded"] == "道路冠水"
