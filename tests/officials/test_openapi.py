"""The served OpenAPI document: generated from the models, complete, and true.

- every ``$ref`` resolves, every route is documented and every documented operation exists;
- every example in the document (request bodies, parameters, schemas) validates against its
  schema, and the example requests, sent to the live app, are accepted;
- the answers to them (and to every other request of the officials' tests, through the test
  client) match the documented response schemas.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gis.models import Site
from tests.officials.conftest import Api
from tests.officials.contract import Contract

REPO = Path(__file__).resolve().parents[2]
SITE = Site(
    id="E0110001234111",
    name="○○小学校",
    address="○○町1-2",
    municipality="○○市",
    lat=43.06,
    lon=141.35,
    hazards=["flood", "earthquake"],
    kind="shelter",
    same_as_shelter=True,
    remarks="",
)


class FakeIndex:
    """Just enough of the GIS index for /shelters: one designated shelter."""

    meta = [{"attribution": "出典：テスト用のデータ"}]

    def sites_in_bbox(self, *bbox: float, kind: str | None = None, limit: int = 1000) -> list:
        return [SITE][:limit]

    def get_site(self, site_id: str) -> Site | None:
        return SITE if site_id == SITE.id else None


def served(api: Api) -> Contract:
    resp = api.get("/api/v1/openapi.json", role=None)
    assert resp.status_code == 200
    return Contract(resp.json())


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op) for path, item in doc["paths"].items() for method, op in item.items()
    ]


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_document_is_complete_and_consistent(api: Api) -> None:
    c = served(api)
    doc = c.document
    assert doc["openapi"] == "3.0.3"
    names = set(doc["components"]["schemas"])
    for ref in refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in names, ref
    routes = set()
    for route in api.server.app.router.routes:
        path = "/" + route.path
        if path.startswith("/api/v1"):
            templ = re.sub(r"<(\w+):str>", r"{\1}", path)
            routes |= {(templ, m.lower()) for m in route.methods}
    documented = {(path, method) for path, method, _ in operations(doc)}
    assert documented == routes
    for path, method, op in operations(doc):
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", path)), (path, method)
        assert "default" in op["responses"] and any(s.startswith("2") for s in op["responses"])
        if op.get("security") != []:
            assert {"401", "403"} <= set(op["responses"]), (path, method)
    # the store's limits and the vocabularies reach the document
    report_in = doc["components"]["schemas"]["ReportIn"]["properties"]
    assert report_in["text"]["maxLength"] == 4000 and report_in["headcount"]["maximum"] == 10000
    assert {"needs_assistance", "missing_contact"} <= set(report_in["category"]["enum"])
    assert doc["components"]["schemas"]["NoticeIn"]["properties"]["title"]["maxLength"] == 100
    assert "const" not in str(doc)


def test_every_example_validates_against_its_schema(api: Api) -> None:
    c = served(api)
    doc = c.document
    checked = 0
    for name, schema in doc["components"]["schemas"].items():
        if "example" in schema:
            assert c.errors(schema, schema["example"]) == [], name
            checked += 1
    bodies = 0
    for path, method, op in operations(doc):
        for param in op.get("parameters", []):
            if "example" in param:
                assert c.errors(param["schema"], param["example"]) == [], (path, param["name"])
                checked += 1
        media = op.get("requestBody", {}).get("content", {}).get("application/json")
        if media is not None:
            assert "example" in media, f"{method.upper()} {path} has no example request"
            assert c.errors(media["schema"], media["example"]) == [], (path, method)
            bodies += 1
    assert bodies == 7 and checked >= 14


def _example_query(op: dict[str, Any]) -> dict[str, Any]:
    return {
        p["name"]: p["example"]
        for p in op.get("parameters", [])
        if p["in"] == "query" and "example" in p
    }


def test_example_requests_are_accepted_and_answers_match(make_api) -> None:
    """Every documented operation, called with its examples, answers its documented success
    status with a body that matches the document (checked by the test client)."""
    from tests.officials.test_browser import tiny_png

    api = make_api(gis_loader=lambda _cache: FakeIndex())
    s = api.store
    report = s.create_report(
        category="road_flooded", text="冠水", lat=43.0, lon=141.3, channel="line"
    )
    open_msg = s.add_inbox_message(channel="line", user_id="U1", text="?", reason="fallback")
    to_convert = s.add_inbox_message(
        channel="line", user_id="U2", text="祖母と連絡が取れない", reason="out_of_scope"
    )
    s.add_official("retiring-user", "viewer")
    ref = s.save_photo(tiny_png(), "image/png")
    s.attach_photo(report.id, ref)
    values = {
        "report_id": report.id,
        "message_id": {"patch": open_msg.id, "post": to_convert.id},
        "ref": ref,
        "shelter_id": SITE.id,
        "name": "retiring-user",
    }
    c = served(api)
    for _ in range(100):  # the fake GIS index loads in the background
        if api.get("/api/v1/shelters", params={"limit": 1}).status_code == 200:
            break
    seen = []
    for path, method, op in operations(c.document):
        url = path
        for name, value in values.items():
            if isinstance(value, dict):
                value = value.get(method, next(iter(value.values())))
            url = url.replace("{" + name + "}", str(value))
        kwargs: dict[str, Any] = {"params": _example_query(op)}
        media = op.get("requestBody", {}).get("content", {})
        if "application/json" in media:
            kwargs["json"] = media["application/json"]["example"]
        elif "image/png" in media:
            kwargs["data"] = tiny_png()
            kwargs["headers"] = {"Content-Type": "image/png"}
        role = None if op.get("security") == [] else "admin"
        resp = api.request(method.upper(), url, role=role, **kwargs)  # checked by the client
        expected = min(int(s) for s in op["responses"] if s.startswith("2"))
        assert resp.status_code == expected, (method, url, resp.text[:300])
        seen.append((method, path))
    assert len(seen) == len(operations(c.document)) == 21
    # the example requests did what they say
    assert s.get_report(report.id).status == "confirmed"
    assert s.get_inbox_message(open_msg.id).handled is True
    converted = s.get_inbox_message(to_convert.id)
    assert s.get_report(converted.report_id).category == "missing_contact"
    assert s.latest_shelter_status([SITE.id])[SITE.id].congestion == "crowded"
    assert s.authenticate(api.tokens["admin"]) is not None
    assert [o.name for o in s.list_officials() if o.revoked_at is not None] == ["retiring-user"]


def test_the_checker_refuses_answers_the_document_does_not_describe(api: Api) -> None:
    c = served(api)
    ok = {"name": "a", "role": "viewer"}
    c.check_response("GET", "/api/v1/me", 200, "application/json", ok)
    for status, body, fragment in [
        (200, {"name": 1, "role": "viewer"}, "not of type"),
        (200, {**ok, "token": "x"}, "Additional properties"),
        (200, {"name": "a", "role": "root"}, "is not one of"),
        (401, {"message": "no"}, "'error' is a required property"),
    ]:
        with pytest.raises(AssertionError, match=fragment):
            c.check_response("GET", "/api/v1/me", status, "application/json", body)
    with pytest.raises(AssertionError, match="content type"):
        c.check_response("GET", "/api/v1/me", 200, "text/html", "<p>")
    report = api.get("/api/v1/reports").json()
    report["features"] = [{"type": "Feature", "id": 1, "geometry": None, "properties": {}}]
    with pytest.raises(AssertionError, match="required property"):
        c.check_response("GET", "/api/v1/reports", 200, "application/json", report)


def test_models_read_no_vocabulary_at_import() -> None:
    code = (
        "import bot.officials.api, bot.officials.openapi, bot.officials.schemas,"
        " bot.officials.responses, bot.store.vocab as v;"
        "from bot import vocabulary;"
        "assert vocabulary.load.cache_info().currsize == 0, 'vocabulary read at import';"
        "assert 'CATEGORIES' not in vars(v)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
