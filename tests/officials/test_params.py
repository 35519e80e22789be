"""Validation with the request models: values as the store wants them, and 400 messages that
name the field and say what is allowed (no server needed)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.officials.errors import ApiError
from bot.officials.fields import JST
from bot.officials.params import validate
from bot.officials.schemas import (
    MessageHandled,
    MessageToReport,
    NoticeIn,
    ReportIn,
    ReportsQuery,
    StatusChange,
)


def message(model, data, in_query: bool = False) -> str:
    with pytest.raises(ApiError) as info:
        validate(model, data, in_query=in_query)
    assert info.value.status_code == 400 and info.value.code == "bad_request"
    return info.value.message


def test_values_come_out_as_the_store_wants_them() -> None:
    body = validate(
        ReportIn,
        {
            "category": "needs_assistance",
            "lat": 43,
            "lon": 141.5,
            "reported_at": "2025-11-26T10:00",
        },
    )
    assert body.dict(exclude_unset=True) == {
        "category": "needs_assistance",
        "lat": 43.0,
        "lon": 141.5,
        "reported_at": datetime(2025, 11, 26, 10, 0, tzinfo=JST),
    }
    assert type(body.category) is str and isinstance(body.lat, float)
    q = validate(
        ReportsQuery,
        {"category": ["fire", "missing_contact"], "limit": "7", "bbox": "141,43,142,44"},
        in_query=True,
    )
    assert (q.category, q.limit, q.bbox, q.format) == (
        ["fire", "missing_contact"],
        7,
        (141.0, 43.0, 142.0, 44.0),
        "geojson",
    )
    since = validate(ReportsQuery, {"since": "2025-11-26T09:00:00Z"}, in_query=True).since
    assert since == datetime(2025, 11, 26, 9, tzinfo=timezone.utc)
    assert validate(MessageToReport, {"category": "other"}).urgency == "high"


@pytest.mark.parametrize(
    "model, data, expected",
    [
        (ReportIn, {"category": "fire", "headcount": "3"}, "headcount must be an integer"),
        (ReportIn, {"category": "fire", "headcount": 1.5}, "headcount must be an integer"),
        (
            ReportIn,
            {"category": "fire", "headcount": 20000},
            "headcount must be between 0 and 10000",
        ),
        (
            ReportIn,
            {"category": "fire", "needs": ["水" * 65]},
            "needs items must be at most 64 characters",
        ),
        (
            ReportIn,
            {"category": "fire", "needs": [""]},
            "needs items must be at least 1 characters",
        ),
        (ReportIn, {"category": "fire", "needs": ["x"] * 21}, "needs may have at most 20 items"),
        (ReportIn, {"category": "fire", "needs": "water"}, "needs must be a list"),
        (ReportIn, {"category": "fire", "lat": True, "lon": 1}, "lat must be a number"),
        (ReportIn, {"category": "fire", "lat": "43", "lon": 1}, "lat must be a number"),
        (ReportIn, {"category": "fire", "lat": 95, "lon": 1}, "lat must be between -90.0 and 90.0"),
        (ReportIn, {"category": "fire", "text": 5}, "text must be a string"),
        (
            ReportIn,
            {"category": "fire", "text": "x" * 4001},
            "text must be at most 4000 characters",
        ),
        (ReportIn, {"category": "tornado"}, "category must be one of road_flooded, "),
        (ReportIn, {"text": "x"}, "category is required: one of road_flooded, building_damage"),
        (ReportIn, {"category": "x", "colour": "red"}, "unknown field 'colour'; allowed: category"),
        (
            ReportIn,
            {"category": "fire", "reported_at": 5},
            "reported_at must be an ISO 8601 string",
        ),
        (
            ReportIn,
            {"category": "fire", "reported_at": "2025-13-01"},
            "reported_at must be an ISO 8601 date or datetime",
        ),
        (
            StatusChange,
            {"status": "confirmed", "duplicate_of": "7"},
            "duplicate_of must be an integer",
        ),
        (StatusChange, {}, "status is required: one of new, confirmed"),
        (MessageHandled, {}, "handled is required: true or false"),
        (MessageHandled, {"handled": 1}, "handled is required: true or false"),
        (NoticeIn, {"title": "", "body": "b", "severity": "info"}, "title is required (a string)"),
        (
            NoticeIn,
            {"title": "t", "body": "b", "severity": "info", "broadcast": "yes"},
            "broadcast must be true or false",
        ),
        (
            NoticeIn,
            {"title": "t", "body": "b", "severity": "critical"},
            "severity must be one of info, warning, emergency",
        ),
    ],
)
def test_body_messages_name_the_field(model, data, expected: str) -> None:
    assert message(model, data).startswith(expected)


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"limit": "0"}, "limit must be an integer between 1 and 5000"),
        ({"limit": "ten"}, "limit must be an integer between 1 and 5000"),
        ({"category": ["fire"] * 21}, "too many values for 'category' (at most 20)"),
        ({"category": ["fire", "tornado"]}, "category items must be one of road_flooded"),
        ({"q": "x" * 101}, "parameter 'q' is longer than 100 characters"),
        ({"format": "xml"}, "format must be one of geojson, csv"),
        ({"bbox": "1,2,3"}, "bbox must be minLon,minLat,maxLon,maxLat (four numbers)"),
        ({"bbox": "1,2,3,nan"}, "bbox values must be finite numbers"),
        ({"since": "1999-12-31"}, "since must be between 2000-01-01 and 2100-01-01"),
        ({"since": "2025-11-27", "until": "2025-11-26"}, "since must be earlier than until"),
    ],
)
def test_query_messages_name_the_parameter(data, expected: str) -> None:
    assert message(ReportsQuery, data, in_query=True).startswith(expected)


def test_time_window_without_offset_is_japan_time() -> None:
    q = validate(ReportsQuery, {"since": "2025-11-26"}, in_query=True)
    assert q.since is not None and q.since.utcoffset() == timedelta(hours=9)
