"""「データを削除」 with the real trained bot over REST (``bosai run``): the bot asks first, and
on yes the conversation (Rasa's tracker store), the evacuee registration and the raw REST id
are gone while the next message starts a new conversation."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from tests.test_conversation_flows import LOCATION, texts


def _count(url: str, sql: str, **params: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar() or 0)
    finally:
        engine.dispose()


def test_delete_my_data_after_confirmation(rasa_stack) -> None:
    sender = "privacy-flow-1"
    tracker_db = f"sqlite:///{rasa_stack.var_dir / 'tracker.db'}"
    reports_db = rasa_stack.env["DATABASE_URL"]
    rasa_id = rasa_stack.sender(sender)
    resident = rasa_id.split(":", 1)[1]
    # a registration first (the flow of test_evacuation_headcount_corrected_in_one_message)
    texts(rasa_stack.rest(sender, '/register_evacuation{"place_type": "home", "number": "2"}'))
    texts(rasa_stack.rest(sender, LOCATION))
    texts(rasa_stack.rest(sender, "/deny"))
    texts(rasa_stack.rest(sender, "水と毛布"))
    texts(rasa_stack.rest(sender, "/affirm"))
    registrations = "SELECT count(*) FROM evacuees WHERE resident = :r"
    assert _count(reports_db, registrations, r=resident) == 1
    events = "SELECT count(*) FROM events WHERE sender_id = :s"
    assert _count(tracker_db, events, s=rasa_id) > 0

    ask = texts(rasa_stack.rest(sender, "データを削除"))
    assert "削除しますか" in ask
    assert _count(reports_db, registrations, r=resident) == 1  # nothing deleted before yes
    done = texts(rasa_stack.rest(sender, "/affirm"))
    assert "削除しました" in done and "避難者登録（1件）" in done and "119" in done

    assert _count(reports_db, registrations, r=resident) == 0
    assert _count(tracker_db, events, s=rasa_id) == 0
    addresses = "SELECT count(*) FROM resident_addresses WHERE sender = :s"
    assert _count(reports_db, addresses, s=rasa_id) == 0
    # the resident can go on: a new conversation
    assert "防災チャットボット" in texts(rasa_stack.rest(sender, "こんにちは"))
    assert _count(tracker_db, events, s=rasa_id) > 0


def test_declined_deletion_keeps_everything(rasa_stack) -> None:
    sender = "privacy-flow-2"
    rasa_id = rasa_stack.sender(sender)
    tracker_db = f"sqlite:///{rasa_stack.var_dir / 'tracker.db'}"
    texts(rasa_stack.rest(sender, "こんにちは"))
    assert "削除しますか" in texts(rasa_stack.rest(sender, "私の情報を消してください"))
    kept = texts(rasa_stack.rest(sender, "/deny"))
    assert "何も削除していません" in kept and "119" in kept
    events = "SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'"
    assert _count(tracker_db, events, s=rasa_id) == 3
