"""App-scoped resources of the officials' app: the store, the lazily loaded GIS index and where
notices are broadcast."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sanic import Sanic

from bot.officials.errors import ApiError
from bot.store import Store, get_store

log = logging.getLogger(__name__)
T = TypeVar("T")


async def run_blocking(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking (database, file, GIS) work in the loop's default executor."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(func, *args, **kwargs))


def store_of(app: Sanic) -> Store:
    store = getattr(app.ctx, "store", None)
    if store is None:  # a request before the start listener finished (should not happen)
        store = app.ctx.store = get_store(app.config.BOSAI.database_url)
    return store


def broadcast_config(app: Sanic) -> Any:
    """The notice channels taken from the app's settings at start (:class:`BroadcastConfig`)."""
    config = getattr(app.ctx, "broadcast_config", None)
    if config is None:
        from bot.officials.notices import BroadcastConfig

        config = app.ctx.broadcast_config = BroadcastConfig.from_settings(app.config.BOSAI)
    return config


class GisUnavailable(RuntimeError):
    pass


def default_gis_loader(cache_dir: Path) -> Any:
    """Load the GIS index built by ``bosai data import`` (blocking; runs in an executor)."""
    if not Path(cache_dir).is_dir():
        raise GisUnavailable(
            f"the GIS cache {cache_dir} is missing: run `bosai data import` (or `make data`) "
            "and restart the officials' app"
        )
    try:
        from gis.errors import CacheMissingError
        from gis.service import load_index
    except ImportError as exc:
        raise GisUnavailable(f"the GIS package is not available: {exc}") from exc
    try:
        return load_index(cache_dir)
    except CacheMissingError as exc:
        raise GisUnavailable(f"{exc} (then restart the officials' app)") from exc
    except FileNotFoundError as exc:
        raise GisUnavailable(
            f"the GIS cache is incomplete ({exc}): run `bosai data import` and restart"
        ) from exc


def start_gis_loading(app: Sanic) -> None:
    """Start loading the GIS index in the background (server start listener)."""
    loader = getattr(app.ctx, "gis_loader", None) or default_gis_loader
    cache_dir = app.config.BOSAI.gis_cache_dir
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(None, loader, cache_dir)
    future.add_done_callback(_log_gis_result)
    app.ctx.gis_future = future


def _log_gis_result(future: asyncio.Future) -> None:
    exc = future.exception()
    if exc is not None:
        log.warning("GIS index not available: %s", exc)
    else:
        log.info("GIS index loaded")


def gis_index(app: Sanic) -> Any:
    """The loaded GIS index, or a 503 ApiError saying why it is not there."""
    future = getattr(app.ctx, "gis_future", None)
    if future is None or not future.done():
        raise ApiError(
            503,
            "the GIS index (designated sites) is still loading; retry in a few seconds",
            "gis_loading",
            headers={"Retry-After": "5"},
        )
    exc = future.exception()
    if exc is not None:
        message = (
            str(exc) if isinstance(exc, GisUnavailable) else f"GIS index failed to load: {exc}"
        )
        raise ApiError(503, message, "gis_unavailable")
    return future.result()
