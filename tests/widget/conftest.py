"""Fixtures for widget tests: fresh settings and store in a tmp folder, anyio on asyncio."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


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
