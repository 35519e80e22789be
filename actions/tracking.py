"""Small readers of the tracker shared by actions and validators (no I/O)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def entity_values(tracker: Tracker, entity: str) -> list[Any]:
    """All values of ``entity`` in the latest user message, in order."""
    return [
        e.get("value")
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == entity and e.get("value") is not None
    ]


def channel_name(tracker: Tracker) -> str:
    """The input channel as the store accepts it (lowercase letters, digits, ``_``)."""
    raw = (tracker.get_latest_input_channel() or "rest").lower()
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in raw)[:32]
    return cleaned or "rest"


def coords(tracker: Tracker) -> tuple[float, float] | None:
    """(lat, lon) from the slots when both are valid numbers."""
    lat, lon = tracker.get_slot("latitude"), tracker.get_slot("longitude")
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if not (-90.0 <= lat_f <= 90.0 and -180.0 <= lon_f <= 180.0):
        return None
    return lat_f, lon_f
