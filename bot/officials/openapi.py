"""OpenAPI 3.0 document of ``/api/v1``, generated from the models the API validates with.

Request bodies and query parameters come from :mod:`bot.officials.schemas`, answers from
:mod:`bot.officials.responses`; ``components.schemas`` is generated from both. What is written
here by hand is only what a model cannot say: each operation's path, summary, role and which
models and answers it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.fields import SHAPE_LIST
from pydantic.schema import schema as pydantic_schema

from bot.officials import responses as r
from bot.officials import schemas as q
from bot.store import validation as v

REF = "#/components/schemas/{model}"
PHOTO_TYPES = tuple(v.PHOTO_TYPES)


@dataclass
class Op:
    """One operation: where, who, what it takes and what it answers."""

    method: str
    path: str
    summary: str
    role: str | None  # None: no token needed
    query: type[q.QueryModel] | None = None
    body: type[BaseModel] | None = None
    ok: tuple[int, str, type[BaseModel] | None] = (200, "OK", None)
    errors: dict[int, str] = field(default_factory=dict)
    description: str | None = None
    extra_content: dict[str, Any] = field(default_factory=dict)
    raw_body: dict[str, Any] | None = None


PATH_PARAMS = {
    "report_id": ("report id", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}),
    "message_id": ("inbox message id", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}),
    "ref": (
        "photo ref (content hash and extension)",
        {"type": "string", "pattern": v.PHOTO_REF_RE.pattern},
    ),
    "shelter_id": (
        "共通ID of a designated site",
        {"type": "string", "maxLength": 32, "pattern": v.SHELTER_ID_RE.pattern},
    ),
    "name": ("official's name", {"type": "string", "maxLength": 100}),
}

OPERATIONS: tuple[Op, ...] = (
    Op("get", "/api/v1/openapi.json", "This document", None),
    Op(
        "get",
        "/api/v1/meta",
        "Vocabularies, labels, attribution and map settings (no personal data)",
        None,
        ok=(200, "meta", r.Meta),
    ),
    Op("get", "/api/v1/me", "The official holding the token", "viewer", ok=(200, "who", r.Me)),
    Op(
        "get",
        "/api/v1/reports",
        "Reports, newest first",
        "viewer",
        query=q.ReportsQuery,
        ok=(200, "GeoJSON FeatureCollection (or CSV with format=csv)", r.ReportCollection),
        extra_content={"text/csv": {"schema": {"type": "string"}}},
        errors={403: "role below viewer, or q asked by a viewer"},
        description="Viewers get places rounded to about 100 m and no free text (text, "
        "place_text null; q refused); operators and admins get everything. A request with "
        "format, or with limit above 500, is an export and is written to the audit log.",
    ),
    Op(
        "post",
        "/api/v1/reports",
        "Log a report taken by phone or radio (channel staff)",
        "operator",
        body=q.ReportIn,
        ok=(201, "the stored report", r.ReportEnvelope),
    ),
    Op(
        "get",
        "/api/v1/reports/{report_id}",
        "One report with its status history",
        "viewer",
        description="Viewers get the place rounded to about 100 m, no free text (text, "
        "place_text and the history's notes null).",
        query=q.NoQuery,
        ok=(200, "the report and its audit log", r.ReportEnvelope),
        errors={404: "no such report"},
    ),
    Op(
        "patch",
        "/api/v1/reports/{report_id}",
        "Change the status; every move is written to the audit log",
        "operator",
        body=q.StatusChange,
        ok=(200, "the report and its audit log", r.ReportEnvelope),
        errors={404: "no such report", 409: "status move not allowed"},
    ),
    Op(
        "post",
        "/api/v1/reports/{report_id}/photos",
        "Attach a photo; the body is the image (at most 10 MiB)",
        "operator",
        ok=(201, "photo ref and URL", r.PhotoRef),
        errors={404: "no such report", 413: "too large", 415: "not an image type"},
        raw_body={
            "required": True,
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in PHOTO_TYPES},
        },
    ),
    Op(
        "get",
        "/api/v1/photos/{ref}",
        "A report photo (not for viewers: it may show a face or a house number)",
        "operator",
        errors={404: "no such photo"},
        extra_content={t: {"schema": {"type": "string", "format": "binary"}} for t in PHOTO_TYPES},
    ),
    Op(
        "get",
        "/api/v1/evacuees/summary",
        "People by place type, needing help, and per grid cell",
        "viewer",
        query=q.EvacueeSummaryQuery,
        ok=(200, "summary", r.EvacueeSummary),
    ),
    Op(
        "get",
        "/api/v1/shelters",
        "Designated sites with their latest status",
        "viewer",
        query=q.SheltersQuery,
        ok=(200, "GeoJSON FeatureCollection", r.SiteCollection),
        errors={503: "GIS index not loaded (gis_loading with Retry-After, or gis_unavailable)"},
    ),
    Op(
        "put",
        "/api/v1/shelters/{shelter_id}/status",
        "Set a shelter's status",
        "operator",
        body=q.ShelterStatusIn,
        ok=(200, "the stored status", r.ShelterStatusEnvelope),
        errors={404: "unknown 共通ID", 503: "GIS index not loaded"},
    ),
    Op(
        "get",
        "/api/v1/notices",
        "Recent notices, newest first, with each channel's broadcast outcome",
        "viewer",
        query=q.NoticesQuery,
        ok=(200, "notices", r.NoticeList),
    ),
    Op(
        "post",
        "/api/v1/notices",
        "Store a notice and, with broadcast, send it on LINE and Telegram",
        "operator",
        body=q.NoticeIn,
        ok=(201, "the stored (and broadcast) notice", r.NoticeEnvelope),
        description="The notice is stored first. With `broadcast: true` it is sent through "
        "every configured channel (LINE broadcast to all friends; the Telegram channel "
        "TELEGRAM_NOTICE_CHAT_ID); the text ends with the emergency numbers 119 / 110. "
        "The answer is 201 even when a channel failed or is not configured: see "
        "`notice.broadcast` per channel.",
    ),
    Op(
        "get",
        "/api/v1/messages",
        "The 未対応メッセージ inbox: resident messages the bot could not act on",
        "operator",
        query=q.MessagesQuery,
        ok=(200, "one page of messages", r.MessagePage),
        description="Messages that ended in a fallback, an out-of-scope answer or a cancelled "
        "form; danger first, then messages with a place word or a location, then newest. "
        "`unhandled` is the number of open messages (the badge).",
    ),
    Op(
        "patch",
        "/api/v1/messages/{message_id}",
        "Mark a message handled, or open again (audited)",
        "operator",
        body=q.MessageHandled,
        ok=(200, "the message with its history", r.MessageEnvelope),
        errors={404: "no such message"},
    ),
    Op(
        "post",
        "/api/v1/messages/{message_id}/report",
        "Turn a message into a report in one step",
        "operator",
        body=q.MessageToReport,
        ok=(201, "the new report and the handled message", r.MessageReported),
        errors={404: "no such message", 409: "already turned into a report"},
        description="The report gets the message's text, channel, resident and time; place "
        "and location default to the message's. The message becomes handled and links the "
        "report. A message already turned into a report is a 409 (invalid_transition).",
    ),
    Op(
        "get", "/api/v1/officials", "List officials", "admin", ok=(200, "officials", r.OfficialList)
    ),
    Op(
        "post",
        "/api/v1/officials",
        "Add an official; the token is returned once",
        "admin",
        body=q.OfficialIn,
        ok=(201, "the official and the token", r.OfficialCreated),
    ),
    Op(
        "delete",
        "/api/v1/officials/{name}",
        "Revoke an official's token",
        "admin",
        ok=(200, "revoked", r.Revoked),
        errors={404: "no such active official"},
    ),
    Op(
        "get",
        "/api/v1/audit",
        "The audit log of exports: who exported what, when (newest first)",
        "admin",
        query=q.AuditQuery,
        ok=(200, "audit rows", r.AuditLog),
    ),
)


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
    }


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": REF.format(model=model.__name__)}


def query_parameters(model: type[q.QueryModel]) -> list[dict[str, Any]]:
    """The model's fields as OpenAPI query parameters (lists: repeatable or comma-separated)."""
    props = model.schema(ref_template=REF)["properties"]
    out = []
    for name, f in model.__fields__.items():
        prop = dict(props[name])
        description = prop.pop("description", None) or ""
        example = f.field_info.extra.get("example")
        prop.pop("example", None)
        prop.pop("nullable", None)  # a parameter is absent, never null
        param: dict[str, Any] = {
            "name": f.alias,
            "in": "query",
            "required": f.required,
            "description": description,
            "schema": prop,
        }
        if f.shape == SHAPE_LIST:
            param["style"], param["explode"] = "form", True
        if not f.required:  # ``?bbox=`` is the same as no bbox (params.query)
            param["allowEmptyValue"] = True
        if example is not None:
            param["example"] = example
        out.append(param)
    return out


def _path_parameters(path: str) -> list[dict[str, Any]]:
    out = []
    for name, (description, schema) in PATH_PARAMS.items():
        if "{" + name + "}" in path:
            out.append(
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "description": description,
                    "schema": schema,
                }
            )
    return out


def _operation(op: Op) -> dict[str, Any]:
    role = f" ({op.role}+)" if op.role in ("viewer", "operator") else f" ({op.role})"
    out: dict[str, Any] = {"summary": op.summary + (role if op.role else "")}
    if op.description:
        out["description"] = op.description
    if op.role is None:
        out["security"] = []
    params = _path_parameters(op.path)
    if op.query is not None:
        params += query_parameters(op.query)
    if params:
        out["parameters"] = params
    if op.body is not None:
        media: dict[str, Any] = {"schema": _ref(op.body)}
        example = getattr(op.body, "example", None)
        if example is not None:
            media["example"] = example
        out["requestBody"] = {"required": True, "content": {"application/json": media}}
    elif op.raw_body is not None:
        out["requestBody"] = op.raw_body
    status, description, model = op.ok
    ok: dict[str, Any] = {"description": description}
    content: dict[str, Any] = {}
    if model is not None:
        ctype = "application/geo+json" if model.__name__.endswith("Collection") else None
        content[ctype or "application/json"] = {"schema": _ref(model)}
    elif op.path.endswith("openapi.json"):
        content["application/json"] = {"schema": {"type": "object"}}
    content.update(op.extra_content)
    if content:
        ok["content"] = content
    if status == 200 and op.path == "/api/v1/reports" and op.method == "get":
        ok["headers"] = {"X-Next-Cursor": {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(status): ok}
    if op.query is not None or op.body is not None or op.raw_body is not None or "{" in op.path:
        responses["400"] = _error("invalid parameter or body")
    if op.role is not None:
        responses["401"] = _error("missing or unknown token")
        responses["403"] = _error(f"role below {op.role}")
    for code, text in op.errors.items():
        responses[str(code)] = _error(text)
    responses["default"] = _error("any other error, in the same shape")
    out["responses"] = responses
    return out


def _const_to_enum(node: Any) -> None:
    """OpenAPI 3.0 has no ``const``: write it as a one-value enum."""
    if isinstance(node, dict):
        if "const" in node:
            node["enum"] = [node.pop("const")]
        for value in node.values():
            _const_to_enum(value)
    elif isinstance(node, list):
        for value in node:
            _const_to_enum(value)


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    models = [m for m in q.REQUEST_MODELS] + [m for m in r.RESPONSE_MODELS]
    schemas = pydantic_schema(models, ref_template=REF)["definitions"]
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    document = {
        "openapi": "3.0.3",
        "info": {
            "title": "防災チャットボット officials' API",
            "version": "1",
            "description": "Reports, evacuee registrations, shelter status, notices to residents "
            "and the inbox of resident messages the bot could not act on, for disaster "
            "officials. Bearer token from `bosai officials add NAME --role ROLE`. Every error "
            "has the shape of `Error`.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": paths,
    }
    _const_to_enum(document)
    return document
