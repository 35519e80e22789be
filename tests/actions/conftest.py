"""Fixtures for action tests: the real GIS index from the shared open data, a fresh store per test.

Nothing is faked: actions read the GIS cache imported from ``../shared/data`` (once per session)
and write to a new SQLite report store in each test's tmp folder.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.settings import REPO_ROOT, default_data_source, get_settings

DATA = default_data_source()


@pytest.fixture(scope="session")
def gis_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if DATA is None:
        pytest.skip("shared open data not available")
    from gis.importer import default_sources, import_data

    cache = tmp_path_factory.mktemp("gis")
    import_data(default_sources(DATA), cache)
    return cache


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(REPO_ROOT / "bot" / "domain")).as_dict()


@pytest.fixture()
def env(tmp_path: Path, gis_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Settings pointing at the session GIS cache and a fresh SQLite store; yields the store."""
    from actions import resources
    from bot.store import clear_stores

    monkeypatch.setenv("BOSAI_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("BOSAI_GIS_CACHE", str(gis_cache))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bosai.db'}")
    monkeypatch.setenv("BOSAI_RESIDENT_SECRET", "test-secret")
    get_settings.cache_clear()
    clear_stores()
    resources.clear(gis=False)
    yield resources.report_store()
    clear_stores()
    resources.clear(gis=False)
    get_settings.cache_clear()


def make_tracker(
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    events: list[dict[str, Any]] | None = None,
    sender_id: str = "resident-1",
    channel: str = "rest",
    confidence: float = 1.0,
) -> Tracker:
    all_slots: dict[str, Any] = {"language": "ja"}
    all_slots.update(slots or {})
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence} if intent else {},
        "entities": entities or [],
    }
    history = list(events or [])
    history.append(
        {"event": "user", "text": text, "parse_data": latest, "input_channel": channel}
    )
    return Tracker(
        sender_id,
        all_slots,
        latest,
        history,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


def run(action: Action, tracker: Tracker, domain: dict[str, Any]) -> tuple[list[Any], list[dict[str, Any]]]:
    """Run an action; returns (events, dispatched messages)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return events, dispatcher.messages


def validate(
    validator: Any, method: str, value: Any, tracker: Tracker, domain: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    result = asyncio.run(getattr(validator, method)(value, dispatcher, tracker, domain))
    return result, dispatcher.messages


def responses(messages: list[dict[str, Any]]) -> list[str | None]:
    return [m.get("response") for m in messages]
