"""The officials' app serves the widget and accepts EXIF-free photos from allowed origins."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image

from bot.officials.app import create_app
from tests.channels.helpers import jpeg_with_exif, serve

pytestmark = pytest.mark.anyio

PAGE_ORIGIN = "http://city.example"


@pytest.fixture
async def officials(widget_env: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    import uuid

    from sanic import Sanic

    from bot.settings import get_settings

    monkeypatch.setenv("BOSAI_ALLOWED_ORIGINS", PAGE_ORIGIN)
    monkeypatch.delenv("REDIS_URL", raising=False)  # per-process rate limit here; Redis: test_shared
    get_settings.cache_clear()
    Sanic.test_mode = True
    app = create_app(get_settings(), name=f"off_{uuid.uuid4().hex[:8]}")
    from bot.widget import routes

    routes._uploads = None
    async with serve(app) as base:
        yield base


async def upload(base: str, data: bytes, ctype: str, origin: str | None = PAGE_ORIGIN):
    form = aiohttp.FormData()
    form.add_field("photo", data, filename="p", content_type=ctype)
    headers = {"Origin": origin} if origin else {}
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{base}/widget/photo", data=form, headers=headers) as r:
            return r.status, dict(r.headers), await r.json()


async def test_widget_assets(officials: str) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{officials}/widget.js") as r:
            assert r.status == 200
            assert r.headers["Content-Type"] == "application/javascript; charset=utf-8"
            js = await r.text()
        async with s.get(f"{officials}/widget/widget.css") as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/css")
    assert "現在地を送る" in js and "innerHTML" not in js
    # one script: the socket.io client from npm, Japan's extent from gis/extent.py, the widget
    assert "Socket.IO v4." in js and "sourceMappingURL" not in js
    assert "var JAPAN_BOUNDS = [122.0, 20.0, 154.5, 46.0];" in js
    assert js.rstrip().endswith("})();")


async def test_widget_js_says_what_to_run_without_assets(
    officials: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from bot.widget import routes

    monkeypatch.setattr(routes, "SOCKET_IO", tmp_path / "missing.js")
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{officials}/widget.js") as r:
            assert r.status == 503
            body = await r.json()
    assert body["error"] == "assets_missing" and "make assets" in body["message"]


async def test_photo_upload_strips_exif(officials: str, widget_env: Path) -> None:
    from bot.store import get_store

    status, headers, body = await upload(officials, jpeg_with_exif(), "image/jpeg")
    assert status == 201
    assert headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN
    saved = get_store().photo_path(body["photo_ref"]).read_bytes()
    assert str(get_store().photo_path(body["photo_ref"])).startswith(str(widget_env))
    with Image.open(io.BytesIO(saved)) as im:
        assert im.format == "JPEG" and not im.getexif()
    assert b"SecretCam" not in saved


async def test_photo_upload_rejections(officials: str) -> None:
    status, _, body = await upload(officials, b"GIF89a....", "image/gif")
    assert (status, body["error"]) == (415, "unsupported_type")
    status, _, body = await upload(officials, b"not really a jpeg", "image/jpeg")
    assert (status, body["error"]) == (400, "invalid_image")
    status, _, body = await upload(officials, b"\xff" * (11 * 1024 * 1024), "image/jpeg")
    assert status == 413
    status, headers, body = await upload(
        officials, jpeg_with_exif(), "image/jpeg", "http://evil.example"
    )
    assert (status, body["error"]) == (403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in headers
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{officials}/widget/photo", data=b"x") as r:
            assert r.status == 400


async def test_photo_preflight(officials: str) -> None:
    async with aiohttp.ClientSession() as s:
        headers = {"Origin": PAGE_ORIGIN, "Access-Control-Request-Method": "POST"}
        async with s.options(f"{officials}/widget/photo", headers=headers) as r:
            assert r.status == 204
            assert r.headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN
            assert "POST" in r.headers["Access-Control-Allow-Methods"]


async def test_photo_upload_rate_limit(officials: str, monkeypatch: Any) -> None:
    from bot.widget import routes

    monkeypatch.setattr(routes, "UPLOADS_PER_WINDOW", 2)
    img = jpeg_with_exif()
    assert (await upload(officials, img, "image/jpeg"))[0] == 201
    assert (await upload(officials, img, "image/jpeg"))[0] == 201
    assert (await upload(officials, img, "image/jpeg"))[0] == 429
