"""Migration 0007: the reports' time index also holds lat/lon, so a map query (time window + bbox)
tests the box in the index; the keyset order and the rows it returns stay the same."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from alembic import command
from sqlalchemy import inspect, select, text

from bot.store import ReportQuery, Store
from bot.store.migrate import alembic_config, current
from bot.store.models import Report

T0 = datetime(2025, 11, 20, tzinfo=timezone.utc)


def _seed(store: Store) -> None:
    rows = []
    for i in range(400):  # a grid over Hokkaido, one report every 15 minutes
        rows.append(
            {
                "category": "road_flooded",
                "text": f"報告 {i}",
                "lat": 41.5 + (i % 20) * 0.2,
                "lon": 140.0 + (i // 20) * 0.25,
                "channel": "line",
                "reported_at": T0 + timedelta(minutes=15 * i),
            }
        )
    store.create_reports_bulk(rows)


def _page_ids(store: Store) -> list[list[int]]:
    query = ReportQuery(
        since=T0,
        until=T0 + timedelta(hours=60),
        bbox=(140.0, 42.0, 142.0, 44.0),
        limit=7,
    )
    pages, cursor = [], None
    while True:
        query.cursor = cursor
        page = store.list_reports(query)
        pages.append([r.id for r in page.reports])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def test_time_index_holds_the_position(store: Store) -> None:
    indexes = {i["name"]: i["column_names"] for i in inspect(store.engine).get_indexes("reports")}
    assert indexes["ix_reports_time_place"] == ["reported_at", "id", "lat", "lon"]
    assert "ix_reports_reported_at_id" not in indexes


def test_map_query_is_answered_from_the_time_index_on_sqlite(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'r.db'}", secret=b"t")
    store.upgrade()
    _seed(store)
    stmt = (
        select(Report)
        .where(
            Report.reported_at >= T0,
            Report.reported_at < T0 + timedelta(days=1),
            Report.lat.between(42.0, 44.0),
            Report.lon.between(140.0, 142.0),
        )
        .order_by(Report.reported_at.desc(), Report.id.desc())
        .limit(101)
    )
    compiled = stmt.compile(store.engine, compile_kwargs={"literal_binds": True})
    with store.engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "ix_reports_time_place" in plan, plan
    store.dispose()


def test_downgrade_to_0006_and_back_keeps_rows_and_pages(store: Store) -> None:
    _seed(store)
    before = _page_ids(store)
    assert sum(len(p) for p in before) > 7  # several pages
    cfg = alembic_config(store.engine)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    assert current(store.engine) == "0006"
    indexes = {i["name"] for i in inspect(store.engine).get_indexes("reports")}
    assert "ix_reports_reported_at_id" in indexes and "ix_reports_time_place" not in indexes
    assert _page_ids(store) == before
    store.upgrade()
    assert current(store.engine) >= "0007"
    assert _page_ids(store) == before
    assert store.count_reports() == 400
