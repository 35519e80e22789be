"""Storing a report is idempotent on the channel's message that created it (migration 0008): a
turn run again after a crash, or retried by the durable intake, stores the report once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from alembic import command
from sqlalchemy import inspect

from bot.store import ReportQuery, Store
from bot.store.migrate import alembic_config, current


def report(store: Store, source: str | None, channel: str = "line", text: str = "道路が冠水"):  # noqa: ANN201
    return store.create_report(
        category="road_flooded", text=text, lat=41.77, lon=140.73, channel=channel,
        urgency="high", photos=[], source_message=source,
    )  # fmt: skip


def test_the_same_message_stores_one_report(store: Store) -> None:
    first = report(store, "EV-CONFIRM-1")
    again = report(store, "EV-CONFIRM-1", text="二度目の実行")
    assert again.id == first.id and again.text == "道路が冠水"  # the stored one, unchanged
    assert store.count_reports() == 1
    assert [c.new_status for c in store.report_history(first.id)] == ["new"]  # one audit row


def test_other_messages_channels_and_reports_without_a_message_are_all_stored(
    store: Store,
) -> None:
    a = report(store, "EV-1")
    b = report(store, "EV-2")
    c = report(store, "EV-1", channel="telegram")  # another channel's ids are another space
    d, e = report(store, None), report(store, None)  # officials, or no id: never merged
    assert len({a.id, b.id, c.id, d.id, e.id}) == 5
    assert store.count_reports() == 5


def test_the_same_message_at_once_from_two_threads_stores_one_report(store: Store) -> None:
    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(lambda _: report(store, "EV-RACE").id, range(8)))
    assert len(set(ids)) == 1
    assert [r.id for r in store.list_reports(ReportQuery()).reports] == ids[:1]


def test_migration_0008_downgrades_and_upgrades_keeping_reports(store: Store) -> None:
    first = report(store, "EV-KEEP")
    cfg = alembic_config(store.engine)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    assert current(store.engine) == "0007"
    assert "report_sources" not in inspect(store.engine).get_table_names()
    store.upgrade("0008")
    assert current(store.engine) == "0008"
    assert store.get_report(first.id).text == "道路が冠水"  # data kept
    second = report(store, "EV-KEEP")  # the link went with the downgrade: a new report
    assert second.id != first.id
    assert report(store, "EV-KEEP").id == second.id  # and idempotent again
