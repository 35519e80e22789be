"""The report hot path (``bot.store.database.RowInsert``: SQL compiled once by SQLAlchemy, run on
the DBAPI cursor with the column types' bind processors) stores exactly what a Core insert of the
same row stores, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from bot.store import Store
from bot.store.models import Report, ReportStatusChange
from bot.store.reports import _INSERT_SOURCE, REPORT_KEYS, insert_report, report_values

JST = timezone(timedelta(hours=9))
AT = datetime(2025, 11, 26, 1, 2, 3, 4000, tzinfo=JST)
SEEN = datetime(2025, 11, 26, 0, 30, tzinfo=JST)  # whole seconds: stored with .000000 all the same


#: every field of a report set (a value of each column type: text, float, int, JSON, datetime)
FIELDS = {
    "category": "road_flooded", "text": "道路が冠水しています", "lat": 43.06, "lon": 141.35,
    "place_text": "北1条西2丁目", "accuracy_m": 15.5, "headcount": 3, "needs": ["water", "medical"],
    "urgency": "high", "shelter_id": "E0110001234111", "channel": "line", "resident": "r" * 64,
    "reported_at": SEEN,
}  # fmt: skip


def _values(now: datetime) -> dict:
    return report_values(now, **FIELDS)


def _stored(conn, table: str, row_id: int, key: str = "id") -> tuple:
    """The row as the database holds it (untyped text query: no result processing), minus its id."""
    row = conn.execute(text(f"SELECT * FROM {table} WHERE {key} = :i"), {"i": row_id}).mappings().one()
    return tuple(value for name, value in row.items() if name not in ("id", "report_id"))


def test_report_values_fill_exactly_the_columns_the_hot_path_inserts() -> None:
    assert tuple(_values(AT)) == REPORT_KEYS


def test_hot_path_stores_what_a_core_insert_stores(store: Store) -> None:
    values = _values(AT)
    with store.engine.begin() as conn:
        fast = insert_report(conn, values, [], by="channel:line", now=AT, note="メモ").id
        core = conn.execute(insert(Report.__table__), values).inserted_primary_key[0]
        conn.execute(
            insert(ReportStatusChange.__table__),
            {"report_id": core, "old_status": None, "new_status": "new", "by": "channel:line",
             "note": "メモ", "duplicate_of": None, "at": AT},
        )  # fmt: skip
        assert fast != core
        assert _stored(conn, "reports", fast) == _stored(conn, "reports", core)
        assert _stored(conn, "report_status_log", fast, "report_id") == _stored(
            conn, "report_status_log", core, "report_id"
        )
    got = store.get_report(fast)
    assert got.to_dict() == {**store.get_report(core).to_dict(), "id": fast}
    assert got.reported_at == SEEN and got.needs == ["water", "medical"]


def test_hot_path_errors_are_sqlalchemy_errors_and_roll_back(store: Store) -> None:
    first = store.create_report(category="fire", channel="line", source_message="M-1")
    before = store.count_reports()
    with pytest.raises(IntegrityError):
        with store.engine.begin() as conn:
            report = insert_report(conn, _values(AT), [], by="x", now=AT)
            _INSERT_SOURCE(conn, {"report_id": report.id, "channel": "line", "message_id": "M-1"})
    assert store.count_reports() == before  # the report of the failed transaction is gone
    assert store.get_report(first.id).category == "fire"
