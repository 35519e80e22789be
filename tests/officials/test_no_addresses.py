"""Residents' raw platform ids (table resident_addresses, bot/store/addresses.py) are read by no
officials' route: none of /api/v1 lists, returns or exports them, for any role."""

from __future__ import annotations

import re
from typing import Any

RAW_LINE = "U" + "d" * 32
RAW_TELEGRAM = "5550001234"


def test_no_api_route_returns_a_raw_platform_id(api: Any) -> None:
    store = api.store
    line_sender = store.sender_id("line", RAW_LINE)
    telegram_sender = store.sender_id("telegram", RAW_TELEGRAM)
    store.remember_address(line_sender, RAW_LINE)
    store.remember_address(telegram_sender, RAW_TELEGRAM)
    report = store.create_report(
        category="road_flooded", text="駅前が冠水", urgency="high", lat=43.06, lon=141.35,
        channel="line", resident=store.resident_id("line", line_sender),
    )  # fmt: skip
    store.upsert_evacuee(
        resident=store.resident_id("telegram", telegram_sender), channel="telegram",
        place_type="car", headcount=2, vulnerable={}, needs=[], consent=True, lat=43.06,
        lon=141.35, place_text=None,
    )  # fmt: skip
    message = store.add_inbox_message(
        channel="line", user_id=line_sender, text="助けて", reason="fallback", intent=None,
        confidence=None, danger=True, danger_terms=[], place_text=None, lat=None, lon=None,
        channel_message_id=None,
    )  # fmt: skip
    document = api.get("/api/v1/openapi.json", role=None).json()
    assert not any("address" in path for path in document["paths"])
    ids = {
        "report_id": str(report.id), "message_id": str(message.id), "shelter_id": "E0110000259202",
        "ref": "0" * 64 + ".jpg", "name": "admin-user",
    }  # fmt: skip
    seen, ok = 0, 0
    for path, operations in document["paths"].items():
        if "get" not in operations:
            continue
        concrete = re.sub(r"\{([^}]+)\}", lambda m: ids[m.group(1)], path)
        for params in ({}, {"format": "csv"}, {"format": "geojson"}, {"handled": "all"}):
            for role in ("viewer", "admin"):
                response = api.get(concrete, role=role, params=params)
                body = response.text
                seen += 1
                ok += response.status_code == 200
                assert RAW_LINE not in body and RAW_TELEGRAM not in body, (path, params, role)
    assert seen > 20 and ok > 20  # the routes answered, with the rows above in them
    # the addresses are still there for the channels
    assert store.address_of(line_sender) == RAW_LINE
