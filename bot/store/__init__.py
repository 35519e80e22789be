"""Report store: reports, inbound message ids, evacuees, shelter status, notices, officials and
the officials' inbox of resident messages the bot could not act on.

``get_store()`` gives the store for the configured ``DATABASE_URL`` (cached per URL, built on first
use, never at import time); tests build ``Store(url)`` directly.
"""

from __future__ import annotations

import threading

from bot.store.errors import InvalidInput, InvalidTransition, NotFound, StoreError
from bot.store.inbox import InboxPage
from bot.store.models import Evacuee, InboxMessage, Notice, Official, Report, ShelterStatus
from bot.store.reports import ReportPage, ReportQuery
from bot.store.store import Store

__all__ = [
    "Evacuee",
    "InboxMessage",
    "InboxPage",
    "InvalidInput",
    "InvalidTransition",
    "NotFound",
    "Notice",
    "Official",
    "Report",
    "ReportPage",
    "ReportQuery",
    "ShelterStatus",
    "Store",
    "StoreError",
    "get_store",
]

_stores: dict[str, Store] = {}
_lock = threading.Lock()


def get_store(url: str | None = None) -> Store:
    """The shared :class:`Store` for ``url`` (default: settings' ``database_url``)."""
    if url is None:
        from bot.settings import get_settings

        url = get_settings().database_url
    with _lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = Store(url)
        return store


def clear_stores() -> None:
    """Dispose of cached stores (tests that switch DATABASE_URL)."""
    with _lock:
        for store in _stores.values():
            store.dispose()
        _stores.clear()
