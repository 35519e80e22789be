"""The officials' API on PostgreSQL (fresh database per test; skipped if the server is down)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.store.conftest import pg_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.postgres

T0 = datetime(2025, 11, 26, tzinfo=timezone.utc)


@pytest.fixture
def pg_api(make_api, pg_url, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    from bot.settings import get_settings
    from bot.store import clear_stores

    monkeypatch.setenv("DATABASE_URL", pg_url)
    get_settings.cache_clear()
    clear_stores()
    api = make_api()
    yield api
    api.server.stop()
    api.store.dispose()


def test_reports_filters_paging_and_status_on_postgres(pg_api) -> None:
    s = pg_api.store
    assert s.engine.dialect.name == "postgresql"
    ids = [
        s.create_report(
            category="fire" if i % 2 else "road_flooded",
            text=f"報告{i} 100%",
            lat=43.0 + i * 0.01,
            lon=141.3,
            channel="line",
            reported_at=T0 + timedelta(minutes=i),
        ).id
        for i in range(6)
    ]
    body = pg_api.get(
        "/api/v1/reports", params={"category": "fire", "bbox": "141,43.0,142,43.035"}
    ).json()
    assert [f["id"] for f in body["features"]] == [ids[3], ids[1]]
    assert [
        f["id"]
        for f in pg_api.get(
            "/api/v1/reports", role="operator", params={"q": "報告4 100%"}
        ).json()["features"]
    ] == [ids[4]]
    page1 = pg_api.get("/api/v1/reports", params={"limit": 4}).json()
    page2 = pg_api.get(
        "/api/v1/reports", params={"limit": 4, "cursor": page1["next_cursor"]}
    ).json()
    got = [f["id"] for f in page1["features"] + page2["features"]]
    assert got == list(reversed(ids)) and page2["next_cursor"] is None
    resp = pg_api.request(
        "PATCH", f"/api/v1/reports/{ids[0]}", role="operator", json={"status": "in_progress"}
    )
    assert resp.json()["report"]["status"] == "in_progress"
    assert [h.new_status for h in s.report_history(ids[0])] == ["new", "in_progress"]
    csv_resp = pg_api.get("/api/v1/reports", role="operator", params={"format": "csv"})
    assert csv_resp.content.startswith(b"\xef\xbb\xbf") and "報告5" in csv_resp.content.decode(
        "utf-8-sig"
    )
