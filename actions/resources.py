"""Lazily built shared resources for the actions: the GIS index and the report store.

Nothing is built at import time. The first action that needs the GIS index loads it from
``settings.gis_cache_dir`` (``bosai data import`` writes it); the store is the cached
``bot.store.get_store()`` for ``DATABASE_URL``, migrated once per URL. Blocking calls go through
:func:`run_blocking` so the action server's event loop never blocks.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from bot.store import Store
    from gis.service import GisIndex

T = TypeVar("T")

_lock = threading.Lock()
_gis: dict[str, GisIndex] = {}
_migrated: set[str] = set()


def gis_index() -> GisIndex:
    """The GIS index for the configured cache folder (loaded once, then shared)."""
    from bot.settings import get_settings
    from gis.service import load_index

    cache_dir = str(get_settings().gis_cache_dir)
    with _lock:
        idx = _gis.get(cache_dir)
        if idx is None:
            idx = _gis[cache_dir] = load_index(cache_dir)
        return idx


def report_store() -> Store:
    """The report store for ``DATABASE_URL``, migrated to the latest schema once."""
    from bot.store import get_store

    store = get_store()
    with _lock:
        if store.url not in _migrated:
            store.upgrade()
            _migrated.add(store.url)
    return store


def clear(gis: bool = True) -> None:
    """Forget cached resources (tests that switch settings); ``gis=False`` keeps the index."""
    with _lock:
        if gis:
            _gis.clear()
        _migrated.clear()


async def run_blocking(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking GIS / database call in the default executor."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(func, *args, **kwargs))
