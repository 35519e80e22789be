"""Behaviour of the report store (runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select, text

from bot.store import InvalidInput, InvalidTransition, NotFound, ReportQuery, Store
from bot.store.migrate import current
from bot.store.models import Official, ReportStatusChange
from tests.store.helpers import add_report

T0 = datetime(2025, 11, 26, 0, 0, tzinfo=timezone.utc)


def test_upgrade_is_idempotent_and_creates_schema(store: Store) -> None:
    from alembic.script import ScriptDirectory

    from bot.store.migrate import alembic_config

    store.upgrade()
    head = ScriptDirectory.from_config(alembic_config(store.engine)).get_current_head()
    assert head is not None and head >= "0004"
    assert current(store.engine) == head
    tables = set(inspect(store.engine).get_table_names())
    assert {
        "notices",
        "inbound_messages",
        "reports",
        "report_photos",
        "report_status_log",
        "evacuees",
        "shelter_status",
        "officials",
    } <= tables


def test_record_inbound_detects_redelivery(store: Store) -> None:
    sender = store.resident_id("line", "U123")
    assert store.record_inbound("line", "m-1", sender) is True
    assert store.record_inbound("line", "m-1", sender) is False
    assert store.record_inbound("telegram", "m-1", sender) is True  # other channel, same id
    assert store.record_inbound("line", "m-2", sender) is True


def test_resident_id_is_keyed_hash(store: Store, tmp_path) -> None:
    a = store.resident_id("line", "U123")
    assert a == store.resident_id("line", "U123")
    assert len(a) == 64 and "U123" not in a
    assert a != store.resident_id("telegram", "U123")
    other = Store(store.url, photo_dir=tmp_path, secret=b"another-secret")
    assert other.resident_id("line", "U123") != a
    other.dispose()


def test_create_report_commits_and_round_trips(store: Store) -> None:
    r = store.create_report(
        category="road_flooded",
        text="道路が冠水しています",
        lat=43.06,
        lon=141.35,
        place_text="北1条西2丁目",
        accuracy_m=15,
        headcount=3,
        needs=["water"],
        urgency="high",
        shelter_id="E0110001234111",
        channel="line",
        resident=store.resident_id("line", "U1"),
        reported_at=T0,
    )
    assert r.id is not None and r.status == "new"
    got = store.get_report(r.id)
    assert got.text == "道路が冠水しています" and got.reported_at == T0
    assert got.needs == ["water"] and got.urgency == "high" and got.headcount == 3
    assert got.received_at.tzinfo is not None
    history = store.report_history(r.id)
    assert [(h.old_status, h.new_status, h.by) for h in history] == [(None, "new", "channel:line")]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"category": "tornado"}, "category"),
        ({"category": "fire", "lat": 43.0}, "together"),
        ({"category": "fire", "lat": 91.0, "lon": 0.0}, "lat"),
        ({"category": "fire", "lat": float("nan"), "lon": 0.0}, "lat"),
        ({"category": "fire", "headcount": -1}, "headcount"),
        ({"category": "fire", "urgency": "meh"}, "urgency"),
        ({"category": "fire", "text": "x" * 4001}, "text"),
        ({"category": "fire", "needs": "water"}, "needs"),
        ({"category": "fire", "photos": ["../../etc/passwd"]}, "photo"),
        ({"category": "fire", "reported_at": datetime(2025, 1, 1)}, "timezone"),
    ],
)
def test_create_report_rejects_bad_fields(store: Store, fields, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        store.create_report(channel="line", **fields)
    assert store.count_reports() == 0


def test_change_status_moves_and_audits(store: Store) -> None:
    r = store.create_report(category="fire", channel="line")
    store.change_status(r.id, "confirmed", by="yamada", note="電話で確認")
    store.change_status(r.id, "in_progress", by="sato")
    updated = store.change_status(r.id, "resolved", by="sato", note="鎮火")
    assert updated.status == "resolved" and store.get_report(r.id).status == "resolved"
    log = [(h.old_status, h.new_status, h.by, h.note) for h in store.report_history(r.id)]
    assert log == [
        (None, "new", "channel:line", None),
        ("new", "confirmed", "yamada", "電話で確認"),
        ("confirmed", "in_progress", "sato", None),
        ("in_progress", "resolved", "sato", "鎮火"),
    ]


def test_change_status_rejects_bad_moves_without_writing(store: Store) -> None:
    r = store.create_report(category="fire", channel="line")
    other = store.create_report(category="fire", channel="line")
    with pytest.raises(InvalidTransition, match="from new to new"):
        store.change_status(r.id, "new", by="x")
    with pytest.raises(InvalidInput, match="status must be one of"):
        store.change_status(r.id, "closed", by="x")
    with pytest.raises(InvalidInput, match="duplicate_of is required"):
        store.change_status(r.id, "duplicate", by="x")
    with pytest.raises(InvalidInput, match="itself"):
        store.change_status(r.id, "duplicate", by="x", duplicate_of=r.id)
    with pytest.raises(InvalidInput, match="not found"):
        store.change_status(r.id, "duplicate", by="x", duplicate_of=999_999)
    with pytest.raises(NotFound):
        store.change_status(999_999, "confirmed", by="x")
    assert store.get_report(r.id).status == "new"
    assert len(store.report_history(r.id)) == 1
    dup = store.change_status(r.id, "duplicate", by="x", duplicate_of=other.id)
    assert dup.duplicate_of == other.id
    with pytest.raises(InvalidTransition):
        store.change_status(r.id, "resolved", by="x")  # closed: only reopening is allowed
    assert store.change_status(r.id, "new", by="x").duplicate_of is None


def test_status_is_only_moved_through_change_status(store: Store) -> None:
    r = store.create_report(category="fire", channel="line")
    store.change_status(r.id, "rejected", by="x")
    with store.session() as s:
        rows = (
            s.execute(select(ReportStatusChange).where(ReportStatusChange.report_id == r.id))
            .scalars()
            .all()
        )
    assert [row.new_status for row in rows] == ["new", "rejected"]


def _seed(store: Store) -> dict[str, int]:
    ids = {}
    ids["sapporo_flood"] = add_report(
        store, "road_flooded", "冠水 100% 通行止め", (43.06, 141.35), "line", T0,
    ).id
    ids["sapporo_fire"] = add_report(
        store, "fire", "Smoke near station", (43.07, 141.36), "telegram", T0 + timedelta(hours=1),
    ).id
    ids["hakodate_slide"] = add_report(
        store, "landslide", "崖が崩れた", (41.77, 140.73), "line", T0 + timedelta(hours=2),
        place_text="函館山",
    ).id
    ids["nowhere"] = store.create_report(
        category="other", text="場所不明", channel="staff", reported_at=T0 + timedelta(hours=3)
    ).id
    return ids


def _ids(store: Store, **kw) -> list[int]:
    return [r.id for r in store.list_reports(ReportQuery(**kw)).reports]


def test_list_reports_filters(store: Store) -> None:
    ids = _seed(store)
    assert _ids(store) == [
        ids["nowhere"],
        ids["hakodate_slide"],
        ids["sapporo_fire"],
        ids["sapporo_flood"],
    ]
    assert _ids(store, since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3)) == [
        ids["hakodate_slide"],
        ids["sapporo_fire"],
    ]
    assert _ids(store, categories=["fire", "landslide"]) == [
        ids["hakodate_slide"],
        ids["sapporo_fire"],
    ]
    assert _ids(store, bbox=(141.0, 42.9, 141.5, 43.2)) == [
        ids["sapporo_fire"],
        ids["sapporo_flood"],
    ]
    assert _ids(store, q="smoke") == [ids["sapporo_fire"]]  # case-insensitive
    assert _ids(store, q="函館") == [ids["hakodate_slide"]]  # place text too
    assert _ids(store, q="100%") == [ids["sapporo_flood"]]
    assert _ids(store, q="%") == [ids["sapporo_flood"]]  # % is literal, not a wildcard
    store.change_status(ids["sapporo_fire"], "confirmed", by="x")
    assert _ids(store, statuses=["confirmed"]) == [ids["sapporo_fire"]]


def test_list_reports_cursor_pages_without_gaps(store: Store) -> None:
    created = [
        store.create_report(
            category="fire", channel="line", reported_at=T0 + timedelta(minutes=i // 3)
        ).id
        for i in range(10)
    ]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = store.list_reports(ReportQuery(limit=3, cursor=cursor))
        seen += [r.id for r in page.reports]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 4
    assert sorted(seen) == sorted(created) and len(seen) == len(set(seen))
    with pytest.raises(InvalidInput, match="cursor"):
        store.list_reports(ReportQuery(cursor="not-a-cursor"))


def test_photos_saved_under_var_and_attached(store: Store) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    ref = store.save_photo(png, "image/png")
    assert ref.endswith(".png") and store.photo_path(ref).read_bytes() == png
    assert store.photo_path(ref).is_relative_to(store.photo_dir)
    assert store.save_photo(png, "image/png") == ref  # content-addressed
    r = store.create_report(category="building_damage", channel="line", photos=[ref])
    assert store.get_report(r.id).photo_refs == [ref]
    ref2 = store.save_photo(b"\xff\xd8\xff" + b"1" * 10, "image/jpeg; charset=binary")
    store.attach_photo(r.id, ref2)
    assert store.get_report(r.id).photo_refs == [ref, ref2]
    with pytest.raises(InvalidInput, match="content type"):
        store.save_photo(b"<svg/>", "image/svg+xml")
    with pytest.raises(InvalidInput):
        store.photo_path("../../secret.png")
    with pytest.raises(NotFound):
        store.attach_photo(999_999, ref)


def test_upsert_evacuee_updates_one_registration(store: Store) -> None:
    resident = store.resident_id("line", "U-family")
    first = store.upsert_evacuee(
        resident, "line", "car", 4, {"elderly": 1}, ["water"], True, lat=43.06, lon=141.35
    )
    second = store.upsert_evacuee(
        resident,
        "line",
        "relatives",
        3,
        {"infants": 1, "medical": 1},
        ["baby_formula"],
        False,
        place_text="叔母の家",
    )
    assert second.id == first.id
    other = store.upsert_evacuee(
        store.resident_id("line", "U-other"),
        "line",
        "home",
        2,
        None,
        [],
        True,
        lat=43.061,
        lon=141.351,
    )
    assert other.id != first.id
    summary = store.evacuee_summary(cell_deg=0.01)
    assert summary["total"] == {
        "registrations": 2,
        "people": 5,
        "households_needing_help": 1,
        "households_with_medical_needs": 1,
    }
    assert summary["by_place_type"]["relatives"] == {"registrations": 1, "people": 3}
    assert summary["by_place_type"]["car"] == {"registrations": 0, "people": 0}
    assert (
        summary["vulnerable_people"]["infants"] == 1
        and summary["vulnerable_people"]["elderly"] == 0
    )
    # the one registration with a location is alone in its cell: no cell may single it out
    # (fewer than 3 households; tests/store/test_evacuee_grid.py)
    assert summary["cells"] == []
    with pytest.raises(InvalidInput, match="place_type"):
        store.upsert_evacuee(resident, "line", "tent", 1, None, [], True)
    with pytest.raises(InvalidInput, match="vulnerable"):
        store.upsert_evacuee(resident, "line", "home", 1, {"pets": 2}, [], True)


def test_upsert_evacuee_concurrent_first_registration(store: Store) -> None:
    resident = store.resident_id("line", "U-race")
    errors: list[BaseException] = []

    def register(n: int) -> None:
        try:
            store.upsert_evacuee(resident, "line", "home", n, None, [], True)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(n,)) for n in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.evacuee_summary()["total"]["registrations"] == 1


def test_shelter_status_latest(store: Store) -> None:
    store.set_shelter_status("E0110001234111", "open", "vacant", [], by="yamada")
    store.set_shelter_status("E0110001234111", "open", "crowded", ["water", "blankets"], by="sato")
    store.set_shelter_status("E0120250000111", "closed", None, [], by="sato")
    latest = store.latest_shelter_status(["E0110001234111", "E0120250000111", "E0999999999111"])
    assert set(latest) == {"E0110001234111", "E0120250000111"}
    assert latest["E0110001234111"].congestion == "crowded"
    assert latest["E0110001234111"].shortages == ["water", "blankets"]
    assert latest["E0120250000111"].congestion == "closed"  # closed implies congestion closed
    assert set(store.latest_shelter_status()) == {"E0110001234111", "E0120250000111"}
    with pytest.raises(InvalidInput, match="congestion"):
        store.set_shelter_status("E0110001234111", "open", "packed", [], by="x")
    with pytest.raises(InvalidInput, match="shortage"):
        store.set_shelter_status("E0110001234111", "open", None, ["gold"], by="x")


def test_officials_tokens_hashed_and_revocable(store: Store) -> None:
    official, token = store.add_official("山田 太郎", "operator")
    assert token.startswith("bosai_") and len(token) > 40
    with store.session() as s:
        stored = s.execute(select(Official.token_hash)).scalar_one()
    assert stored != token and token not in stored and len(stored) == 64
    assert store.authenticate(token).name == "山田 太郎"
    assert store.authenticate(token + "x") is None
    with pytest.raises(InvalidInput, match="already exists"):
        store.add_official("山田 太郎", "viewer")
    with pytest.raises(InvalidInput, match="role"):
        store.add_official("someone", "superuser")
    assert store.revoke_official("山田 太郎") is True
    assert store.authenticate(token) is None
    assert store.revoke_official("山田 太郎") is False
    assert [o.revoked_at is not None for o in store.list_officials()] == [True]


def test_sqlite_pragmas(tmp_path) -> None:
    s = Store(f"sqlite:///{tmp_path / 'sub' / 'x.db'}", photo_dir=tmp_path, secret=b"k")
    s.upgrade()
    with s.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    s.dispose()
