"""Test data for the report store, shared by the store's, the actions' and the officials' tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.store import Store
from bot.store.models import Report


def add_report(
    store: Store,
    category: str,
    text: str | None,
    point: tuple[float, float] | None,
    channel: str,
    at: datetime | None = None,
    **fields: Any,
) -> Report:
    """``store.create_report`` in one line: ``point`` is (lat, lon) or None, ``at`` the time it was
    reported (now when None); any other field of the report by name."""
    if point is not None:
        fields["lat"], fields["lon"] = point
    if at is not None:
        fields["reported_at"] = at
    return store.create_report(category=category, text=text, channel=channel, **fields)
