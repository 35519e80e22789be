"""Every query and request body of ``/api/v1``, declared once as pydantic models.

The API validates with these models (:mod:`bot.officials.params`), and the OpenAPI document's
parameters and ``components.schemas`` are generated from them (:mod:`bot.officials.openapi`).
Limits come from :mod:`bot.store.validation`; vocabularies from :mod:`bot.store.vocab`, read when
a value is validated or the document is built, never at import time. The store checks every
field again (it is also called by the bot); these models give the API its types, bounds and
error messages, and the document its schemas and examples.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Extra, Field, StrictBool, StrictStr, root_validator

from bot.officials.fields import (
    AccuracyM,
    BBox,
    Category,
    Congestion,
    Headcount,
    Latitude,
    ListItem,
    Longitude,
    NoticeSeverity,
    ReportId,
    ReportStatus,
    Role,
    ShelterState,
    Supply,
    Time,
    Urgency,
    document_schema,
)
from bot.store import validation as v

MAX_LIMIT = 5000
DEFAULT_LIMIT = 100
DEFAULT_SHELTER_LIMIT = 1000
DEFAULT_NOTICE_LIMIT = 20
MAX_CURSOR = 200
MAX_Q = 100


# ---------------------------------------------------------------------- base models
class ApiModel(BaseModel):
    """A request body: unknown fields are refused; ``example`` is shown in the document."""

    example: ClassVar[dict[str, Any] | None] = None

    class Config:
        extra = Extra.forbid
        schema_extra = staticmethod(document_schema)


class QueryModel(ApiModel):
    """Query parameters (each given at most once, except the lists)."""


# ---------------------------------------------------------------------- queries
class ReportsQuery(QueryModel):
    since: Time | None = Field(
        None,
        description="reported at or after (ISO 8601; no offset = JST)",
        example="2025-11-26T09:00:00+09:00",
    )
    until: Time | None = Field(None, description="reported before (ISO 8601; no offset = JST)")
    category: list[Category] = Field(
        [],
        max_items=v.MAX_LIST_ITEMS,
        description="repeatable or comma-separated",
        example=["road_flooded", "needs_assistance"],
    )
    status: list[ReportStatus] = Field(
        [], max_items=v.MAX_LIST_ITEMS, description="repeatable or comma-separated"
    )
    bbox: BBox | None = Field(
        None,
        description="minLon,minLat,maxLon,maxLat (WGS84 / JGD2011 degrees)",
        example="141.2,42.9,141.5,43.2",
    )
    q: StrictStr | None = Field(
        None,
        max_length=MAX_Q,
        description="text contained in the report text or place (case-insensitive; operator+)",
    )
    limit: int = Field(
        DEFAULT_LIMIT,
        ge=1,
        le=MAX_LIMIT,
        description="page size; above 500 the request is an export (written to the audit log)",
    )
    cursor: StrictStr | None = Field(
        None,
        max_length=MAX_CURSOR,
        description="next_cursor of the previous page (also in X-Next-Cursor)",
    )
    format: Literal["geojson", "csv"] = Field(
        "geojson",
        description="geojson (default) or csv (UTF-8 with BOM, JST times); given, the request is "
        "an export (written to the audit log)",
    )

    @root_validator(skip_on_failure=True)
    def since_before_until(cls, values: dict[str, Any]) -> dict[str, Any]:
        since, until = values.get("since"), values.get("until")
        if since is not None and until is not None and since >= until:
            raise ValueError("since must be earlier than until")
        return values


class NoQuery(QueryModel):
    """No query parameters."""


class EvacueeSummaryQuery(QueryModel):
    bbox: BBox | None = Field(None, description="minLon,minLat,maxLon,maxLat")
    cell: float | None = Field(
        None, ge=0.001, le=1.0, description="grid cell size in degrees (adds cells)", example=0.01
    )


class SheltersQuery(QueryModel):
    bbox: BBox | None = Field(
        None, description="minLon,minLat,maxLon,maxLat", example="138.8,35.05,138.9,35.15"
    )
    kind: Literal["emergency_site", "shelter", "welfare_shelter"] | None = Field(
        None, description="site kind"
    )
    limit: int = Field(DEFAULT_SHELTER_LIMIT, ge=1, le=MAX_LIMIT, description="max sites")


class AuditQuery(QueryModel):
    limit: int = Field(100, ge=1, le=1000, description="number of rows, newest first")


class NoticesQuery(QueryModel):
    limit: int = Field(
        DEFAULT_NOTICE_LIMIT, ge=1, le=v.MAX_NOTICE_LIMIT, description="number of notices"
    )


class MessagesQuery(QueryModel):
    handled: Literal["false", "true", "all"] = Field(
        "false", description="false (default): open messages; true: handled ones; all"
    )
    since: Time | None = Field(
        None,
        description="received at or after (ISO 8601; no offset = JST)",
        example="2025-11-29T06:00:00+09:00",
    )
    limit: int = Field(v.DEFAULT_INBOX_LIMIT, ge=1, le=v.MAX_INBOX_LIMIT, description="page size")
    cursor: StrictStr | None = Field(
        None,
        max_length=MAX_CURSOR,
        description="next_cursor of the previous page (also in X-Next-Cursor)",
    )


# ---------------------------------------------------------------------- bodies
class ReportIn(ApiModel):
    """A report taken by phone or radio (channel ``staff``)."""

    category: Category
    text: StrictStr | None = Field(None, max_length=v.MAX_TEXT)
    lat: Latitude | None = None
    lon: Longitude | None = None
    place_text: StrictStr | None = Field(None, max_length=v.MAX_PLACE_TEXT)
    accuracy_m: AccuracyM | None = None
    headcount: Headcount | None = None
    needs: list[ListItem] | None = Field(None, max_items=v.MAX_LIST_ITEMS)
    urgency: Urgency | None = None
    shelter_id: StrictStr | None = Field(None, max_length=32, description="共通ID")
    reported_at: Time | None = None

    example = {
        "category": "needs_assistance",
        "text": "電話: 足の悪い高齢者が一人で自宅にいる",
        "lat": 43.05,
        "lon": 141.34,
        "headcount": 1,
        "urgency": "high",
        "reported_at": "2025-11-26T10:00:00+09:00",
    }


class StatusChange(ApiModel):
    """A status move of a report (written to its audit log)."""

    status: ReportStatus
    note: StrictStr | None = Field(None, max_length=v.MAX_NOTE)
    duplicate_of: ReportId | None = None

    example = {"status": "confirmed", "note": "現地確認"}


class ShelterStatusIn(ApiModel):
    status: ShelterState
    congestion: Congestion | None = None
    shortages: list[Supply] = Field([], max_items=v.MAX_LIST_ITEMS)

    example = {
        "status": "open",
        "congestion": "crowded",
        "shortages": ["water", "blankets"],
    }


class NoticeIn(ApiModel):
    title: StrictStr = Field(..., min_length=1, max_length=v.MAX_NOTICE_TITLE)
    body: StrictStr = Field(..., min_length=1, max_length=v.MAX_NOTICE_BODY)
    severity: NoticeSeverity = Field(..., description="emergency for 避難指示 and other orders")
    broadcast: StrictBool = False

    example = {
        "title": "給水所の開設",
        "body": "○○公園で給水を始めました。容器をお持ちください。",
        "severity": "info",
        "broadcast": False,
    }


class OfficialIn(ApiModel):
    name: StrictStr = Field(..., min_length=1, max_length=v.MAX_BY)
    role: Role

    example = {"name": "鈴木", "role": "operator"}


class MessageHandled(ApiModel):
    handled: StrictBool
    note: StrictStr | None = Field(None, max_length=v.MAX_NOTE)

    example = {"handled": True, "note": "電話で回答"}


class MessageToReport(ApiModel):
    category: Category
    urgency: Urgency = Field("high", description="high unless said")
    place_text: StrictStr | None = Field(
        None, max_length=v.MAX_PLACE_TEXT, description="defaults to the message's place words"
    )
    lat: Latitude | None = Field(None, description="defaults to the message's location")
    lon: Longitude | None = None

    example = {
        "category": "missing_contact",
        "urgency": "high",
        "lat": 43.062,
        "lon": 141.354,
    }


REQUEST_MODELS: tuple[type[BaseModel], ...] = (
    ReportIn,
    StatusChange,
    ShelterStatusIn,
    NoticeIn,
    OfficialIn,
    MessageHandled,
    MessageToReport,
)
