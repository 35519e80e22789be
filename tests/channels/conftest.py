"""Fixtures for connector tests: a fresh store per test, anyio on asyncio, the local Redis, and
the trained agent for the tests that run the model in this process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.channels.shared import PREFIX
from bot.store import Store
from tests.channels.helpers import FakeLine

REDIS_URL = "redis://127.0.0.1:6379/6"  # the local Redis server; its tests skip without it


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
    monkeypatch.delenv("REDIS_URL", raising=False)  # channel state in this process (Redis: redis_url)
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


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The local Redis (database 6) for shared channel state; the keys under PREFIX go after."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    yield REDIS_URL
    for key in client.scan_iter(PREFIX + "*"):
        client.delete(key)


@pytest.fixture(scope="session")
def agent() -> Iterator[Any]:
    """The trained agent as ``bosai run`` loads it (tests/conftest.py ``load_trained_agent``),
    once for every module here that runs turns in this process; each test points its action
    endpoint where it needs it (test_action_failure.py ``point_actions_at``)."""
    from tests.conftest import load_trained_agent

    yield load_trained_agent()
