"""The 未対応メッセージ inbox over HTTP, and the categories needs_assistance / missing_contact
carried through filters, validation, OpenAPI, CSV and GeoJSON (live app, fresh SQLite per test)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.store.models import InboxMessageChange, ReportStatusChange
from tests.officials.conftest import Api
from tests.officials.test_api import assert_error
from tests.store.helpers import add_report

T0 = datetime(2025, 11, 29, 0, 0, tzinfo=timezone.utc)


def seed_inbox(api: Api) -> dict[str, int]:
    s = api.store
    return {
        "plain": s.add_inbox_message(
            channel="line", user_id="U-a", text="よくわからない", reason="fallback", received_at=T0
        ).id,
        "place": s.add_inbox_message(
            channel="telegram",
            user_id="T-b",
            text="〇〇橋のあたりどうなってる？",
            reason="out_of_scope",
            place_text="〇〇橋",
            received_at=T0 + timedelta(minutes=10),
        ).id,
        "danger": s.add_inbox_message(
            channel="line",
            user_id="U-c",
            text="水が腰まで来てる",
            reason="cancelled_form",
            danger_terms=["腰まで"],
            received_at=T0 - timedelta(hours=1),
        ).id,
    }


def ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.text
    return [m["id"] for m in resp.json()["messages"]]


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/api/v1/messages", None),
        ("PATCH", "/api/v1/messages/{plain}", {"handled": True}),
        ("POST", "/api/v1/messages/{plain}/report", {"category": "other"}),
    ],
)
def test_inbox_needs_operator(api: Api, method: str, path: str, body) -> None:
    path = path.format(**seed_inbox(api))
    no_token = api.request(method, path, role=None, json=body)
    assert_error(no_token, 401, "token")
    assert "わからない" not in no_token.text
    viewer = api.request(method, path, role="viewer", json=body)
    assert_error(viewer, 403, "needs the operator role")
    assert "わからない" not in viewer.text
    assert api.store.count_inbox() == 3 and api.store.count_reports() == 0
    for role in ("operator", "admin"):
        resp = api.request(method, path, role=role, json=body)
        assert resp.status_code in (200, 201, 409), resp.text


def test_list_is_danger_then_place_then_newest(api: Api) -> None:
    m = seed_inbox(api)
    resp = api.get("/api/v1/messages", role="operator")
    assert ids(resp) == [m["danger"], m["place"], m["plain"]]
    assert resp.headers["cache-control"] == "no-store"
    body = resp.json()
    assert body["count"] == 3 and body["unhandled"] == 3 and body["next_cursor"] is None
    danger = body["messages"][0]
    assert danger["danger"] is True and danger["danger_terms"] == ["腰まで"]
    assert danger["reason"] == "cancelled_form" and danger["reason_label"] == "入力の中断"
    assert danger["text"] == "水が腰まで来てる" and danger["received_at"].startswith(
        "2025-11-28T23"
    )
    assert (
        body["messages"][1]["has_place"] is True and body["messages"][1]["place_text"] == "〇〇橋"
    )
    assert "resident" not in resp.text and api.store.resident_id("line", "U-a") not in resp.text
    assert "U-a" not in resp.text


def test_list_filters_and_pages(api: Api) -> None:
    m = seed_inbox(api)
    api.store.set_message_handled(m["place"], handled=True, by="x")
    assert ids(api.get("/api/v1/messages", role="operator")) == [m["danger"], m["plain"]]
    assert ids(api.get("/api/v1/messages?handled=true", role="operator")) == [m["place"]]
    assert ids(api.get("/api/v1/messages?handled=all", role="operator")) == [
        m["danger"],
        m["place"],
        m["plain"],
    ]
    # no offset = JST: 09:00 JST is 00:00 UTC
    assert ids(
        api.get("/api/v1/messages", role="operator", params={"since": "2025-11-29T09:00"})
    ) == [m["plain"]]
    assert api.get("/api/v1/messages", role="operator").json()["unhandled"] == 2
    for i in range(5):
        api.store.add_inbox_message(
            channel="line", user_id=f"U{i}", text=f"p{i}", reason="unhandled"
        )
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, "handled": "all"} | ({"cursor": cursor} if cursor else {})
        resp = api.get("/api/v1/messages", role="operator", params=params)
        seen += ids(resp)
        cursor = resp.json()["next_cursor"]
        assert resp.headers.get("x-next-cursor") == cursor
        pages += 1
        if not cursor:
            break
    assert pages == 4 and len(seen) == 8 == len(set(seen))


@pytest.mark.parametrize(
    "query, fragment",
    [
        ("handled=maybe", "handled"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=x", "limit"),
        ("since=yesterday", "since"),
        ("since=1999-01-01", "between 2000"),
        ("cursor=%%%", "cursor"),
        ("cursor=bm90LWEtY3Vyc29y", "cursor"),
        ("cursor=" + "a" * 201, "longer than 200"),
        ("handled=true&handled=false", "only once"),
        ("category=fire", "unknown parameter"),
    ],
)
def test_bad_list_parameters_are_400(api: Api, query: str, fragment: str) -> None:
    assert_error(api.get("/api/v1/messages?" + query, role="operator"), 400, fragment)


def test_patch_marks_handled_with_audit(api: Api) -> None:
    m = seed_inbox(api)
    resp = api.request(
        "PATCH",
        f"/api/v1/messages/{m['plain']}",
        role="operator",
        json={"handled": True, "note": "電話で回答済み"},
    )
    assert resp.status_code == 200, resp.text
    msg = resp.json()["message"]
    assert msg["handled"] is True and msg["handled_by"] == "operator-user"
    assert msg["handled_note"] == "電話で回答済み"
    assert [(h["action"], h["by"], h["note"]) for h in msg["history"]] == [
        ("received", "channel:line", None),
        ("handled", "operator-user", "電話で回答済み"),
    ]
    stored = api.store.get_inbox_message(m["plain"])
    assert stored.handled is True and stored.handled_by == "operator-user"
    with api.store.session() as s:
        rows = s.execute(
            select(InboxMessageChange.action, InboxMessageChange.by).where(
                InboxMessageChange.message_id == m["plain"]
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("received", "channel:line"),
        ("handled", "operator-user"),
    ]
    reopened = api.request(
        "PATCH", f"/api/v1/messages/{m['plain']}", role="admin", json={"handled": False}
    ).json()["message"]
    assert reopened["handled"] is False and reopened["history"][-1]["action"] == "reopened"
    assert reopened["history"][-1]["by"] == "admin-user"


@pytest.mark.parametrize(
    "path, body, status, fragment",
    [
        ("/api/v1/messages/{plain}", {}, 400, "handled is required"),
        ("/api/v1/messages/{plain}", {"handled": "yes"}, 400, "handled is required"),
        ("/api/v1/messages/{plain}", {"handled": True, "by": "me"}, 400, "unknown field"),
        ("/api/v1/messages/{plain}", {"handled": True, "note": "x" * 2001}, 400, "note"),
        ("/api/v1/messages/{plain}", ["handled"], 400, "JSON object"),
        ("/api/v1/messages/999999", {"handled": True}, 404, "not found"),
        ("/api/v1/messages/abc", {"handled": True}, 400, "message id must be a positive integer"),
        ("/api/v1/messages/0", {"handled": True}, 400, "positive integer"),
    ],
)
def test_bad_patch_is_refused_without_writing(
    api: Api, path: str, body, status: int, fragment: str
) -> None:
    m = seed_inbox(api)
    resp = api.request("PATCH", path.format(**m), role="operator", json=body)
    assert_error(resp, status, fragment)
    assert api.store.count_inbox() == 3
    assert len(api.store.message_history(m["plain"])) == 1


def test_report_from_message_in_one_step(api: Api) -> None:
    m = seed_inbox(api)
    resp = api.request(
        "POST",
        f"/api/v1/messages/{m['plain']}/report",
        role="operator",
        json={
            "category": "needs_assistance",
            "urgency": "critical",
            "lat": 43.062,
            "lon": 141.354,
            "place_text": "〇〇町1丁目",
        },
    )
    assert resp.status_code == 201, resp.text
    out = resp.json()
    report, message = out["report"], out["message"]
    assert resp.headers["location"] == f"/api/v1/reports/{report['id']}"
    assert report["category"] == "needs_assistance"
    assert report["category_label"] == "要支援（自力で避難できない）"
    assert (report["urgency"], report["status"], report["channel"]) == ("critical", "new", "line")
    assert report["text"] == "よくわからない" and report["place_text"] == "〇〇町1丁目"
    assert report["reported_at"] == "2025-11-29T00:00:00+00:00"
    assert "resident" not in report
    assert message["handled"] is True and message["report_id"] == report["id"]
    assert message["history"][-1] == {
        **message["history"][-1],
        "action": "reported",
        "by": "operator-user",
        "report_id": report["id"],
    }
    # the stored rows
    stored = api.store.get_report(report["id"])
    assert (stored.lat, stored.lon) == (43.062, 141.354)
    assert stored.resident == api.store.resident_id("line", "U-a")
    with api.store.session() as s:
        log = s.execute(
            select(ReportStatusChange).where(ReportStatusChange.report_id == report["id"])
        ).scalar_one()
    assert (log.old_status, log.new_status, log.by) == (None, "new", "operator-user")
    assert log.note == f"受信メッセージ #{m['plain']} から作成"
    assert api.store.get_inbox_message(m["plain"]).report_id == report["id"]
    # on the map / in the list like any report
    features = api.get("/api/v1/reports", params={"category": "needs_assistance"}).json()[
        "features"
    ]
    assert [f["id"] for f in features] == [report["id"]]
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [141.354, 43.062]}
    assert api.get("/api/v1/messages", role="operator").json()["unhandled"] == 2
    # a second conversion is a conflict and writes nothing
    again = api.request(
        "POST", f"/api/v1/messages/{m['plain']}/report", role="operator", json={"category": "other"}
    )
    assert_error(again, 409, "already report")
    assert again.json()["error"]["code"] == "invalid_transition"
    assert api.store.count_reports() == 1


def test_report_defaults_to_the_message_place(api: Api) -> None:
    m = seed_inbox(api)
    resp = api.request(
        "POST",
        f"/api/v1/messages/{m['place']}/report",
        role="operator",
        json={"category": "missing_contact"},
    )
    report = resp.json()["report"]
    assert report["place_text"] == "〇〇橋" and report["urgency"] == "high"
    assert report["lat"] is None and report["channel"] == "telegram"
    assert report["category_label"] == "安否不明（連絡が取れない）"


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        ({}, 400, "category is required"),
        ({"category": "tornado"}, 400, "category must be one of"),
        ({"category": "other", "urgency": 3}, 400, "urgency"),
        ({"category": "other", "urgency": "asap"}, 400, "urgency"),
        ({"category": "other", "lat": 43.0}, 400, "together"),
        ({"category": "other", "lat": "north", "lon": 141.0}, 400, "lat"),
        ({"category": "other", "lat": 43.0, "lon": 181.0}, 400, "lon"),
        ({"category": "other", "place_text": "x" * 501}, 400, "place_text"),
        ({"category": "other", "text": "上書き"}, 400, "unknown field"),
    ],
)
def test_bad_report_body_changes_nothing(api: Api, body, status: int, fragment: str) -> None:
    m = seed_inbox(api)
    resp = api.request("POST", f"/api/v1/messages/{m['plain']}/report", role="operator", json=body)
    assert_error(resp, status, fragment)
    assert api.store.count_reports() == 0
    assert api.store.get_inbox_message(m["plain"]).handled is False
    assert len(api.store.message_history(m["plain"])) == 1
    assert_error(
        api.request(
            "POST", "/api/v1/messages/999999/report", role="operator", json={"category": "other"}
        ),
        404,
        "not found",
    )


# ------------------------------------------------------- needs_assistance / missing_contact
NEW = {
    "needs_assistance": "要支援（自力で避難できない）",
    "missing_contact": "安否不明（連絡が取れない）",
}


def test_new_categories_through_filters_csv_and_geojson(api: Api) -> None:
    s = api.store
    help_id = add_report(s, "needs_assistance", "車いすで一人暮らし", (43.05, 141.33), "line", T0).id
    missing_id = add_report(
        s, "missing_contact", "祖母と連絡が取れない", None, "telegram", T0 + timedelta(minutes=1),
    ).id
    s.create_report(category="fire", channel="line", reported_at=T0 + timedelta(minutes=2))
    fc = api.get("/api/v1/reports", params={"category": "needs_assistance,missing_contact"}).json()
    assert [f["id"] for f in fc["features"]] == [missing_id, help_id]
    labels = {
        f["properties"]["category"]: f["properties"]["category_label"] for f in fc["features"]
    }
    assert labels == NEW
    assert fc["features"][1]["geometry"]["coordinates"] == [141.33, 43.05]
    assert fc["features"][0]["geometry"] is None
    assert [
        f["id"]
        for f in api.get("/api/v1/reports", params={"category": "missing_contact"}).json()[
            "features"
        ]
    ] == [missing_id]
    resp = api.get(
        "/api/v1/reports",
        params={"format": "csv", "category": ["needs_assistance", "missing_contact"]},
    )
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert [(r["category"], r["category_label"]) for r in rows] == [
        ("missing_contact", NEW["missing_contact"]),
        ("needs_assistance", NEW["needs_assistance"]),
    ]
    assert_error(api.get("/api/v1/reports", params={"category": "missing"}), 400, "missing_contact")


def test_new_categories_accepted_by_post_and_listed_in_meta(api: Api) -> None:
    for category in NEW:
        resp = api.request(
            "POST", "/api/v1/reports", role="operator", json={"category": category, "text": "電話"}
        )
        assert resp.status_code == 201, resp.text
        assert api.store.get_report(resp.json()["report"]["id"]).category == category
    meta = api.get("/api/v1/meta", role=None).json()
    assert {k: meta["categories"][k] for k in NEW} == NEW
    assert meta["inbox_reasons"]["fallback"]


def test_openapi_describes_inbox_and_new_categories(api: Api) -> None:
    doc = api.get("/api/v1/openapi.json", role=None).json()
    get_params = {p["name"]: p for p in doc["paths"]["/api/v1/reports"]["get"]["parameters"]}
    enums = [
        get_params["category"]["schema"]["items"]["enum"],
        doc["components"]["schemas"]["Report"]["properties"]["category"]["enum"],
    ]
    for path, method in (
        ("/api/v1/reports", "post"),
        ("/api/v1/messages/{message_id}/report", "post"),
    ):
        body = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        if "$ref" in body:
            body = doc["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
        enums.append(body["properties"]["category"]["enum"])
    for enum in enums:
        assert set(NEW) <= set(enum), enum
    inbox = doc["paths"]["/api/v1/messages"]["get"]
    params = {p["name"]: p["schema"] for p in inbox["parameters"]}
    assert params["limit"]["maximum"] == 200 and params["handled"]["enum"] == [
        "false",
        "true",
        "all",
    ]
    assert "InboxMessage" in doc["components"]["schemas"]
    assert "patch" in doc["paths"]["/api/v1/messages/{message_id}"]
