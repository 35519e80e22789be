"""OpenAPI 3.0 document of ``/api/v1`` (hand-written, kept beside the routes it describes)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from bot.store import vocab
from bot.store.inbox import DEFAULT_INBOX_LIMIT, INBOX_ACTIONS, INBOX_REASONS, MAX_INBOX_LIMIT


def _param(
    name: str,
    desc: str,
    schema: dict[str, Any],
    required: bool = False,
    where: str = "query",
    explode: bool | None = None,
) -> dict[str, Any]:
    p: dict[str, Any] = {
        "name": name,
        "in": where,
        "required": required,
        "description": desc,
        "schema": schema,
    }
    if explode is not None:
        p["explode"] = explode
    return p


def _err(desc: str) -> dict[str, Any]:
    return {
        "description": desc,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


ERRORS = {
    "400": _err("invalid parameter or body"),
    "401": _err("missing or unknown token"),
    "403": _err("role too low"),
}
BBOX = _param(
    "bbox",
    "minLon,minLat,maxLon,maxLat (WGS84 / JGD2011 degrees)",
    {"type": "string", "example": "141.2,42.9,141.5,43.2"},
)
REPORT_ID = _param("report_id", "report id", {"type": "integer", "minimum": 1}, True, "path")
MESSAGE_ID = _param(
    "message_id", "inbox message id", {"type": "integer", "minimum": 1}, True, "path"
)


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _ok(
    desc: str, schema: dict[str, Any] | None = None, ctype: str = "application/json"
) -> dict[str, Any]:
    out: dict[str, Any] = {"description": desc}
    if schema is not None:
        out["content"] = {ctype: {"schema": schema}}
    return out


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    report_in: dict[str, Any] = {
        "type": "object",
        "required": ["category"],
        "additionalProperties": False,
        "properties": {
            "category": {"type": "string", "enum": list(vocab.CATEGORIES)},
            "text": {"type": "string", "maxLength": 4000},
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "lon": {"type": "number", "minimum": -180, "maximum": 180},
            "place_text": {"type": "string", "maxLength": 500},
            "accuracy_m": {"type": "number", "minimum": 0, "maximum": 100000},
            "headcount": {"type": "integer", "minimum": 0, "maximum": 10000},
            "needs": {
                "type": "array",
                "maxItems": 20,
                "items": {"type": "string", "maxLength": 64},
            },
            "urgency": {"type": "string", "enum": list(vocab.URGENCIES)},
            "shelter_id": {"type": "string", "maxLength": 32, "description": "共通ID"},
            "reported_at": {"type": "string", "format": "date-time"},
        },
    }
    report = {
        "type": "object",
        "properties": {
            **report_in["properties"],
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": list(vocab.REPORT_STATUSES)},
            "channel": {"type": "string"},
            "received_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "duplicate_of": {"type": "integer", "nullable": True},
            "photos": {"type": "array", "items": {"type": "string"}},
            "photo_urls": {"type": "array", "items": {"type": "string"}},
            "category_label": {"type": "string"},
            "status_label": {"type": "string"},
        },
    }
    paths: dict[str, Any] = {
        "/api/v1/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": _ok("OpenAPI document")},
            }
        },
        "/api/v1/meta": {
            "get": {
                "summary": "Vocabularies, labels, attribution and map settings",
                "security": [],
                "responses": {"200": _ok("meta")},
            }
        },
        "/api/v1/me": {
            "get": {
                "summary": "The official holding the token (viewer+)",
                "responses": {"200": _ok("name and role"), **ERRORS},
            }
        },
        "/api/v1/reports": {
            "get": {
                "summary": "Reports, newest first (viewer+)",
                "parameters": [
                    _param(
                        "since",
                        "reported at or after (ISO 8601; no offset = JST)",
                        {"type": "string", "format": "date-time"},
                    ),
                    _param(
                        "until",
                        "reported before (ISO 8601; no offset = JST)",
                        {"type": "string", "format": "date-time"},
                    ),
                    _param(
                        "category",
                        "repeatable or comma-separated",
                        {
                            "type": "array",
                            "items": {"type": "string", "enum": list(vocab.CATEGORIES)},
                        },
                        explode=True,
                    ),
                    _param(
                        "status",
                        "repeatable or comma-separated",
                        {
                            "type": "array",
                            "items": {"type": "string", "enum": list(vocab.REPORT_STATUSES)},
                        },
                        explode=True,
                    ),
                    BBOX,
                    _param(
                        "q",
                        "text contained in the report text or place (case-insensitive)",
                        {"type": "string", "maxLength": 100},
                    ),
                    _param(
                        "limit",
                        "page size",
                        {"type": "integer", "minimum": 1, "maximum": 5000, "default": 100},
                    ),
                    _param(
                        "cursor",
                        "next_cursor of the previous page (also in X-Next-Cursor)",
                        {"type": "string", "maxLength": 200},
                    ),
                    _param(
                        "format",
                        "geojson (default) or csv (UTF-8 with BOM, JST times)",
                        {"type": "string", "enum": ["geojson", "csv"]},
                    ),
                ],
                "responses": {
                    "200": {
                        "description": "GeoJSON FeatureCollection (properties = report fields, plus next_cursor) or CSV",
                        "headers": {"X-Next-Cursor": {"schema": {"type": "string"}}},
                        "content": {
                            "application/geo+json": {"schema": {"type": "object"}},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    **ERRORS,
                },
            },
            "post": {
                "summary": "Log a report taken by phone or radio (operator+; channel staff)",
                "requestBody": _json_body(report_in),
                "responses": {
                    "201": _ok("created", {"type": "object", "properties": {"report": report}}),
                    **ERRORS,
                },
            },
        },
        "/api/v1/reports/{report_id}": {
            "get": {
                "summary": "One report with its status history (viewer+)",
                "parameters": [REPORT_ID],
                "responses": {
                    "200": _ok("report", {"type": "object", "properties": {"report": report}}),
                    "404": _err("no such report"),
                    **ERRORS,
                },
            },
            "patch": {
                "summary": "Change the status (operator+); every move is written to the audit log",
                "parameters": [REPORT_ID],
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "required": ["status"],
                        "additionalProperties": False,
                        "properties": {
                            "status": {"type": "string", "enum": list(vocab.REPORT_STATUSES)},
                            "note": {"type": "string", "maxLength": 2000},
                            "duplicate_of": {"type": "integer"},
                        },
                    }
                ),
                "responses": {
                    "200": _ok("updated report"),
                    "404": _err("no such report"),
                    "409": _err("status move not allowed"),
                    **ERRORS,
                },
            },
        },
        "/api/v1/reports/{report_id}/photos": {
            "post": {
                "summary": "Attach a photo (operator+); body is the image",
                "parameters": [REPORT_ID],
                "requestBody": {
                    "required": True,
                    "content": {
                        t: {"schema": {"type": "string", "format": "binary"}}
                        for t in ("image/jpeg", "image/png", "image/webp", "image/gif")
                    },
                },
                "responses": {
                    "201": _ok("photo ref and URL"),
                    "415": _err("not an image type"),
                    **ERRORS,
                },
            },
        },
        "/api/v1/photos/{ref}": {
            "get": {
                "summary": "A report photo (viewer+)",
                "parameters": [_param("ref", "photo ref", {"type": "string"}, True, "path")],
                "responses": {
                    "200": {"description": "image"},
                    "404": _err("no such photo"),
                    **ERRORS,
                },
            },
        },
        "/api/v1/evacuees/summary": {
            "get": {
                "summary": "People by place type, needing help, and per grid cell (viewer+)",
                "parameters": [
                    BBOX,
                    _param(
                        "cell",
                        "grid cell size in degrees (adds cells)",
                        {"type": "number", "minimum": 0.001, "maximum": 1},
                    ),
                ],
                "responses": {"200": _ok("summary"), **ERRORS},
            },
        },
        "/api/v1/shelters": {
            "get": {
                "summary": "Designated sites with their latest status (viewer+)",
                "parameters": [
                    BBOX,
                    _param(
                        "kind",
                        "site kind",
                        {
                            "type": "string",
                            "enum": ["emergency_site", "shelter", "welfare_shelter"],
                        },
                    ),
                    _param(
                        "limit",
                        "max sites",
                        {"type": "integer", "minimum": 1, "maximum": 5000, "default": 1000},
                    ),
                ],
                "responses": {
                    "200": _ok("GeoJSON FeatureCollection"),
                    "503": _err("GIS index not loaded"),
                    **ERRORS,
                },
            },
        },
        "/api/v1/shelters/{shelter_id}/status": {
            "put": {
                "summary": "Set a shelter's status (operator+)",
                "parameters": [_param("shelter_id", "共通ID", {"type": "string"}, True, "path")],
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "required": ["status"],
                        "additionalProperties": False,
                        "properties": {
                            "status": {"type": "string", "enum": list(vocab.SHELTER_STATES)},
                            "congestion": {"type": "string", "enum": list(vocab.CONGESTION)},
                            "shortages": {
                                "type": "array",
                                "items": {"type": "string", "enum": list(vocab.SUPPLIES)},
                            },
                        },
                    }
                ),
                "responses": {
                    "200": _ok("stored status"),
                    "404": _err("unknown 共通ID"),
                    "503": _err("GIS index not loaded"),
                    **ERRORS,
                },
            },
        },
        "/api/v1/notices": {
            "get": {
                "summary": "Recent notices, newest first, with each channel's broadcast outcome (viewer+)",
                "parameters": [
                    _param(
                        "limit",
                        "number of notices",
                        {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                    )
                ],
                "responses": {
                    "200": _ok(
                        "notices",
                        {
                            "type": "object",
                            "properties": {
                                "notices": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Notice"},
                                },
                                "count": {"type": "integer"},
                            },
                        },
                    ),
                    **ERRORS,
                },
            },
            "post": {
                "summary": "Store a notice and, with broadcast, send it on LINE and Telegram (operator+)",
                "description": "The notice is stored first. With `broadcast: true` it is sent through "
                "every configured channel (LINE broadcast to all friends; the Telegram channel "
                "TELEGRAM_NOTICE_CHAT_ID); the text ends with the emergency numbers 119 / 110. "
                "The answer is 201 even when a channel failed or is not configured: see "
                "`notice.broadcast` per channel.",
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "required": ["title", "body", "severity"],
                        "additionalProperties": False,
                        "properties": {
                            "title": {"type": "string", "minLength": 1, "maxLength": 100},
                            "body": {"type": "string", "minLength": 1, "maxLength": 1000},
                            "severity": {
                                "type": "string",
                                "enum": list(vocab.NOTICE_SEVERITIES),
                                "description": "emergency for 避難指示 and other orders",
                            },
                            "broadcast": {"type": "boolean", "default": False},
                        },
                    }
                ),
                "responses": {
                    "201": _ok(
                        "stored (and broadcast) notice",
                        {
                            "type": "object",
                            "properties": {"notice": {"$ref": "#/components/schemas/Notice"}},
                        },
                    ),
                    **ERRORS,
                },
            },
        },
        "/api/v1/messages": {
            "get": {
                "summary": "The 未対応メッセージ inbox: resident messages the bot could not act on "
                "(operator+)",
                "description": "Messages that ended in a fallback, an out-of-scope answer or a "
                "cancelled form; danger first, then messages with a place word or a location, "
                "then newest. `unhandled` is the number of open messages (the badge).",
                "parameters": [
                    _param(
                        "handled",
                        "false (default): open messages; true: handled ones; all",
                        {"type": "string", "enum": ["false", "true", "all"], "default": "false"},
                    ),
                    _param(
                        "since",
                        "received at or after (ISO 8601; no offset = JST)",
                        {"type": "string", "format": "date-time"},
                    ),
                    _param(
                        "limit",
                        "page size",
                        {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_INBOX_LIMIT,
                            "default": DEFAULT_INBOX_LIMIT,
                        },
                    ),
                    _param(
                        "cursor",
                        "next_cursor of the previous page (also in X-Next-Cursor)",
                        {"type": "string", "maxLength": 200},
                    ),
                ],
                "responses": {
                    "200": _ok(
                        "one page of messages",
                        {
                            "type": "object",
                            "properties": {
                                "messages": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/InboxMessage"},
                                },
                                "count": {"type": "integer"},
                                "unhandled": {"type": "integer"},
                                "next_cursor": {"type": "string", "nullable": True},
                            },
                        },
                    ),
                    **ERRORS,
                },
            },
        },
        "/api/v1/messages/{message_id}": {
            "patch": {
                "summary": "Mark a message handled, or open again (operator+; audited)",
                "parameters": [MESSAGE_ID],
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "required": ["handled"],
                        "additionalProperties": False,
                        "properties": {
                            "handled": {"type": "boolean"},
                            "note": {"type": "string", "maxLength": 2000},
                        },
                    }
                ),
                "responses": {
                    "200": _ok(
                        "the message with its history",
                        {
                            "type": "object",
                            "properties": {
                                "message": {"$ref": "#/components/schemas/InboxMessage"}
                            },
                        },
                    ),
                    "404": _err("no such message"),
                    **ERRORS,
                },
            },
        },
        "/api/v1/messages/{message_id}/report": {
            "post": {
                "summary": "Turn a message into a report in one step (operator+)",
                "description": "The report gets the message's text, channel, resident and time; "
                "place and location default to the message's. The message becomes handled and "
                "links the report. A message already turned into a report is a 409.",
                "parameters": [MESSAGE_ID],
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "required": ["category"],
                        "additionalProperties": False,
                        "properties": {
                            "category": {"type": "string", "enum": list(vocab.CATEGORIES)},
                            "urgency": {
                                "type": "string",
                                "enum": list(vocab.URGENCIES),
                                "default": "high",
                            },
                            "place_text": {"type": "string", "maxLength": 500},
                            "lat": {"type": "number", "minimum": -90, "maximum": 90},
                            "lon": {"type": "number", "minimum": -180, "maximum": 180},
                        },
                    }
                ),
                "responses": {
                    "201": _ok(
                        "the new report and the handled message",
                        {
                            "type": "object",
                            "properties": {
                                "report": {"$ref": "#/components/schemas/Report"},
                                "message": {"$ref": "#/components/schemas/InboxMessage"},
                            },
                        },
                    ),
                    "404": _err("no such message"),
                    "409": _err("already turned into a report"),
                    **ERRORS,
                },
            },
        },
        "/api/v1/officials": {
            "get": {
                "summary": "List officials (admin)",
                "responses": {"200": _ok("officials"), **ERRORS},
            },
            "post": {
                "summary": "Add an official; the token is returned once (admin)",
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "required": ["name", "role"],
                        "properties": {
                            "name": {"type": "string", "maxLength": 100},
                            "role": {"type": "string", "enum": list(vocab.ROLES)},
                        },
                    }
                ),
                "responses": {"201": _ok("official and token"), **ERRORS},
            },
        },
        "/api/v1/officials/{name}": {
            "delete": {
                "summary": "Revoke an official's token (admin)",
                "parameters": [_param("name", "official's name", {"type": "string"}, True, "path")],
                "responses": {
                    "200": _ok("revoked"),
                    "404": _err("no such active official"),
                    **ERRORS,
                },
            },
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "防災チャットボット officials' API",
            "version": "1",
            "description": "Reports, evacuee registrations, shelter status, notices to residents "
            "and the inbox of resident messages the bot could not act on, for disaster officials. "
            "Bearer token from `bosai officials add NAME --role ROLE`.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["status", "code", "message"],
                            "properties": {
                                "status": {"type": "integer"},
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
                "Report": report,
                "InboxMessage": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "channel": {"type": "string"},
                        "text": {"type": "string", "maxLength": 2000},
                        "reason": {"type": "string", "enum": list(INBOX_REASONS)},
                        "reason_label": {"type": "string"},
                        "intent": {"type": "string", "nullable": True},
                        "confidence": {"type": "number", "nullable": True},
                        "danger": {"type": "boolean"},
                        "danger_terms": {"type": "array", "items": {"type": "string"}},
                        "place_text": {"type": "string", "nullable": True},
                        "lat": {"type": "number", "nullable": True},
                        "lon": {"type": "number", "nullable": True},
                        "has_place": {"type": "boolean"},
                        "received_at": {"type": "string", "format": "date-time"},
                        "handled": {"type": "boolean"},
                        "handled_at": {"type": "string", "format": "date-time", "nullable": True},
                        "handled_by": {"type": "string", "nullable": True},
                        "handled_note": {"type": "string", "nullable": True},
                        "report_id": {"type": "integer", "nullable": True},
                        "history": {
                            "type": "array",
                            "description": "audit log (PATCH and report answers only)",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "action": {"type": "string", "enum": list(INBOX_ACTIONS)},
                                    "by": {"type": "string"},
                                    "note": {"type": "string", "nullable": True},
                                    "report_id": {"type": "integer", "nullable": True},
                                    "at": {"type": "string", "format": "date-time"},
                                },
                            },
                        },
                    },
                },
                "Notice": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "title": {"type": "string"},
                        "body": {"type": "string"},
                        "severity": {"type": "string", "enum": list(vocab.NOTICE_SEVERITIES)},
                        "created_at": {"type": "string", "format": "date-time"},
                        "created_by": {"type": "string"},
                        "broadcast": {
                            "type": "object",
                            "description": "per channel (line, telegram); empty when not broadcast",
                            "additionalProperties": {
                                "type": "object",
                                "properties": {
                                    "status": {
                                        "type": "string",
                                        "enum": list(vocab.BROADCAST_STATUSES),
                                    },
                                    "detail": {"type": "string"},
                                    "at": {"type": "string", "format": "date-time"},
                                },
                            },
                        },
                    },
                },
            },
        },
        "paths": paths,
    }
