"""The tracker store ``bosai run`` configures deletes a conversation when the resident's
confirmed 「データを削除」 turn is saved, and stores every other turn as Rasa's own store does."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.settings import REPO_ROOT
from bot.tracker_store import ERASE_SLOT, ErasingSQLTrackerStore


def _count(db: Path) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        out = dict(
            conn.execute(text("SELECT sender_id, count(*) FROM events GROUP BY sender_id")).all()
        )
    engine.dispose()
    return out


def test_confirmed_erasure_deletes_the_conversation_and_nothing_else(
    tmp_path: Path, monkeypatch
) -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        ActionExecuted,
        AllSlotsReset,
        BotUttered,
        SlotSet,
        UserUttered,
    )

    from bot.settings import get_settings
    from bot.store import clear_stores, get_store

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bosai.db'}")
    monkeypatch.setenv("BOSAI_RESIDENT_SECRET", "test-secret")
    get_settings.cache_clear()
    clear_stores()
    reports = get_store()
    reports.upgrade()
    alice = reports.residents.sender("line", "U-alice")
    bob = reports.residents.sender("line", "U-bob")
    reports.remember_address(alice, "U-alice")
    reports.remember_address(bob, "U-bob")

    domain = Domain.load(str(REPO_ROOT / "bot" / "domain"))
    db = tmp_path / "tracker.db"
    store = ErasingSQLTrackerStore(domain=domain, dialect="sqlite", db=str(db))

    async def turn(sender: str, message: str, *after: object) -> None:
        tracker = await store.retrieve(sender) or await store.create_tracker(sender)
        tracker.update(UserUttered(message))
        for event in after:
            tracker.update(event)
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)

    async def conversation() -> None:
        await turn(alice, "緑町3丁目12-4、2階に3人", BotUttered("登録しました"))
        await turn(bob, "避難所どこ", BotUttered("…"))
        await turn(alice, "データを削除", ActionExecuted("utter_ask_delete_my_data"))
        assert _count(db)[alice] > 4
        await turn(
            alice,
            "/affirm",
            ActionExecuted("action_delete_my_data"),
            BotUttered("削除しました"),
            AllSlotsReset(),
            SlotSet(ERASE_SLOT, True),
        )
        assert alice not in _count(db)
        assert alice not in store._cache  # not even in this process's memory
        assert await store.retrieve(alice) is None
        # the resident's next message starts a new conversation, stored as usual
        await turn(alice, "こんにちは", BotUttered("こんにちは"))

    asyncio.run(conversation())
    counts = _count(db)
    assert counts[bob] > 0
    tracker = asyncio.run(store.retrieve(alice))
    assert tracker is not None
    texts = [e.text for e in tracker.events if isinstance(e, UserUttered)]
    assert texts == ["こんにちは"]
    store.engine.dispose()
    # the raw platform id kept for replies is gone too; another resident's stays
    assert reports.address_of(alice) is None and reports.address_of(bob) == "U-bob"
    clear_stores()
    get_settings.cache_clear()


def test_the_endpoints_bosai_run_writes_load_this_store(tmp_path: Path, monkeypatch) -> None:
    """Rasa falls back to an in-memory store, silently keeping nothing erasable, when a custom
    type cannot be loaded: check that ``var/endpoints.yml`` really gives this class."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.utils.endpoints import read_endpoint_config

    from bot.settings import get_settings
    from bot.supervisor import write_endpoints

    monkeypatch.setenv("BOSAI_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("TRACKER_STORE_URL", raising=False)
    get_settings.cache_clear()
    try:
        config = read_endpoint_config(str(write_endpoints(get_settings())), "tracker_store")
        store = TrackerStore.create(config, Domain.load(str(REPO_ROOT / "bot" / "domain")))
        assert isinstance(store, ErasingSQLTrackerStore)
        assert str(store.engine.url) == f"sqlite:///{tmp_path / 'tracker.db'}"
        store.engine.dispose()
    finally:
        get_settings.cache_clear()
