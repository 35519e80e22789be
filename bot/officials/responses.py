"""What ``/api/v1`` answers, declared as pydantic models for the OpenAPI document.

The handlers build their answers with :mod:`bot.officials.serialize`; these models only describe
them (``components.schemas``), and the tests check every answer they receive against the served
document. A field typed ``X | None`` with ``Field(...)`` is always present and may be null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Extra, Field

from bot.officials.fields import (
    BroadcastStatus,
    Category,
    Congestion,
    InboxAction,
    InboxReason,
    NoticeSeverity,
    ReportStatus,
    Role,
    ShelterState,
    Supply,
    Urgency,
    document_schema,
)


class Out(BaseModel):
    """An answer of the API (no other fields than declared; a field that may be left out is not
    null when present)."""

    example: ClassVar[dict[str, Any] | None] = None
    null_when_required_only: ClassVar[bool] = True

    class Config:
        extra = Extra.forbid
        schema_extra = staticmethod(document_schema)


# ---------------------------------------------------------------------- errors
class ErrorDetail(Out):
    status: int
    code: str = Field(..., description="stable code, e.g. bad_request, invalid_transition")
    message: str = Field(..., description="for humans: names the parameter or field and why")


class Error(Out):
    """The one error shape of the API."""

    error: ErrorDetail
    example = {"error": {"status": 400, "code": "bad_request", "message": "limit must be ..."}}


# ---------------------------------------------------------------------- reports
class Point(Out):
    type: Literal["Point"]
    coordinates: list[float] = Field(..., min_items=2, max_items=2, description="[lon, lat]")


class StatusLogEntry(Out):
    old_status: ReportStatus | None = Field(...)
    new_status: ReportStatus
    by: str
    note: str | None = Field(..., description="null for viewers (officials' free text)")
    duplicate_of: int | None = Field(...)
    at: datetime


ROUNDED_FOR_VIEWERS = "exact for operators; rounded to 0.001° (~100 m) for viewers"


class Report(Out):
    id: int
    category: Category
    category_label: str
    status: ReportStatus
    status_label: str
    text: str | None = Field(
        ..., description="the resident's words; null for viewers (may carry an address or a name)"
    )
    lat: float | None = Field(..., description=ROUNDED_FOR_VIEWERS)
    lon: float | None = Field(..., description=ROUNDED_FOR_VIEWERS)
    place_text: str | None = Field(..., description="the written place; null for viewers")
    accuracy_m: float | None = Field(...)
    headcount: int | None = Field(...)
    needs: list[str]
    urgency: Urgency
    urgency_label: str
    shelter_id: str | None = Field(..., description="共通ID")
    channel: str
    reported_at: datetime
    received_at: datetime
    updated_at: datetime
    duplicate_of: int | None = Field(...)
    photos: list[str] = Field(..., description="photo refs; empty for viewers")
    photo_urls: list[str] = Field(
        ..., description="where operators fetch the photos; empty for viewers"
    )
    photo_count: int = Field(..., ge=0, description="how many photos (viewers too)")
    history: list[StatusLogEntry] | None = Field(
        None, description="the audit log (one report, and after a status change)"
    )


class ReportFeature(Out):
    type: Literal["Feature"]
    id: int
    geometry: Point | None = Field(...)
    properties: Report


class ReportCollection(Out):
    type: Literal["FeatureCollection"]
    features: list[ReportFeature]
    count: int
    next_cursor: str | None = Field(..., description="also in X-Next-Cursor")


class ReportEnvelope(Out):
    report: Report


class PhotoRef(Out):
    photo: str
    url: str


# ---------------------------------------------------------------------- evacuees
class EvacueeTotal(Out):
    registrations: int
    people: int
    households_needing_help: int
    households_with_medical_needs: int


class PlaceCount(Out):
    registrations: int
    people: int


class EvacueeCell(Out):
    """A grid cell with at least 3 registrations (never fewer: no cell singles out a household)."""

    min_lat: float
    min_lon: float
    size_deg: float = Field(
        ..., description="side of the cell: cell_deg, or 4 × cell_deg when merged"
    )
    merged: bool = Field(
        ..., description="true: cells with fewer than 3 registrations merged into the larger cell"
    )
    registrations: int
    people: int
    households_needing_help: int


class SummaryLabels(Out):
    place_types: dict[str, str]
    vulnerable: dict[str, str]


class EvacueeSummary(Out):
    """With bbox, only cells (of the grid) with at least 3 registrations are counted, so that no
    area singles out a household; without bbox, the totals are the whole municipality's."""

    total: EvacueeTotal
    by_place_type: dict[str, PlaceCount]
    vulnerable_people: dict[str, int]
    labels: SummaryLabels
    cell_deg: float | None = Field(None, description="with the cell parameter")
    cells: list[EvacueeCell] | None = Field(None, description="with the cell parameter")


# ---------------------------------------------------------------------- shelters
class SiteProperties(Out):
    id: str
    name: str
    kind: str
    address: str | None = None
    municipality: str | None = None
    hazards: list[str] | None = None
    same_as_shelter: bool | None = None
    remarks: str | None = None
    status: ShelterState | None = Field(...)
    congestion: Congestion | None = Field(...)
    congestion_label: str | None = Field(...)
    shortages: list[Supply]
    status_at: datetime | None = Field(...)
    status_by: str | None = Field(...)


class SiteFeature(Out):
    type: Literal["Feature"]
    id: str
    geometry: Point
    properties: SiteProperties


class SiteCollection(Out):
    type: Literal["FeatureCollection"]
    features: list[SiteFeature]
    count: int
    attribution: list[str]


class ShelterStatus(Out):
    shelter_id: str
    status: ShelterState
    congestion: Congestion | None = Field(...)
    shortages: list[Supply]
    by: str
    at: datetime


class ShelterStatusEnvelope(Out):
    shelter_status: ShelterStatus


# ---------------------------------------------------------------------- notices
class BroadcastOutcome(Out):
    status: BroadcastStatus
    detail: str
    at: datetime


class Notice(Out):
    id: int
    title: str
    body: str
    severity: NoticeSeverity
    created_at: datetime
    created_by: str
    broadcast: dict[str, BroadcastOutcome] = Field(
        ..., description="per channel (line, telegram); empty when not broadcast"
    )


class NoticeList(Out):
    notices: list[Notice]
    count: int


class NoticeEnvelope(Out):
    notice: Notice


# ---------------------------------------------------------------------- officials
class Me(Out):
    name: str
    role: Role


class OfficialOut(Out):
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None = Field(...)


class OfficialList(Out):
    officials: list[OfficialOut]


class OfficialCreated(Out):
    official: OfficialOut
    token: str = Field(..., description="shown once; stored only as its SHA-256 hash")


class Revoked(Out):
    revoked: str


# ---------------------------------------------------------------------- audit (admin)
class AuditDetail(Out):
    format: Literal["geojson", "csv"]
    rows: int = Field(..., description="how many rows were handed out (never the rows)")
    filters: dict[str, Any] = Field(..., description="the request's filters")
    path: str


class AuditEntryOut(Out):
    id: int
    at: datetime
    official: str
    role: Role
    action: Literal["export"]
    resource: str
    detail: AuditDetail


class AuditLog(Out):
    """Every export of personal data, newest first (docs/privacy.md)."""

    entries: list[AuditEntryOut]
    count: int


# ---------------------------------------------------------------------- inbox
class InboxLogEntry(Out):
    action: InboxAction
    by: str
    note: str | None = Field(...)
    report_id: int | None = Field(...)
    at: datetime


class InboxMessage(Out):
    """A resident message the bot could not act on (never the resident's pseudonym)."""

    id: int
    channel: str
    text: str = Field(..., max_length=2000)
    reason: InboxReason
    reason_label: str
    intent: str | None = Field(...)
    confidence: float | None = Field(...)
    danger: bool
    danger_terms: list[str]
    place_text: str | None = Field(...)
    lat: float | None = Field(...)
    lon: float | None = Field(...)
    has_place: bool
    received_at: datetime
    handled: bool
    handled_at: datetime | None = Field(...)
    handled_by: str | None = Field(...)
    handled_note: str | None = Field(...)
    report_id: int | None = Field(...)
    history: list[InboxLogEntry] | None = Field(
        None, description="the audit log (after a change or a conversion)"
    )


class MessagePage(Out):
    messages: list[InboxMessage]
    count: int
    unhandled: int = Field(..., description="open messages in all (the dashboard's badge)")
    next_cursor: str | None = Field(..., description="also in X-Next-Cursor")


class MessageEnvelope(Out):
    message: InboxMessage


class MessageReported(Out):
    report: Report
    message: InboxMessage


# ---------------------------------------------------------------------- meta
class Meta(Out):
    """Vocabularies (code -> label), attribution and map settings."""

    categories: dict[str, str]
    statuses: dict[str, str]
    transitions: dict[str, list[str]]
    urgencies: dict[str, str]
    place_types: dict[str, str]
    congestion: dict[str, str]
    shelter_states: dict[str, str]
    supplies: dict[str, str]
    vulnerable: dict[str, str]
    notice_severities: dict[str, str]
    broadcast_statuses: dict[str, str]
    inbox_reasons: dict[str, str]
    roles: list[str]
    attribution: list[str]
    tiles_url: str
    tiles_attribution: str


RESPONSE_MODELS: tuple[type[BaseModel], ...] = (
    Error,
    ReportCollection,
    ReportEnvelope,
    PhotoRef,
    EvacueeSummary,
    SiteCollection,
    ShelterStatusEnvelope,
    NoticeList,
    NoticeEnvelope,
    Me,
    OfficialList,
    OfficialCreated,
    Revoked,
    AuditLog,
    MessagePage,
    MessageEnvelope,
    MessageReported,
    Meta,
)
