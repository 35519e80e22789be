"""The officials' REST API (``/api/v1``): reports, photos, evacuees, shelters, notices, the inbox of
resident messages, officials.

Why one module of about 420 lines: it is the route table of the one ``/api/v1`` blueprint, and
nothing else. Each handler is a few lines (check the role, read the query or body model, call the
store off the event loop, serialize the answer); the logic lives beside it in ``schemas.py``
(what is accepted), ``params.py`` (validation), ``serialize.py`` and ``responses.py`` (answers),
``openapi.py`` (the document), ``auth.py``, ``runtime.py`` and ``bot/store/``. Splitting the
handlers by resource would spread one blueprint over several files without separating any logic.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json, raw

from bot.officials import notices as notice_sender
from bot.officials import privacy
from bot.officials.auth import require_role
from bot.officials.errors import ApiError, dumps
from bot.officials.openapi import openapi_document
from bot.officials.params import json_body, query
from bot.officials.runtime import broadcast_config, gis_index, run_blocking, store_of
from bot.officials.schemas import (
    AuditQuery,
    EvacueeSummaryQuery,
    MessageHandled,
    MessagesQuery,
    MessageToReport,
    NoQuery,
    NoticeIn,
    NoticesQuery,
    OfficialIn,
    ReportIn,
    ReportsQuery,
    SheltersQuery,
    ShelterStatusIn,
    StatusChange,
)
from bot.officials.serialize import (
    feature_collection,
    message_properties,
    report_feature,
    report_properties,
    reports_csv,
    site_feature,
)
from bot.store import ReportQuery, vocab
from bot.store.inbox import INBOX_REASONS
from bot.store.validation import MAX_PHOTO_BYTES, PHOTO_TYPES

blueprint = Blueprint("officials_api", url_prefix="/api/v1")

HANDLED = {"false": False, "true": True, "all": None}
ATTRIBUTION = [
    "出典：国土地理院「指定緊急避難場所データ」「指定避難所データ」（2025年10月27日取得）を加工して作成",
    "出典：3D都市モデル（Project PLATEAU）沼津市（2021年度）・福岡市（2024年度）（国土交通省）を加工して作成",
    "出典：国土数値情報（国土交通省）を加工して作成",
]


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    return json(body, status=status, headers=headers, dumps=dumps)


def _geojson(body: Any, headers: dict[str, str] | None = None) -> HTTPResponse:
    """A FeatureCollection with the media type the document gives it (RFC 7946)."""
    return json(body, headers=headers, dumps=dumps, content_type="application/geo+json")


def _path_id(value: str, what: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise ApiError(400, f"{what} id must be a positive integer") from exc
    if not (1 <= number <= 2**31 - 1):
        raise ApiError(400, f"{what} id must be a positive integer")
    return number


def _report_id(value: str) -> int:
    return _path_id(value, "report")


# ---------------------------------------------------------------------- meta
@blueprint.get("/openapi.json")
async def openapi(request: Request) -> HTTPResponse:
    return _json(openapi_document())


@blueprint.get("/meta")
async def meta(request: Request) -> HTTPResponse:
    """Vocabularies, attribution and map settings (no personal data; no token needed)."""
    settings = request.app.config.BOSAI
    return _json(
        {
            "categories": vocab.CATEGORIES,
            "statuses": vocab.REPORT_STATUSES,
            "transitions": {k: sorted(v) for k, v in vocab.TRANSITIONS.items()},
            "urgencies": vocab.URGENCIES,
            "place_types": vocab.PLACE_TYPES,
            "congestion": vocab.CONGESTION,
            "shelter_states": vocab.SHELTER_STATES,
            "supplies": vocab.SUPPLIES,
            "vulnerable": vocab.VULNERABLE_KEYS,
            "notice_severities": vocab.NOTICE_SEVERITIES,
            "broadcast_statuses": vocab.BROADCAST_STATUSES,
            "inbox_reasons": INBOX_REASONS,
            "roles": list(vocab.ROLES),
            "attribution": ATTRIBUTION,
            "tiles_url": settings.tiles_url,
            "tiles_attribution": settings.tiles_attribution,
        }
    )


@blueprint.get("/me")
@require_role("viewer")
async def me(request: Request) -> HTTPResponse:
    o = request.ctx.official
    return _json({"name": o.name, "role": o.role})


# ---------------------------------------------------------------------- reports
@blueprint.get("/reports")
@require_role("viewer")
async def list_reports(request: Request) -> HTTPResponse:
    params = query(request, ReportsQuery)
    privacy.check_text_search(request, params.q)
    report_query = ReportQuery(
        since=params.since,
        until=params.until,
        categories=params.category,
        statuses=params.status,
        bbox=params.bbox,
        q=params.q or None,
        limit=params.limit,
        cursor=params.cursor or None,
    )
    page = await run_blocking(store_of(request.app).list_reports, report_query)
    reports = privacy.for_role(request, page.reports)
    if privacy.is_export(request, params.limit):
        filters = params.dict(exclude={"format", "limit", "cursor"})
        await privacy.audit_export(request, "reports", params.format, len(reports), filters)
    headers = {"Cache-Control": "no-store"}
    if page.next_cursor:
        headers["X-Next-Cursor"] = page.next_cursor
    if params.format == "csv":
        headers["Content-Disposition"] = 'attachment; filename="reports.csv"'
        return raw(
            reports_csv(reports),
            content_type="text/csv; charset=utf-8",
            headers=headers,
        )
    body = feature_collection(
        [report_feature(r) for r in reports],
        next_cursor=page.next_cursor,
        count=len(page.reports),
    )
    return _geojson(body, headers=headers)


@blueprint.post("/reports")
@require_role("operator")
async def create_report(request: Request) -> HTTPResponse:
    fields = json_body(request, ReportIn).dict(exclude_unset=True)
    official = request.ctx.official
    report = await run_blocking(
        store_of(request.app).create_report, channel="staff", by=official.name, **fields
    )
    return _json(
        {"report": report_properties(report)},
        status=201,
        headers={"Location": f"/api/v1/reports/{report.id}"},
    )


@blueprint.get("/reports/<report_id>")
@require_role("viewer")
async def get_report(request: Request, report_id: str) -> HTTPResponse:
    query(request, NoQuery)
    rid = _report_id(report_id)
    store = store_of(request.app)

    def load() -> dict[str, Any]:
        report = privacy.for_role(request, [store.get_report(rid)])[0]
        props = report_properties(report)
        history = [h.to_dict() for h in store.report_history(rid)]
        props["history"] = privacy.history_for_role(request, history)
        return props

    return _json({"report": await run_blocking(load)}, headers={"Cache-Control": "no-store"})


@blueprint.patch("/reports/<report_id>")
@require_role("operator")
async def patch_report(request: Request, report_id: str) -> HTTPResponse:
    rid = _report_id(report_id)
    body = json_body(request, StatusChange)
    store = store_of(request.app)

    def change() -> dict[str, Any]:
        report = store.change_status(
            rid,
            body.status,
            by=request.ctx.official.name,
            note=body.note,
            duplicate_of=body.duplicate_of,
        )
        props = report_properties(report)
        props["history"] = [h.to_dict() for h in store.report_history(rid)]
        return props

    return _json({"report": await run_blocking(change)})


@blueprint.post("/reports/<report_id>/photos")
@require_role("operator")
async def add_photo(request: Request, report_id: str) -> HTTPResponse:
    rid = _report_id(report_id)
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype not in PHOTO_TYPES:
        raise ApiError(415, f"Content-Type must be one of {', '.join(PHOTO_TYPES)}")
    data = request.body or b""
    if len(data) > MAX_PHOTO_BYTES:
        raise ApiError(413, f"photo larger than {MAX_PHOTO_BYTES} bytes")
    store = store_of(request.app)

    def save() -> str:
        store.get_report(rid)  # 404 before writing the file
        ref = store.save_photo(data, ctype)
        store.attach_photo(rid, ref)
        return ref

    ref = await run_blocking(save)
    return _json({"photo": ref, "url": f"/api/v1/photos/{ref}"}, status=201)


@blueprint.get("/photos/<ref>")
@require_role("operator")  # a photo can show a face or a house number (docs/privacy.md)
async def get_photo(request: Request, ref: str) -> HTTPResponse:
    store = store_of(request.app)

    def read() -> tuple[bytes, str]:
        path = store.photo_path(ref)
        if not path.is_file():
            raise ApiError(404, "photo not found")
        return path.read_bytes(), store.photo_content_type(ref)

    data, ctype = await run_blocking(read)
    return raw(
        data,
        content_type=ctype,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


# ---------------------------------------------------------------------- evacuees
@blueprint.get("/evacuees/summary")
@require_role("viewer")
async def evacuee_summary(request: Request) -> HTTPResponse:
    params = query(request, EvacueeSummaryQuery)
    summary = await run_blocking(store_of(request.app).evacuee_summary, params.bbox, params.cell)
    summary["labels"] = {"place_types": vocab.PLACE_TYPES, "vulnerable": vocab.VULNERABLE_KEYS}
    return _json(summary, headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------------- shelters
@blueprint.get("/shelters")
@require_role("viewer")
async def list_shelters(request: Request) -> HTTPResponse:
    params = query(request, SheltersQuery)
    bbox = params.bbox or (-180.0, -90.0, 180.0, 90.0)
    index = gis_index(request.app)
    store = store_of(request.app)

    def load() -> dict[str, Any]:
        sites = index.sites_in_bbox(*bbox, kind=params.kind, limit=params.limit)
        latest = store.latest_shelter_status([s.id for s in sites])
        meta = getattr(index, "meta", None) or []
        return feature_collection(
            [site_feature(s, latest.get(s.id)) for s in sites],
            count=len(sites),
            attribution=sorted({m.get("attribution") for m in meta if m.get("attribution")}),
        )

    return _geojson(await run_blocking(load), headers={"Cache-Control": "no-store"})


@blueprint.put("/shelters/<shelter_id>/status")
@require_role("operator")
async def put_shelter_status(request: Request, shelter_id: str) -> HTTPResponse:
    body = json_body(request, ShelterStatusIn)
    index = gis_index(request.app)
    if len(shelter_id) > 32 or index.get_site(shelter_id) is None:
        raise ApiError(404, f"no designated site with 共通ID {shelter_id[:32]!r}")
    row = await run_blocking(
        store_of(request.app).set_shelter_status,
        shelter_id,
        body.status,
        body.congestion,
        body.shortages,
        request.ctx.official.name,
    )
    return _json({"shelter_status": row.to_dict()})


# ---------------------------------------------------------------------- notices
@blueprint.get("/notices")
@require_role("viewer")
async def list_notices(request: Request) -> HTTPResponse:
    params = query(request, NoticesQuery)
    rows = await run_blocking(store_of(request.app).latest_notices, params.limit)
    return _json(
        {"notices": [n.to_dict() for n in rows], "count": len(rows)},
        headers={"Cache-Control": "no-store"},
    )


@blueprint.post("/notices")
@require_role("operator")
async def create_notice(request: Request) -> HTTPResponse:
    """Store a notice; with ``broadcast: true`` send it on every channel (201 either way)."""
    body = json_body(request, NoticeIn)
    store = store_of(request.app)
    notice = await run_blocking(
        store.create_notice, body.title, body.body, body.severity, request.ctx.official.name
    )
    if body.broadcast:
        outcomes = await notice_sender.broadcast(broadcast_config(request.app), notice)

        def record() -> Any:
            row = notice
            for channel, (ok, detail) in outcomes.items():
                row = store.record_broadcast(notice.id, channel, ok, detail)
            return row

        notice = await run_blocking(record)
    return _json({"notice": notice.to_dict()}, status=201)


# ---------------------------------------------------------------------- inbox
@blueprint.get("/messages")
@require_role("operator")
async def list_messages(request: Request) -> HTTPResponse:
    """The 未対応メッセージ inbox: danger first, then messages with a place, then newest."""
    params = query(request, MessagesQuery)
    store = store_of(request.app)

    def load() -> dict[str, Any]:
        page = store.list_inbox(
            handled=HANDLED[params.handled],
            since=params.since,
            limit=params.limit,
            cursor=params.cursor or None,
        )
        return {
            "messages": [message_properties(m) for m in page.items],
            "count": len(page.items),
            "unhandled": store.count_inbox(False),
            "next_cursor": page.next_cursor,
        }

    body = await run_blocking(load)
    headers = {"Cache-Control": "no-store"}
    if body["next_cursor"]:
        headers["X-Next-Cursor"] = body["next_cursor"]
    return _json(body, headers=headers)


@blueprint.patch("/messages/<message_id>")
@require_role("operator")
async def patch_message(request: Request, message_id: str) -> HTTPResponse:
    mid = _path_id(message_id, "message")
    body = json_body(request, MessageHandled)
    store = store_of(request.app)

    def change() -> dict[str, Any]:
        message = store.set_message_handled(
            mid, handled=body.handled, by=request.ctx.official.name, note=body.note
        )
        props = message_properties(message)
        props["history"] = [h.to_dict() for h in store.message_history(mid)]
        return props

    return _json({"message": await run_blocking(change)})


@blueprint.post("/messages/<message_id>/report")
@require_role("operator")
async def report_from_message(request: Request, message_id: str) -> HTTPResponse:
    """Turn an inbox message into a report (the message becomes handled and linked)."""
    mid = _path_id(message_id, "message")
    body = json_body(request, MessageToReport)
    store = store_of(request.app)

    def convert() -> dict[str, Any]:
        report = store.report_from_message(
            mid,
            category=body.category,
            urgency=body.urgency,
            place_text=body.place_text,
            lat=body.lat,
            lon=body.lon,
            by=request.ctx.official.name,
        )
        props = message_properties(store.get_inbox_message(mid))
        props["history"] = [h.to_dict() for h in store.message_history(mid)]
        return {"report": report_properties(report), "message": props}

    out = await run_blocking(convert)
    return _json(out, status=201, headers={"Location": f"/api/v1/reports/{out['report']['id']}"})


# ---------------------------------------------------------------------- officials (admin)
@blueprint.get("/officials")
@require_role("admin")
async def list_officials(request: Request) -> HTTPResponse:
    rows = await run_blocking(store_of(request.app).list_officials)
    return _json({"officials": [o.to_dict() for o in rows]})


@blueprint.post("/officials")
@require_role("admin")
async def add_official(request: Request) -> HTTPResponse:
    body = json_body(request, OfficialIn)
    official, token = await run_blocking(store_of(request.app).add_official, body.name, body.role)
    return _json({"official": official.to_dict(), "token": token}, status=201)


@blueprint.delete("/officials/<name>")
@require_role("admin")
async def revoke_official(request: Request, name: str) -> HTTPResponse:
    if len(name) > 100:
        raise ApiError(400, "name is longer than 100 characters")
    if not await run_blocking(store_of(request.app).revoke_official, name):
        raise ApiError(404, f"no active official named {name!r}")
    return _json({"revoked": name})


@blueprint.get("/audit")
@require_role("admin")
async def audit_log(request: Request) -> HTTPResponse:
    """Every export of personal data (docs/privacy.md), newest first."""
    params = query(request, AuditQuery)
    rows = await run_blocking(store_of(request.app).audit.recent, params.limit)
    return _json(
        {"entries": [row.to_dict() for row in rows], "count": len(rows)},
        headers={"Cache-Control": "no-store"},
    )
