"""Report, inbox message and shelter serialisation: GeoJSON features and CSV (UTF-8 with BOM for
Excel)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from bot.officials.params import JST
from bot.store import InboxMessage, Report, vocab
from bot.store.inbox import INBOX_REASONS

CSV_COLUMNS = [
    "id",
    "reported_at",
    "received_at",
    "category",
    "category_label",
    "status",
    "status_label",
    "urgency",
    "text",
    "place_text",
    "lat",
    "lon",
    "accuracy_m",
    "headcount",
    "needs",
    "shelter_id",
    "channel",
    "photos",
    "duplicate_of",
    "updated_at",
]


def report_properties(report: Report) -> dict[str, Any]:
    props = report.to_dict()
    props["category_label"] = vocab.CATEGORIES.get(report.category, report.category)
    props["status_label"] = vocab.REPORT_STATUSES.get(report.status, report.status)
    props["urgency_label"] = vocab.URGENCIES.get(report.urgency, report.urgency)
    # a viewer's report lists no photos (bot/officials/privacy.py) but says how many there are
    props["photo_urls"] = [f"/api/v1/photos/{ref}" for ref in props["photos"]]
    props["photo_count"] = len(report.photo_refs)
    return props


def message_properties(message: InboxMessage) -> dict[str, Any]:
    """An inbox message for officials (never the resident's pseudonym)."""
    props = message.to_dict()
    props["reason_label"] = INBOX_REASONS.get(message.reason, message.reason)
    return props


def report_feature(report: Report) -> dict[str, Any]:
    geometry = None
    if report.lat is not None and report.lon is not None:
        geometry = {"type": "Point", "coordinates": [report.lon, report.lat]}
    return {
        "type": "Feature",
        "id": report.id,
        "geometry": geometry,
        "properties": report_properties(report),
    }


def feature_collection(features: list[dict[str, Any]], **members: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features, **members}


def _jst(value: datetime | None) -> str:
    return value.astimezone(JST).isoformat(timespec="seconds") if value else ""


def _cell(value: Any) -> str:
    """Text for a CSV cell; a leading = + - @ is quoted so a spreadsheet never runs it."""
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def reports_csv(reports: list[Report]) -> bytes:
    """CSV in UTF-8 with a BOM (Excel opens Japanese text correctly); times in JST."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in reports:
        writer.writerow(
            [
                r.id,
                _jst(r.reported_at),
                _jst(r.received_at),
                r.category,
                vocab.CATEGORIES.get(r.category, r.category),
                r.status,
                vocab.REPORT_STATUSES.get(r.status, r.status),
                r.urgency,
                _cell(r.text),
                _cell(r.place_text),
                "" if r.lat is None else r.lat,
                "" if r.lon is None else r.lon,
                "" if r.accuracy_m is None else r.accuracy_m,
                "" if r.headcount is None else r.headcount,
                _cell(";".join(r.needs or [])),
                r.shelter_id or "",
                r.channel,
                len(r.photo_refs),
                "" if r.duplicate_of is None else r.duplicate_of,
                _jst(r.updated_at),
            ]
        )
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


SITE_FIELDS = (
    "id",
    "name",
    "address",
    "municipality",
    "kind",
    "hazards",
    "same_as_shelter",
    "remarks",
)


def site_feature(site: Any, status: Any | None) -> dict[str, Any]:
    data = site.to_dict() if hasattr(site, "to_dict") else dict(vars(site))
    props = {k: data.get(k) for k in SITE_FIELDS if k in data}
    props["status"] = status.status if status is not None else None
    props["congestion"] = status.congestion if status is not None else None
    props["congestion_label"] = (
        vocab.CONGESTION.get(status.congestion)
        if status is not None and status.congestion
        else None
    )
    props["shortages"] = list(status.shortages or []) if status is not None else []
    props["status_at"] = status.at.isoformat() if status is not None else None
    props["status_by"] = status.by if status is not None else None
    return {
        "type": "Feature",
        "id": data.get("id"),
        "geometry": {"type": "Point", "coordinates": [data.get("lon"), data.get("lat")]},
        "properties": props,
    }
