"""The officials' access log (migration 0006): rows are added and read newest first."""

from __future__ import annotations

import pytest

from bot.store import InvalidInput, Store
from bot.store.migrate import current


def test_export_rows_are_kept_newest_first(store: Store) -> None:
    assert current(store.engine) >= "0006"
    store.audit.record("yamada", "viewer", "export", "reports", {"format": "csv", "count": 3})
    store.audit.record("sato", "operator", "export", "reports", {"format": "geojson", "count": 0})
    rows = [r.to_dict() for r in store.audit.recent()]
    assert [(r["official"], r["role"], r["detail"]["format"]) for r in rows] == [
        ("sato", "operator", "geojson"),
        ("yamada", "viewer", "csv"),
    ]
    assert rows[0]["at"] is not None


def test_unknown_action_is_refused(store: Store) -> None:
    with pytest.raises(InvalidInput):
        store.audit.record("yamada", "viewer", "delete", "reports", {})
    assert store.audit.recent() == []
