"""Fixtures of the bot tests: settings read afresh in each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Settings are read once per process: each test reads the environment it sets up."""
    from bot.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
