"""「データを削除」 after the resident confirmed: the action deletes the registration and photos,
anonymises the reports in the real store, tells the resident what went and what stays, and asks
the tracker store to delete the conversation."""

from __future__ import annotations

from rasa_sdk.events import AllSlotsReset, SlotSet
from sqlalchemy import select

from actions.privacy import ActionDeleteMyData
from bot.store.models import Evacuee, Report
from bot.store.privacy import ERASED_TEXT
from tests.actions.conftest import make_tracker, responses, run
from tests.store.helpers import add_report

JPEG = b"\xff\xd8\xff\xe0" + b"x" * 64


def test_delete_my_data_deletes_and_anonymises(env, domain):
    store = env
    me = store.resident_id("telegram", "alice")
    someone = store.resident_id("telegram", "bob")
    for who in (me, someone):
        store.upsert_evacuee(
            who,
            "telegram",
            "home",
            2,
            {"medical": 1},
            [],
            True,
            lat=41.7687,
            lon=140.7288,
            place_text="緑町3丁目12-4",
        )
    photo = store.save_photo(JPEG, "image/jpeg")
    report = add_report(
        store, "building_damage", "緑町3丁目12-4の家が傾いた", (41.7687, 140.7288), "telegram",
        resident=me,
    )
    store.attach_photo(report.id, photo)
    plain = store.create_report(
        category="road_flooded", text="道路が冠水しています", channel="telegram", resident=me
    )
    in_form = store.save_photo(JPEG + b"form", "image/jpeg")

    tracker = make_tracker(
        {"photo_ref": in_form},
        text="/affirm",
        intent="affirm",
        sender_id="alice",
        channel="telegram",
    )
    events, messages = run(ActionDeleteMyData(), tracker, domain)

    assert events == [AllSlotsReset(), SlotSet("data_erase_requested", True)]
    assert responses(messages) == ["utter_my_data_deleted"]
    assert (messages[0]["registrations"], messages[0]["photos"], messages[0]["reports"]) == (
        1,
        2,
        2,
    )
    with store.session() as s:
        assert s.execute(select(Evacuee.resident)).scalars().all() == [someone]
        assert s.execute(select(Report).where(Report.resident == me)).scalars().all() == []
    kept = store.get_report(report.id)
    assert (kept.text, kept.place_text, kept.photo_refs, kept.category) == (
        ERASED_TEXT,
        None,
        [],
        "building_damage",
    )
    assert store.get_report(plain.id).text == "道路が冠水しています"
    assert not store.photo_path(photo).exists() and not store.photo_path(in_form).exists()


def test_nothing_stored_is_still_answered(env, domain):
    events, messages = run(ActionDeleteMyData(), make_tracker(sender_id="nobody"), domain)
    assert events == [AllSlotsReset(), SlotSet("data_erase_requested", True)]
    assert responses(messages) == ["utter_my_data_deleted"]
    assert (messages[0]["registrations"], messages[0]["photos"], messages[0]["reports"]) == (
        0,
        0,
        0,
    )


def test_a_failed_erasure_deletes_nothing_and_says_so(env, domain):
    store = env
    me = store.resident_id("rest", "carol")
    store.upsert_evacuee(me, "rest", "car", 1, {}, [], True)
    with store.engine.begin() as conn:  # the store cannot write: the erasure fails whole
        conn.exec_driver_sql(
            "CREATE TRIGGER no_delete BEFORE DELETE ON evacuees BEGIN SELECT RAISE(ABORT, 'x'); END"
        )
    events, messages = run(ActionDeleteMyData(), make_tracker(sender_id="carol"), domain)
    assert events == []
    assert responses(messages) == ["utter_delete_my_data_failed"]
    with store.session() as s:
        assert s.execute(select(Evacuee.resident)).scalars().all() == [me]
