"""Shared resources of the actions: the GIS index and the report store, ready before any action.

Nothing is built at import time. ``bosai actions`` (what ``bosai run`` starts) registers
:class:`StartHook` with rasa_sdk's plugin manager: before the action server takes its first
request, :func:`warm_up` loads the GIS index from ``settings.gis_cache_dir`` (``bosai data import``
writes it) and migrates the report store for ``DATABASE_URL``, in a worker thread, so neither the
parquet load nor Alembic ever runs on the server's event loop. :func:`gis_index` and
:func:`report_store` then only return what is loaded (an action server started another way still
works: the first call loads, as before). Blocking queries go through :func:`run_blocking`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

if TYPE_CHECKING:
    from sanic import Sanic

    from bot.store import Store
    from gis.service import GisIndex

T = TypeVar("T")
logger = logging.getLogger(__name__)

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


def _gis_index_warm() -> None:
    """The GIS index, with the place searches' indexes built (not in a resident's turn)."""
    gis_index().warm_search()


def warm_up() -> dict[str, bool]:
    """Load the GIS index and migrate the store now (blocking); what is ready afterwards.

    A missing GIS cache or an unreachable database is logged, not raised: the server still
    starts, and the actions answer with their "not available" replies until it is fixed.
    """
    ready = {"gis": False, "store": False}
    for name, load in (("gis", _gis_index_warm), ("store", report_store)):
        try:
            load()
            ready[name] = True
        except Exception as exc:  # noqa: BLE001 - reported, retried by the first action
            logger.warning(
                "action server start: %s not ready (%s: %s)", name, type(exc).__name__, exc
            )
    return ready


def attach(app: Sanic) -> None:
    """Make ``app`` run :func:`warm_up` in a worker thread before it serves requests."""

    async def load_resources(_app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        ready = await loop.run_in_executor(None, warm_up)
        logger.info("action server resources: %s", ready)

    app.register_listener(load_resources, "before_server_start")


class StartHook:
    """rasa_sdk plugin: ``plugin_manager().register(StartHook())`` before the server runs."""

    @pluggy.HookimplMarker("rasa_sdk")
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        attach(app)


#: the lowest search score a site may have to be offered to a resident at all, as a candidate to
#: choose or a place to confirm. Below it the search found only shared letters: 「Otaru station」
#: scored 0.26 against 「ｍｏｔｔｏたくま宿」 (北見市), 「Hakodate shelter」 0.22, 「うちの前」 0.40
#: against 「アゼチの岬」 (浜中町), 「〇〇中体育館」 0.45 against a school in 伊達市; a wrong place
#: read back or offered as a button could send someone to the wrong shelter. Partial names that
#: do mean a place score higher: 「室蘭の体育館」 0.54, 「帯広 西十六条」 0.57, 「端野」 0.87.
MIN_SITE_SCORE = 0.5


async def search_sites(text: str, limit: int) -> list[Any]:
    """``GisIndex.search_sites`` off the event loop, without the matches under
    :data:`MIN_SITE_SCORE` (none left: the place was not found)."""
    idx = gis_index()
    matches = await run_blocking(idx.search_sites, text, limit)
    return [m for m in matches if m.score >= MIN_SITE_SCORE]


async def find_area(text: str) -> Any:
    """``GisIndex.find_area`` off the event loop: the district named in ``text`` or None."""
    idx = gis_index()
    return await run_blocking(idx.find_area, text)


async def run_blocking(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking GIS / database call in the default executor."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(func, *args, **kwargs))
