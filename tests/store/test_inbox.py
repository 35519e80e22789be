"""The officials' inbox in the store: messages the bot could not act on (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import inspect, select

from bot.store import InvalidInput, InvalidTransition, NotFound, ReportQuery, Store
from bot.store.migrate import alembic_config, current
from bot.store.models import InboxMessage, Report, ReportStatusChange

T0 = datetime(2025, 11, 29, 3, 0, tzinfo=timezone.utc)


def add(store: Store, text: str = "わからないことがあります", **kw) -> InboxMessage:
    fields = {"channel": "line", "user_id": "U-resident-1", "reason": "fallback"} | kw
    return store.add_inbox_message(text=text, **fields)


def history(store: Store, message_id: int) -> list[tuple]:
    return [(h.action, h.by, h.note, h.report_id) for h in store.message_history(message_id)]


def test_message_is_kept_with_a_pseudonym_and_its_arrival_logged(store: Store) -> None:
    m = add(
        store,
        "実家の母と連絡がとれない、〇〇町3丁目",
        reason="out_of_scope",
        intent="out_of_scope",
        confidence=0.41,
        place_text="〇〇町3丁目",
        channel_message_id="m-100",
        received_at=T0,
    )
    got = store.get_inbox_message(m.id)
    assert got.text == "実家の母と連絡がとれない、〇〇町3丁目"
    assert got.resident == store.resident_id("line", "U-resident-1")
    assert "U-resident-1" not in got.resident
    assert (got.reason, got.intent, got.confidence) == ("out_of_scope", "out_of_scope", 0.41)
    assert got.place_text == "〇〇町3丁目" and got.has_place and not got.danger
    assert got.received_at == T0 and got.handled is False and got.report_id is None
    assert history(store, m.id) == [("received", "channel:line", None, None)]
    shown = got.to_dict()
    assert "resident" not in shown and store.resident_id("line", "U-resident-1") not in str(shown)
    assert shown["received_at"] == "2025-11-29T03:00:00+00:00"


def test_long_text_is_cut_not_refused_and_danger_terms_mark_danger(store: Store) -> None:
    m = add(
        store, "水" * 2500, danger_terms=["腰まで水", "腰まで水", "助けて"], place_text="x" * 600
    )
    got = store.get_inbox_message(m.id)
    assert len(got.text) == 2000 and len(got.place_text) == 500
    assert got.danger is True and got.danger_terms == ["腰まで水", "助けて"]
    located = add(store, "ここです", lat=43.06, lon=141.35)
    assert store.get_inbox_message(located.id).has_place is True
    assert store.get_inbox_message(add(store, "?").id).has_place is False


def test_redelivery_returns_the_stored_row(store: Store) -> None:
    first = add(store, "一回目", channel_message_id="m-1")
    again = add(store, "一回目", channel_message_id="m-1")
    assert again.id == first.id
    other_channel = add(store, "一回目", channel="telegram", channel_message_id="m-1")
    assert other_channel.id != first.id
    no_id_a, no_id_b = add(store, "id なし"), add(store, "id なし")
    assert no_id_a.id != no_id_b.id  # without a message id nothing is de-duplicated
    assert store.count_inbox() == 4
    assert len(store.message_history(first.id)) == 1


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"channel": "LINE!"}, "channel"),
        ({"user_id": ""}, "user_id"),
        ({"text": "   "}, "text is required"),
        ({"text": None}, "text is required"),
        ({"text": 12}, "text must be a string"),
        ({"reason": "bored"}, "reason"),
        ({"lat": 43.0}, "together"),
        ({"lat": 95.0, "lon": 141.0}, "lat"),
        ({"confidence": 1.5}, "confidence"),
        ({"danger": "yes"}, "danger"),
        ({"danger_terms": "助けて"}, "danger_terms"),
        ({"channel_message_id": "x" * 256}, "channel_message_id"),
        ({"received_at": datetime(2025, 11, 29)}, "timezone"),
    ],
)
def test_bad_input_is_a_value_error_and_stores_nothing(store: Store, fields, fragment) -> None:
    base = {"channel": "line", "user_id": "U1", "text": "こんにちは", "reason": "fallback"}
    with pytest.raises(InvalidInput, match=fragment) as info:
        store.add_inbox_message(**(base | fields))
    assert isinstance(info.value, ValueError)
    assert store.count_inbox(None) == 0


def test_inbox_order_danger_then_place_then_newest(store: Store) -> None:
    plain_old = add(store, "古い普通", received_at=T0)
    plain_new = add(store, "新しい普通", received_at=T0 + timedelta(minutes=30))
    place_old = add(store, "場所あり", place_text="〇〇橋", received_at=T0 + timedelta(minutes=5))
    danger_old = add(store, "危険", danger_terms=["流された"], received_at=T0)
    danger_place = add(
        store, "危険+場所", danger=True, lat=43.0, lon=141.0, received_at=T0 - timedelta(hours=1)
    )
    ids = [m.id for m in store.list_inbox().items]
    assert ids == [danger_place.id, danger_old.id, place_old.id, plain_new.id, plain_old.id]
    assert [m.id for m in store.list_inbox(since=T0 + timedelta(minutes=1)).items] == [
        place_old.id,
        plain_new.id,
    ]
    store.set_message_handled(place_old.id, handled=True, by="yamada")
    assert place_old.id not in [m.id for m in store.list_inbox().items]
    assert [m.id for m in store.list_inbox(handled=True).items] == [place_old.id]
    assert len(store.list_inbox(handled=None).items) == 5
    assert store.count_inbox() == 4 and store.count_inbox(True) == 1


def test_inbox_cursor_pages_without_gaps_or_repeats(store: Store) -> None:
    created = []
    for i in range(11):  # ties on every key but the id
        created.append(
            add(
                store,
                f"m{i}",
                danger=i % 3 == 0,
                place_text="〇〇" if i % 2 else None,
                received_at=T0 + timedelta(minutes=i // 4),
            ).id
        )
    everything = [m.id for m in store.list_inbox(limit=200).items]
    seen: list[int] = []
    cursor, pages = None, 0
    while True:
        page = store.list_inbox(limit=3, cursor=cursor)
        seen += [m.id for m in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 4 and seen == everything and sorted(seen) == sorted(created)
    with pytest.raises(InvalidInput, match="cursor"):
        store.list_inbox(cursor="bm90LWEtY3Vyc29y")
    with pytest.raises(InvalidInput, match="limit"):
        store.list_inbox(limit=201)


def test_set_message_handled_is_audited_and_idempotent(store: Store) -> None:
    m = add(store, "電話がつながらない")
    done = store.set_message_handled(m.id, handled=True, by="sato", note="電話で回答")
    assert done.handled is True and done.handled_by == "sato" and done.handled_note == "電話で回答"
    assert done.handled_at is not None
    again = store.set_message_handled(m.id, handled=True, by="suzuki")
    assert again.handled_by == "sato"  # nothing changed, nothing logged
    reopened = store.set_message_handled(m.id, handled=False, by="suzuki", note="再確認")
    assert reopened.handled is False and reopened.handled_by is None
    got = store.get_inbox_message(m.id)
    assert got.handled is False and got.handled_at is None
    assert history(store, m.id) == [
        ("received", "channel:line", None, None),
        ("handled", "sato", "電話で回答", None),
        ("reopened", "suzuki", "再確認", None),
    ]
    with pytest.raises(NotFound):
        store.set_message_handled(999_999, handled=True, by="sato")
    with pytest.raises(InvalidInput, match="by"):
        store.set_message_handled(m.id, handled=True, by="")
    with pytest.raises(InvalidInput, match="handled"):
        store.set_message_handled(m.id, handled="yes", by="sato")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="note"):
        store.set_message_handled(m.id, handled=True, by="sato", note="x" * 2001)
    assert len(store.message_history(m.id)) == 3


def test_report_from_message_in_one_step(store: Store) -> None:
    m = add(
        store,
        "足が悪くて避難所まで行けません",
        channel="telegram",
        user_id="T-42",
        place_text="〇〇町2丁目",
        received_at=T0,
    )
    report = store.report_from_message(
        m.id, category="needs_assistance", lat=43.05, lon=141.34, by="yamada"
    )
    got = store.get_report(report.id)
    assert (got.category, got.status, got.urgency) == ("needs_assistance", "new", "high")
    assert got.text == "足が悪くて避難所まで行けません"
    assert (got.lat, got.lon, got.place_text) == (43.05, 141.34, "〇〇町2丁目")
    assert got.channel == "telegram" and got.resident == store.resident_id("telegram", "T-42")
    assert got.reported_at == T0  # when the resident wrote, not when it was converted
    assert [
        (h.old_status, h.new_status, h.by, h.note) for h in store.report_history(report.id)
    ] == [(None, "new", "yamada", f"受信メッセージ #{m.id} から作成")]
    msg = store.get_inbox_message(m.id)
    assert msg.handled is True and msg.report_id == report.id and msg.handled_by == "yamada"
    assert history(store, m.id)[-1] == ("reported", "yamada", None, report.id)
    assert store.count_inbox() == 0
    # never a second report for the same message
    with pytest.raises(InvalidTransition, match=f"already report {report.id}"):
        store.report_from_message(m.id, category="other", by="sato")
    assert store.count_reports() == 1 and len(store.message_history(m.id)) == 2
    assert [
        r.id for r in store.list_reports(ReportQuery(categories=["needs_assistance"])).reports
    ] == [report.id]


def test_report_from_message_takes_the_message_place_and_can_override_it(store: Store) -> None:
    located = add(store, "ここにいます", lat=42.0, lon=140.0, place_text="駅前")
    r1 = store.report_from_message(located.id, category="missing_contact", urgency="normal", by="x")
    assert (r1.lat, r1.lon, r1.place_text, r1.urgency) == (42.0, 140.0, "駅前", "normal")
    other = add(store, "ここにいます", lat=42.0, lon=140.0)
    r2 = store.report_from_message(other.id, category="other", place_text="  公民館  ", by="x")
    assert (r2.lat, r2.lon, r2.place_text) == (42.0, 140.0, "公民館")
    bare = add(store, "?")
    r3 = store.report_from_message(bare.id, category="other", by="x")
    assert (r3.lat, r3.lon, r3.place_text) == (None, None, None)


@pytest.mark.parametrize(
    "fields, error, fragment",
    [
        ({"category": "tornado"}, InvalidInput, "category"),
        ({"category": "other", "urgency": "asap"}, InvalidInput, "urgency"),
        ({"category": "other", "lat": 43.0}, InvalidInput, "together"),
        ({"category": "other", "lat": 43.0, "lon": 200.0}, InvalidInput, "lon"),
        ({"category": "other", "by": ""}, InvalidInput, "by"),
        ({"category": "other", "place_text": "x" * 501}, InvalidInput, "place_text"),
    ],
)
def test_report_from_message_bad_input_changes_nothing(
    store: Store, fields, error, fragment
) -> None:
    m = add(store, "助けて", lat=43.0, lon=141.0)
    with pytest.raises(error, match=fragment):
        store.report_from_message(m.id, **({"by": "yamada"} | fields))
    assert store.count_reports() == 0
    got = store.get_inbox_message(m.id)
    assert got.handled is False and got.report_id is None and got.handled_by is None
    assert len(store.message_history(m.id)) == 1
    with store.session() as s:
        assert s.execute(select(ReportStatusChange)).first() is None
    with pytest.raises(NotFound):
        store.report_from_message(999_999, category="other", by="yamada")


def test_concurrent_conversions_make_one_report(store: Store) -> None:
    m = add(store, "屋根の上に2人")
    outcomes: list[object] = []

    def convert() -> None:
        try:
            outcomes.append(store.report_from_message(m.id, category="injured_person", by="x").id)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            outcomes.append(exc)

    threads = [threading.Thread(target=convert) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [o for o in outcomes if isinstance(o, int)]
    errors = [o for o in outcomes if not isinstance(o, int)]
    assert len(ids) == 1 and all(isinstance(e, InvalidTransition) for e in errors), outcomes
    assert store.count_reports() == 1 and store.get_inbox_message(m.id).report_id == ids[0]


def test_deleting_the_report_keeps_the_message(store: Store) -> None:
    m = add(store, "崖から石が落ちてくる")
    report = store.report_from_message(m.id, category="landslide", by="x")
    with store.session() as s:
        s.delete(s.get(Report, report.id))
        s.commit()
    got = store.get_inbox_message(m.id)
    assert got.report_id is None and got.handled is True


def test_new_report_categories_are_accepted(store: Store) -> None:
    a = store.create_report(category="needs_assistance", text="寝たきりの祖父", channel="line")
    b = store.create_report(category="missing_contact", text="祖母と連絡が取れない", channel="line")
    assert [
        r.id for r in store.list_reports(ReportQuery(categories=["missing_contact"])).reports
    ] == [b.id]
    assert store.get_report(a.id).category == "needs_assistance"


def test_migration_0003_upgrades_a_0002_database_and_downgrades(store: Store) -> None:
    cfg = alembic_config(store.engine)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    assert current(store.engine) == "0002"
    assert not {"inbox_messages", "inbox_message_log"} & set(
        inspect(store.engine).get_table_names()
    )
    report = store.create_report(category="fire", channel="line")
    store.upgrade("0003")  # later migrations (0004 ...) are tested on their own
    assert current(store.engine) == "0003"
    assert store.get_report(report.id).category == "fire"  # data kept
    for model in (InboxMessage,):
        cols = {c["name"] for c in inspect(store.engine).get_columns(model.__tablename__)}
        assert cols == {c.name for c in model.__table__.columns}
    indexes = {i["name"] for i in inspect(store.engine).get_indexes("inbox_messages")}
    assert {"ix_inbox_queue", "ix_inbox_received_at"} <= indexes
    m = add(store, "移行後", channel_message_id="after-upgrade")
    assert add(store, "移行後", channel_message_id="after-upgrade").id == m.id
