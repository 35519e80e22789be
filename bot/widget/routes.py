"""Routes serving the embeddable web widget from the officials' app.

- ``GET /widget.js``: the widget script (``static/widget.js``) bundled with the socket.io client
  from npm (``socket.io-client`` in package.json, copied into the dashboard's vendor folder by
  ``make assets``) and Japan's extent (:data:`gis.extent.JAPAN_BOUNDS`), in one function scope:
  the page's own globals (``io``, ``define``) are neither used nor touched;
- ``GET /widget/widget.css``: its style sheet;
- ``POST /widget/photo``: a resident's photo from the widget (multipart field ``photo``, JPEG or
  PNG, at most 10 MB), re-encoded without EXIF, saved with ``store.save_photo``; answers
  ``{"photo_ref": "..."}`` which the widget sends to Rasa as ``/share_photo{"photo_ref": ...}``.

Cross-origin calls are allowed from ``settings.allowed_origins`` (``BOSAI_ALLOWED_ORIGINS``;
``*``: any origin); the CORS headers are sanic-cors' (:mod:`sanic_cors.core`).
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json, raw
from sanic_cors.core import get_cors_options, get_cors_origins, set_cors_headers

from bot.channels.photos import MAX_PHOTO_BYTES, InvalidPhoto, strip_exif
from bot.channels.shared import SharedState
from bot.officials.build_assets import VENDOR_DIR
from bot.settings import Settings, get_settings
from gis.extent import JAPAN_BOUNDS

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
#: socket.io-client's browser build, copied from node_modules by ``make assets``
SOCKET_IO = VENDOR_DIR / "socket.io" / "socket.io.min.js"
UPLOAD_TYPES = {"image/jpeg", "image/png"}
UPLOADS_PER_WINDOW = 20
WINDOW_SECONDS = 600.0
_HEADERS = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}

blueprint = Blueprint("widget")
# Upload counts per client (in Redis when REDIS_URL is set: shared by all instances); made on first use.
_uploads: SharedState | None = None


def widget_script(library: Path | None = None) -> str:
    """The widget with the socket.io client and Japan's extent, as one self-contained script.

    The client's UMD wrapper finds ``module``/``exports`` in the enclosing function and exports
    itself there (never as the page's ``window.io`` or through the page's AMD ``define``).

    Raises
    ------
    FileNotFoundError
        When ``make assets`` has not copied the socket.io client yet.
    """
    client = "\n".join(
        line
        for line in (library or SOCKET_IO).read_text(encoding="utf-8").splitlines()
        if not line.startswith("//# sourceMappingURL=")
    )
    widget = (STATIC / "widget.js").read_text(encoding="utf-8")
    return (
        "/* 防災チャットボット widget; includes socket.io-client (MIT License, https://socket.io) */\n"
        "(function () {\n"
        "var module = { exports: {} }, exports = module.exports, define;\n"
        f"{client}\n"
        "var io = module.exports;\n"
        f"var JAPAN_BOUNDS = {jsonlib.dumps(list(JAPAN_BOUNDS))}; // min lon, min lat, max lon, max lat\n"
        f"{widget}"
        "})();\n"
    )


def _settings(request: Request) -> Settings:
    settings = getattr(request.app.config, "BOSAI", None)
    return settings if settings is not None else get_settings()


@lru_cache(maxsize=8)
def _cors_options(origins: tuple[str, ...]) -> dict[str, Any]:
    allowed = [o for o in origins if o] or ["*"]
    return get_cors_options(
        None, {"origins": allowed, "methods": ["POST", "OPTIONS"], "max_age": 600}
    )


def _options(request: Request) -> dict[str, Any]:
    return _cors_options(tuple(_settings(request).allowed_origins))


def _origin_allowed(request: Request) -> bool:
    origin = request.headers.get("Origin")
    return not origin or bool(get_cors_origins(_options(request), origin))


def _cors(request: Request, response: HTTPResponse) -> HTTPResponse:
    set_cors_headers(request, response, request.ctx, _options(request))
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
    try:
        script = widget_script()
    except FileNotFoundError:
        logger.error("widget.js: %s is missing; run `make assets`", SOCKET_IO)
        return json(
            {
                "error": "assets_missing",
                "message": "The widget's socket.io client is not built: run `make assets` "
                "(python -m bot.officials.build_assets) on the server.",
            },
            status=503,
        )
    return raw(
        script.encode("utf-8"),
        content_type="application/javascript; charset=utf-8",
        headers=_HEADERS,
    )


@blueprint.get("/widget/widget.css")
async def widget_css(_: Request) -> HTTPResponse:
    return raw(
        (STATIC / "widget.css").read_bytes(),
        content_type="text/css; charset=utf-8",
        headers=_HEADERS,
    )


@blueprint.options("/widget/photo")
async def photo_preflight(request: Request) -> HTTPResponse:
    return _cors(request, HTTPResponse(status=204))


@blueprint.post("/widget/photo")
async def upload_photo(request: Request) -> HTTPResponse:
    if not _origin_allowed(request):
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
    database_url = _settings(request).database_url

    def save() -> str:
        from bot.store import get_store

        return str(get_store(database_url).save_photo(clean, ctype))

    ref = await loop.run_in_executor(None, save)
    return _cors(request, json({"photo_ref": ref}, status=201))
