"""Fixtures for widget tests: fresh settings and store in a tmp folder, anyio on asyncio."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", autouse=True)
def widget_assets() -> None:
    """The socket.io client copied from node_modules (what `make assets` does)."""
    from bot.officials import build_assets
    from bot.widget.routes import SOCKET_IO

    if not SOCKET_IO.exists():
        build_assets.build()
    assert SOCKET_IO.exists(), f"{SOCKET_IO} missing: `make assets` copies socket.io-client"


@pytest.fixture
def widget_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings pointing at a fresh var dir and database; returns the var dir."""
    from bot.settings import get_settings
    from bot.store import clear_stores

    monkeypatch.setenv("BOSAI_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bosai.db'}")
    monkeypatch.setenv("BOSAI_RESIDENT_SECRET", "widget-test")
    get_settings.cache_clear()
    clear_stores()
    yield tmp_path
    clear_stores()
    get_settings.cache_clear()
