"""Officials' notices in the store (runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, text

from bot.store import InvalidInput, NotFound, Store
from bot.store.migrate import current
from bot.store.models import Notice


def test_create_notice_round_trips(store: Store) -> None:
    before = datetime.now(timezone.utc)
    n = store.create_notice(
        " 避難指示（警戒レベル4） ",
        "○○川流域の方は\r\n直ちに避難してください。",
        "emergency",
        "山田",
    )
    assert n.id is not None
    assert (n.title, n.body, n.severity, n.created_by) == (
        "避難指示（警戒レベル4）",
        "○○川流域の方は\n直ちに避難してください。",
        "emergency",
        "山田",
    )
    assert n.broadcast == {}
    got = store.get_notice(n.id)
    assert got.title == "避難指示（警戒レベル4）" and got.severity == "emergency"
    assert got.created_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= got.created_at <= datetime.now(timezone.utc)
    assert got.to_dict()["created_at"].endswith("+00:00")
    with pytest.raises(NotFound):
        store.get_notice(n.id + 100)


@pytest.mark.parametrize(
    "title, body, severity, by, fragment",
    [
        ("", "本文", "info", "x", "title is required"),
        ("   ", "本文", "info", "x", "title is required"),
        ("a" * 101, "本文", "info", "x", "title must be at most 100"),
        ("一行目\n二行目", "本文", "info", "x", "one line"),
        (None, "本文", "info", "x", "title is required"),
        (123, "本文", "info", "x", "title must be a string"),
        ("件名", "", "info", "x", "body is required"),
        ("件名", "b" * 1001, "info", "x", "body must be at most 1000"),
        ("件名", "本文", "critical", "x", "severity must be one of info, warning, emergency"),
        ("件名", "本文", "info", "", "by must be"),
        ("件名", "本文", "info", "n" * 101, "by must be"),
    ],
)
def test_create_notice_rejects_bad_fields(
    store: Store, title, body, severity, by, fragment
) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        store.create_notice(title, body, severity, by)
    assert store.latest_notices(limit=100) == []


def test_limits_are_inclusive(store: Store) -> None:
    n = store.create_notice("t" * 100, "b" * 1000, "warning", "n" * 100)
    assert len(store.get_notice(n.id).title) == 100 and len(store.get_notice(n.id).body) == 1000


def test_latest_notices_newest_first_and_bounded(store: Store) -> None:
    ids = [store.create_notice(f"お知らせ{i}", "本文", "info", "sato").id for i in range(5)]
    assert [n.id for n in store.latest_notices()] == ids[::-1][:3]
    assert [n.title for n in store.latest_notices(limit=2)] == ["お知らせ4", "お知らせ3"]
    assert [n.id for n in store.latest_notices(limit=100)] == ids[::-1]
    for bad in (0, 101, -1, True, "3"):
        with pytest.raises(InvalidInput, match="limit"):
            store.latest_notices(limit=bad)  # type: ignore[arg-type]


def test_latest_notices_order_by_time_then_id(store: Store) -> None:
    a = store.create_notice("古い", "本文", "info", "sato")
    b = store.create_notice("新しい", "本文", "info", "sato")
    # the same created_at: the higher id is newer
    with store.session() as s:
        s.execute(
            text("UPDATE notices SET created_at = (SELECT created_at FROM notices WHERE id = :a)"),
            {"a": a.id},
        )
        s.commit()
    assert [n.id for n in store.latest_notices()] == [b.id, a.id]


def test_record_broadcast_per_channel(store: Store) -> None:
    n = store.create_notice("給水のお知らせ", "○○小学校で給水を行います。", "info", "sato")
    store.record_broadcast(n.id, "line", True, "")
    store.record_broadcast(n.id, "telegram", None, "TELEGRAM_BOT_TOKEN is not set")
    got = store.record_broadcast(n.id, "webchat", False, "x" * 800)
    assert set(got.broadcast) == {"line", "telegram", "webchat"}
    assert got.broadcast["line"]["status"] == "sent"
    assert got.broadcast["telegram"] == {
        "status": "skipped",
        "detail": "TELEGRAM_BOT_TOKEN is not set",
        "at": got.broadcast["telegram"]["at"],
    }
    assert got.broadcast["webchat"]["status"] == "failed"
    assert len(got.broadcast["webchat"]["detail"]) == 500
    at = datetime.fromisoformat(got.broadcast["line"]["at"])
    assert at.tzinfo is not None
    # stored, not only returned
    assert store.get_notice(n.id).broadcast == got.broadcast
    # a re-send replaces that channel's outcome only
    again = store.record_broadcast(n.id, "webchat", True, "ok")
    assert again.broadcast["webchat"]["status"] == "sent"
    assert again.broadcast["line"] == got.broadcast["line"]
    with pytest.raises(NotFound):
        store.record_broadcast(n.id + 100, "line", True, "")
    with pytest.raises(InvalidInput, match="channel"):
        store.record_broadcast(n.id, "LINE!", True, "")
    with pytest.raises(InvalidInput, match="ok must be"):
        store.record_broadcast(n.id, "line", "yes", "")  # type: ignore[arg-type]


def test_record_broadcast_concurrent_channels_keep_every_outcome(store: Store) -> None:
    n = store.create_notice("停電情報", "本文", "warning", "sato")
    channels = [f"ch{i}" for i in range(8)]
    barrier = threading.Barrier(len(channels))
    errors: list[BaseException] = []

    def worker(ch: str) -> None:
        try:
            barrier.wait()
            store.record_broadcast(n.id, ch, True, ch)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(c,)) for c in channels]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(store.get_notice(n.id).broadcast) == channels


def test_migration_0002_upgrades_an_existing_0001_database(tmp_path) -> None:
    s = Store(f"sqlite:///{tmp_path / 'old.db'}", photo_dir=tmp_path, secret=b"k")
    s.upgrade("0001")
    assert current(s.engine) == "0001"
    assert "notices" not in inspect(s.engine).get_table_names()
    report = s.create_report(category="fire", channel="line")
    s.upgrade("0002")
    assert current(s.engine) == "0002"
    assert s.get_report(report.id).category == "fire"  # data kept
    cols = {c["name"] for c in inspect(s.engine).get_columns("notices")}
    assert cols == {c.name for c in Notice.__table__.columns}
    assert s.create_notice("件名", "本文", "info", "x").id == 1
    from alembic import command

    from bot.store.migrate import alembic_config

    cfg = alembic_config(s.engine)
    with s.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert "notices" not in inspect(s.engine).get_table_names()
    s.dispose()
