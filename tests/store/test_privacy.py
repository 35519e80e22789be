"""Personal data in the report store: a resident's erasure and the retention purge (SQLite and
PostgreSQL); the tracker purge on a tracker store written by Rasa's own SQLTrackerStore."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.store import Store
from bot.store.intake import IntakeEvent
from bot.store.models import Evacuee, InboundMessage, InboxMessage, Report, ReportPhoto
from bot.store.privacy import ERASED_TEXT, EXPIRED_TEXT, has_personal_data
from bot.store.trackers import purge_trackers
from tests.store.helpers import add_report

NOW = datetime.now(timezone.utc)
OLD = NOW - timedelta(days=40)
JPEG = b"\xff\xd8\xff\xe0" + b"photo-bytes" * 10


def rows(store: Store, model, *where):
    with store.session() as s:
        return list(s.execute(select(model).where(*where)).scalars())


@pytest.mark.parametrize(
    "text",
    [
        "緑町3丁目12-4の青い屋根の家",
        "電話は090-1234-5678です",
        "連絡先 yamada@example.jp",
        "〒040-0001",
        "人工透析の母がいます",
        "88歳の祖父、寝たきり",
        "山田さんの家が浸水",
        "北4条東3付近",
        "my mother needs dialysis",
    ],
)
def test_personal_data_is_recognised(text: str) -> None:
    assert has_personal_data(text)


@pytest.mark.parametrize(
    "text", ["道路が冠水しています", "土砂が道をふさいでいる", "停電中、信号も消えてる", None, ""]
)
def test_plain_report_text_has_no_personal_data(text: str | None) -> None:
    assert not has_personal_data(text)


def _resident_data(store: Store, user: str) -> dict:
    who = store.resident_id("line", user)
    store.upsert_evacuee(
        who,
        "line",
        "car",
        3,
        {"medical": 1},
        ["water"],
        True,
        lat=41.768712,
        lon=140.728834,
        place_text="緑町3丁目12-4",
    )
    photo = store.save_photo(JPEG + user.encode(), "image/jpeg")
    with_address = add_report(
        store, "building_damage", "緑町3丁目12-4の家が半壊、母が人工透析", (41.768712, 140.728834),
        "line", urgency="high", place_text="緑町3丁目12-4", resident=who,
    )
    store.attach_photo(with_address.id, photo)
    plain = add_report(
        store, "road_flooded", "道路が冠水しています", (41.771234, 140.731234), "line", resident=who,
    )
    store.change_status(plain.id, "confirmed", by="yamada")
    store.change_status(plain.id, "resolved", by="yamada")
    msg = store.add_inbox_message(
        channel="line",
        user_id=user,
        text="090-1111-2222に電話ください",
        reason="fallback",
    )
    return {
        "who": who,
        "photo": photo,
        "address": with_address.id,
        "plain": plain.id,
        "msg": msg.id,
    }


def test_erasure_deletes_registration_and_photos_and_anonymises_reports(store: Store) -> None:
    mine = _resident_data(store, "U-alice")
    other = _resident_data(store, "U-bob")
    # a photo the resident sent for a form still in progress (not on any report yet)
    pending = store.save_photo(JPEG + b"pending", "image/jpeg")

    done = store.privacy.erase_resident(mine["who"], [pending])

    assert (done.registrations, done.reports, done.inbox_messages, done.photos) == (1, 2, 1, 2)
    assert rows(store, Evacuee, Evacuee.resident == mine["who"]) == []
    assert not store.photo_path(mine["photo"]).exists()
    assert not store.photo_path(pending).exists()
    assert rows(store, ReportPhoto, ReportPhoto.report_id == mine["address"]) == []
    assert rows(store, Report, Report.resident == mine["who"]) == []
    address = store.get_report(mine["address"])
    # free text with an address and a health need is removed; the open report keeps its place
    assert (address.text, address.place_text, address.resident) == (ERASED_TEXT, None, None)
    assert (address.lat, address.lon, address.category, address.urgency) == (
        41.768712,
        140.728834,
        "building_damage",
        "high",
    )
    plain = store.get_report(mine["plain"])
    # text without personal data stays; a closed report's place is rounded to about 100 m
    assert (plain.text, plain.resident, plain.lat, plain.lon) == (
        "道路が冠水しています",
        None,
        41.771,
        140.731,
    )
    msg = rows(store, InboxMessage, InboxMessage.id == mine["msg"])[0]
    assert (msg.text, msg.resident) == (ERASED_TEXT, "")
    # another resident's data is untouched
    assert len(rows(store, Evacuee, Evacuee.resident == other["who"])) == 1
    assert store.get_report(other["address"]).text.startswith("緑町3丁目")
    assert store.photo_path(other["photo"]).exists()


def test_erasure_keeps_a_photo_file_another_report_uses(store: Store) -> None:
    mine = _resident_data(store, "U-carol")
    other = add_report(
        store, "other", "同じ写真", None, "telegram", resident=store.resident_id("telegram", "T-dave"),
    )
    store.attach_photo(other.id, mine["photo"])
    done = store.privacy.erase_resident(mine["who"])
    assert done.photos == 0
    assert store.photo_path(mine["photo"]).exists()
    assert store.get_report(other.id).photo_refs == [mine["photo"]]


def test_purge_removes_what_is_older_than_the_retention(store: Store) -> None:
    who = store.resident_id("line", "U-erin")
    assert store.record_inbound("line", "old-1", who, received_at=OLD)
    assert store.record_inbound("line", "new-1", who, received_at=NOW)
    old_handled = store.add_inbox_message(
        channel="line", user_id="U-erin", text="緑町3丁目の家", reason="fallback", received_at=OLD
    )
    store.set_message_handled(old_handled.id, handled=True, by="yamada")
    old_open = store.add_inbox_message(
        channel="line",
        user_id="U-erin",
        text="まだ誰も来ない",
        reason="fallback",
        received_at=OLD,
        channel_message_id="m-open",
    )
    report = store.create_report(
        category="other", text="古い報告", channel="line", resident=who, reported_at=OLD
    )
    used = store.save_photo(JPEG + b"used", "image/jpeg")
    store.attach_photo(report.id, used)
    with store.engine.begin() as conn:
        conn.execute(Report.__table__.update().where(Report.id == report.id).values(updated_at=OLD))
        for status, event_id in (("done", "e-old-done"), ("pending", "e-old-pending")):
            conn.execute(
                IntakeEvent.__table__.insert().values(
                    channel="line",
                    event_id=event_id,
                    resident=who,
                    payload={"text": "x"},
                    status=status,
                    attempts=0,
                    next_attempt_at=OLD,
                    retry_key="k" * 36,
                    sent_parts=0,
                    received_at=OLD,
                    updated_at=OLD,
                )
            )
    orphan_old = store.save_photo(JPEG + b"orphan-old", "image/jpeg")
    orphan_new = store.save_photo(JPEG + b"orphan-new", "image/jpeg")
    two_days_ago = time.time() - 2 * 86400
    for ref in (used, orphan_old):
        os.utime(store.photo_path(ref), (two_days_ago, two_days_ago))

    counts = store.privacy.purge(NOW - timedelta(days=30))

    assert counts["inbound_ids"] == 1 and counts["orphan_photos"] == 1
    assert counts["inbox_texts"] == 1 and counts["report_pseudonyms"] == 1
    assert counts["intake_events"] == 1
    assert [r.channel_message_id for r in rows(store, InboundMessage)] == ["new-1"]
    handled = rows(store, InboxMessage, InboxMessage.id == old_handled.id)[0]
    assert (handled.text, handled.place_text, handled.resident) == (EXPIRED_TEXT, None, "")
    # a message no official has handled yet is never purged
    assert rows(store, InboxMessage, InboxMessage.id == old_open.id)[0].text == "まだ誰も来ない"
    assert store.get_report(report.id).resident is None
    assert store.get_report(report.id).text == "古い報告"
    assert [e.status for e in rows(store, IntakeEvent)] == ["pending"]
    assert store.photo_path(used).exists() and store.photo_path(orphan_new).exists()
    assert not store.photo_path(orphan_old).exists()
    # a second run finds nothing more
    again = store.privacy.purge(NOW - timedelta(days=30))
    assert not any(again.values())


def test_addresses_of_gone_conversations_are_purged(store: Store) -> None:
    gone = store.residents.sender("line", "U-gone")
    live = store.residents.sender("line", "U-live")
    store.remember_address(gone, "U-gone")
    store.remember_address(live, "U-live")
    later = NOW + timedelta(days=1)
    assert store.privacy.purge_addresses(later, {live}) == 1
    assert store.address_of(gone) is None and store.address_of(live) == "U-live"


# ---------------------------------------------------------------------- Rasa's tracker store
def _rasa_store(db: Path | str):
    """Rasa's own SQLTrackerStore on a SQLite file or a PostgreSQL URL."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from sqlalchemy.engine import make_url

    if isinstance(db, Path):
        return SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    url = make_url(db)
    return SQLTrackerStore(
        Domain.empty(),
        dialect="postgresql",
        host=url.host,
        port=url.port,
        db=url.database,
        username=url.username,
        password=url.password or "",
    )


def _save_conversation(db: Path | str, sender: str, sessions: list[list[datetime]]) -> None:
    """Write a conversation through Rasa's own SQLTrackerStore: one session per list of user
    message times (each session starts like Rasa starts one)."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    store = _rasa_store(db)
    domain = store.domain
    tracker = DialogueStateTracker(sender, domain.slots)
    for times in sessions:
        start = times[0].timestamp() - 1
        tracker.update(ActionExecuted("action_session_start", timestamp=start))
        tracker.update(SessionStarted(timestamp=start))
        tracker.update(ActionExecuted("action_listen", timestamp=start))
        for at in times:
            tracker.update(UserUttered("緑町3丁目12-4です", timestamp=at.timestamp()))
            tracker.update(BotUttered("了解", timestamp=at.timestamp() + 0.5))
        asyncio.run(store.save(tracker))
    store.engine.dispose()


def _url(db: Path | str) -> str:
    return f"sqlite:///{db}" if isinstance(db, Path) else db


def _events(db: Path | str) -> dict[str, int]:
    from sqlalchemy import create_engine

    engine = create_engine(_url(db))
    with engine.connect() as conn:
        out = dict(
            conn.execute(text("SELECT sender_id, count(*) FROM events GROUP BY sender_id")).all()
        )
    engine.dispose()
    return out


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def tracker_db(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Rasa's tracker database: the SQLite file of the default, or PostgreSQL (scale-out)."""
    if request.param == "sqlite":
        return tmp_path / "tracker.db"
    return str(request.getfixturevalue("pg_url"))


def test_tracker_purge_removes_old_conversations_and_keeps_recent(tracker_db) -> None:
    from sqlalchemy.future import create_engine

    db = tracker_db
    day = timedelta(days=1)
    _save_conversation(db, "line:old", [[NOW - 45 * day, NOW - 44 * day]])
    _save_conversation(db, "line:recent", [[NOW - 2 * day, NOW - day]])
    # an old session, then one in use now: the old session goes, the current one stays whole
    _save_conversation(db, "line:both", [[NOW - 50 * day], [NOW - 31 * day, NOW - day]])
    before = _events(db)

    engine = create_engine(_url(db))
    result = purge_trackers(engine, NOW - 30 * day)
    engine.dispose()

    after = _events(db)
    assert "line:old" not in after
    assert after["line:recent"] == before["line:recent"]
    assert after["line:both"] == before["line:both"] - 5  # the first session's 5 events
    assert (result.conversations, result.events) == (1, before["line:old"] + 5)
    assert result.found and result.live_senders == {"line:recent", "line:both"}

    rasa_store = _rasa_store(db)
    tracker = asyncio.run(rasa_store.retrieve("line:both"))
    rasa_store.engine.dispose()
    assert tracker is not None
    assert [e.timestamp for e in tracker.events if e.type_name == "user"] == [
        (NOW - 31 * day).timestamp(),
        (NOW - day).timestamp(),
    ]


def test_tracker_purge_without_a_tracker_store_does_nothing(tmp_path: Path) -> None:
    from sqlalchemy.future import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    result = purge_trackers(engine, NOW)
    engine.dispose()
    assert not result.found and result.events == 0
