"""Hostile bodies to the officials' API beyond what schemathesis generates from the document.

Deeply nested JSON, invalid UTF-8, NUL characters and lone surrogates in text fields: never a
500, and nothing stored for a refused body.
"""

from __future__ import annotations

import json

import requests

from tests.fuzz.test_hostile_webhooks import BROKEN_BODIES
from tests.officials.conftest import Api

REPORT = {"category": "road_flooded", "text": "道路が冠水", "lat": 43.06, "lon": 141.35}


def test_report_bodies_that_do_not_parse_or_hold_broken_text_store_nothing(api: Api) -> None:
    headers = {
        "Authorization": f"Bearer {api.tokens['operator']}",
        "Content-Type": "application/json",
    }
    url = f"{api.url}/api/v1/reports"
    for name, raw in BROKEN_BODIES.items():
        r = requests.post(url, data=raw, headers=headers, timeout=30)
        assert r.status_code in (400, 413), (name, r.status_code, r.text)
        assert r.json()["error"]["status"] == r.status_code  # the API's one error shape
    broken_text = [
        {**REPORT, "text": "\ud800 lone surrogate"},
        {**REPORT, "place_text": "\udfff"},
        {**REPORT, "text": "NUL\x00inside"},
        {**REPORT, "text": "\x1b[31m escape"},
    ]
    for body in broken_text:
        r = requests.post(url, data=json.dumps(body).encode(), headers=headers, timeout=30)
        assert r.status_code in (201, 400), (body, r.status_code, r.text)
    for stored in api.get("/api/v1/reports", role="operator").json()["features"]:
        text = stored["properties"]["text"] or ""
        assert "\x00" not in text and not any("\ud800" <= ch <= "\udfff" for ch in text)
    odd = {**REPORT, "text": "避難所\u202eはどこ\u202c 🏠 \u200b"}
    r = api.request("POST", "/api/v1/reports", role="operator", json=odd)
    assert r.status_code == 201, r.text
    report = api.get(f"/api/v1/reports/{r.json()['report']['id']}", role="operator").json()
    assert report["report"]["text"] == odd["text"]


def test_query_strings_and_paths_with_broken_bytes_are_no_500(api: Api) -> None:
    auth = {"Authorization": f"Bearer {api.tokens['admin']}"}
    requests_ = [
        ("GET", "/api/v1/reports?q=%ED%A0%80"),
        ("GET", "/api/v1/reports?q=%00"),
        ("GET", "/api/v1/reports?q=%ff%fe"),
        ("GET", "/api/v1/reports?since=%00&until=%ff"),
        ("GET", "/api/v1/reports?bbox=%00,1,2,3"),
        ("GET", "/api/v1/reports?category=%ED%A0%80"),
        ("GET", "/api/v1/reports?cursor=%00%ff"),
        ("GET", "/api/v1/reports?" + "q=a&" * 2_000),
        ("GET", "/api/v1/reports/%00"),
        ("GET", "/api/v1/reports/%ED%A0%80"),
        ("GET", "/api/v1/photos/..%2f..%2f..%2fetc%2fpasswd"),
        ("GET", "/api/v1/photos/%00.jpg"),
        ("GET", "/api/v1/messages?since=%ED%A0%80"),
        ("PATCH", "/api/v1/messages/%ff"),
        ("DELETE", "/api/v1/officials/%ED%A0%80"),
        ("DELETE", "/api/v1/officials/%00"),
        ("PUT", "/api/v1/shelters/%ED%A0%80/status"),
        ("GET", "/api/v1/evacuees/summary?cell=%00"),
    ]
    for method, path in requests_:
        r = requests.request(method, api.url + path, headers=auth, json={}, timeout=30)
        assert r.status_code < 500 or r.status_code == 503, (method, path, r.status_code, r.text)
    assert api.get("/api/v1/me", role="admin").json()["role"] == "admin"
