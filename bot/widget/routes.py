"""Routes serving the embeddable web widget from the officials' app.

- ``GET /widget.js`` and ``GET /widget/widget.css``: the widget (``bot/widget/static``);
- ``POST /widget/photo``: a resident's photo from the widget (multipart field ``photo``, JPEG or
  PNG, at most 10 MB), re-encoded without EXIF, saved with ``store.save_photo``; answers
  ``{"photo_ref": "..."}`` which the widget sends to Rasa as ``/share_photo{"photo_ref": ...}``.

Cross-origin calls are allowed from ``settings.allowed_origins`` (``*``: any origin).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json, raw

from bot.channels.core import MAX_PHOTO_BYTES, InvalidPhoto, strip_exif
from bot.channels.shared import SharedState

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
UPLOAD_TYPES = {"image/jpeg", "image/png"}
UPLOADS_PER_WINDOW = 20
WINDOW_SECONDS = 600.0

blueprint = Blueprint("widget")
# Upload counts per client (in Redis when REDIS_URL is set: shared by all instances); made on first use.
_uploads: SharedState | None = None


def _static(name: str, content_type: str) -> HTTPResponse:
    return raw(
        (STATIC / name).read_bytes(),
        content_type=content_type,
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


def _allowed_origin(request: Request) -> str | None:
    origin = request.headers.get("Origin")
    if not origin:
        return None
    settings = getattr(request.app.config, "BOSAI", None)
    if settings is None:
        from bot.settings import get_settings

        settings = get_settings()
    origins = settings.allowed_origins
    if not origins or "*" in origins or origin in origins:
        return origin
    return None


def _cors(request: Request, response: HTTPResponse) -> HTTPResponse:
    origin = _allowed_origin(request)
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


def _error(request: Request, status: int, code: str, message: str) -> HTTPResponse:
    return _cors(request, json({"error": code, "message": message}, status=status))


def _rate_limited(client: str) -> bool:
    global _uploads
    if _uploads is None:
        _uploads = SharedState()
    return _uploads.over_limit("widget-upload:" + client, UPLOADS_PER_WINDOW, WINDOW_SECONDS)


@blueprint.get("/widget.js")
async def widget_js(_: Request) -> HTTPResponse:
    return _static("widget.js", "application/javascript; charset=utf-8")


@blueprint.get("/widget/widget.css")
async def widget_css(_: Request) -> HTTPResponse:
    return _static("widget.css", "text/css; charset=utf-8")


@blueprint.options("/widget/photo")
async def photo_preflight(request: Request) -> HTTPResponse:
    response = HTTPResponse(status=204)
    if _allowed_origin(request):
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Max-Age"] = "600"
    return _cors(request, response)


@blueprint.post("/widget/photo")
async def upload_photo(request: Request) -> HTTPResponse:
    if request.headers.get("Origin") and _allowed_origin(request) is None:
        return _error(request, 403, "origin_not_allowed", "This site may not upload photos.")
    length = request.headers.get("Content-Length")
    if (length and length.isdigit() and int(length) > MAX_PHOTO_BYTES + 64 * 1024) or len(
        request.body or b""
    ) > MAX_PHOTO_BYTES + 64 * 1024:
        return _error(request, 413, "too_large", "写真は10MBまでです。")
    if await asyncio.to_thread(_rate_limited, request.remote_addr or request.ip or "unknown"):
        return _error(request, 429, "rate_limited", "しばらくしてからもう一度送ってください。")
    files = request.files.get("photo") if request.files else None
    upload: Any = files[0] if isinstance(files, list) and files else files
    if upload is None or not getattr(upload, "body", None):
        return _error(request, 400, "missing_photo", "multipart field 'photo' is required")
    declared = (upload.type or "").split(";")[0].strip().lower()
    if declared not in UPLOAD_TYPES:
        return _error(request, 415, "unsupported_type", "JPEG か PNG の写真を送ってください。")
    if len(upload.body) > MAX_PHOTO_BYTES:
        return _error(request, 413, "too_large", "写真は10MBまでです。")
    loop = asyncio.get_running_loop()
    try:
        clean, ctype = await loop.run_in_executor(None, strip_exif, upload.body)
    except InvalidPhoto:
        return _error(request, 400, "invalid_image", "画像として読み取れませんでした。")

    settings = getattr(request.app.config, "BOSAI", None)

    def save() -> str:
        from bot.store import get_store

        store = get_store(settings.database_url if settings is not None else None)
        return str(store.save_photo(clean, ctype))

    ref = await loop.run_in_executor(None, save)
    return _cors(request, json({"photo_ref": ref}, status=201))
