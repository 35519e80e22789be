"""The officials' dashboard page (``/``) and its static files (``/dashboard/static/...``)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, html

from bot.officials.build_assets import VENDOR_DIR, missing_assets
from bot.officials.runtime import run_blocking

STATIC_DIR = Path(__file__).resolve().parent / "static"
INDEX = STATIC_DIR / "index.html"

blueprint = Blueprint("officials_dashboard")
blueprint.static("/dashboard/static", str(STATIC_DIR), name="dashboard_static")

ASSETS_MISSING_PAGE = """<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>ダッシュボードの準備ができていません</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto;line-height:1.7">
<h1>ダッシュボードの準備ができていません</h1>
<p>地図ライブラリ（Leaflet）がまだ用意されていません。サーバーで次のコマンドを実行してから、
このページを再読み込みしてください。</p>
<pre>make assets
# または
.venv/bin/python -m bot.officials.build_assets</pre>
<p lang="en">The dashboard's JavaScript libraries are not built. Run <code>make assets</code>
(or <code>python -m bot.officials.build_assets</code>) on the server, then reload.</p>
<p>不足しているファイル / missing: {missing}</p>
</body></html>"""


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc.split('{')[0]}" if "{" not in parts.netloc else None
    return None


def content_security_policy(tiles_url: str) -> str:
    img = ["'self'", "data:", "blob:"]
    origin = _origin(tiles_url)
    if origin:
        img.append(origin)
    elif "{s}" in tiles_url or "{" in urlsplit(tiles_url).netloc:
        img.append(f"{urlsplit(tiles_url).scheme or 'https'}:")
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src {' '.join(img)}; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'; object-src 'none'"
    )


@blueprint.get("/")
async def index(request: Request) -> HTTPResponse:
    missing = missing_assets(VENDOR_DIR)
    if missing:
        from html import escape

        return html(ASSETS_MISSING_PAGE.format(missing=escape(", ".join(missing))), status=503)
    page = await run_blocking(INDEX.read_text, encoding="utf-8")
    return html(
        page,
        headers={
            "Content-Security-Policy": content_security_policy(request.app.config.BOSAI.tiles_url),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )
