"""Fixtures for connector tests: a fresh store per test, anyio on asyncio."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.store import Store
from tests.channels.helpers import FakeLine


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Settings are read once per process: each test reads the environment it sets up."""
    from bot.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("BOSAI_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)  # channel state in this process (Redis: test_shared)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bosai.db'}")
    from bot.settings import get_settings

    get_settings.cache_clear()
    st = Store(f"sqlite:///{tmp_path / 'bosai.db'}", photo_dir=tmp_path / "photos", secret=b"k")
    st.upgrade()
    yield st
    st.dispose()
    get_settings.cache_clear()


@pytest.fixture
async def line_api() -> AsyncIterator[FakeLine]:
    """A fake LINE API on loopback (records what residents receive)."""
    api = FakeLine()
    await api.start()
    yield api
    await api.stop()
