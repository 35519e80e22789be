"""The dashboard page: served with UTF-8 and a strict CSP, or a clear page when assets are missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.officials import build_assets, dashboard
from tests.officials.conftest import Api


def test_missing_assets_give_clear_page(
    api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(dashboard, "VENDOR_DIR", tmp_path / "empty-vendor")
    resp = api.get("/", role=None)
    assert resp.status_code == 503
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert "ダッシュボードの準備ができていません" in resp.text
    assert "python -m bot.officials.build_assets" in resp.text and "make assets" in resp.text
    assert "leaflet/leaflet.js" in resp.text


def test_dashboard_page_served_with_csp(api: Api) -> None:
    if build_assets.missing_assets():
        build_assets.build()
    resp = api.get("/", role=None)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert '<meta charset="utf-8">' in resp.text and 'lang="ja"' in resp.text
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "http://127.0.0.1:9" in csp
    assert "unsafe-eval" not in csp
    # no CDN: every script and stylesheet is served by the app itself
    assert "https://" not in resp.text.split("<body>")[0]
    for path in (
        "/dashboard/static/vendor/leaflet/leaflet.js",
        "/dashboard/static/vendor/markercluster/leaflet.markercluster.js",
        "/dashboard/static/dashboard.js",
    ):
        asset = api.get(path, role=None)
        assert asset.status_code == 200 and len(asset.content) > 1000, path


def test_csp_allows_configured_tile_origin() -> None:
    csp = dashboard.content_security_policy(
        "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png"
    )
    assert "img-src 'self' data: blob: https://cyberjapandata.gsi.go.jp;" in csp
    assert "https:" in dashboard.content_security_policy(
        "https://{s}.tile.example.org/{z}/{x}/{y}.png"
    )


def test_every_category_has_its_own_colour() -> None:
    """The map and the category filter colour each report category; a new category (such as
    needs_assistance or missing_contact) must not fall back to the grey of ``other``."""
    import re

    from bot.store import vocab

    js = (dashboard.STATIC_DIR / "dashboard.js").read_text(encoding="utf-8")
    block = re.search(r"var COLORS = \{(.*?)\};", js, re.S)
    assert block is not None
    colours = dict(re.findall(r"(\w+): \"(#[0-9a-f]{6})\"", block.group(1)))
    assert set(colours) == set(vocab.CATEGORIES)
    assert len(set(colours.values())) == len(colours), "two categories share a colour"
