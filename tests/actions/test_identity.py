"""The actions store the pseudonym the channel derived (bot/identity.py), once, and a sender id
never crosses channels."""

from __future__ import annotations

from actions.evacuation import ActionSubmitEvacuation
from actions.intake import ActionKeepMessage
from bot.store.models import Evacuee
from tests.actions.conftest import make_tracker, run

SLOTS = {"place_type": "home", "headcount": 2, "vulnerable": {}, "needs": [], "consent": True,
         "latitude": 41.77, "longitude": 140.73, "location": "現在地", "location_source": "gps",
         "location_confirm": True}  # fmt: skip
LINE_USER = "U" + "c" * 32


def registrations(store) -> dict[str, tuple[str, int]]:
    with store.session() as s:
        return {e.resident: (e.channel, e.headcount) for e in s.query(Evacuee).all()}


def test_registration_and_inbox_keep_the_channels_pseudonym(env, domain):
    sender = env.sender_id("line", LINE_USER)  # what the LINE connector gives Rasa
    resident = env.resident_id("line", LINE_USER)  # the pseudonym the store always kept
    assert sender == f"line:{resident}"
    run(ActionSubmitEvacuation(), make_tracker(SLOTS, sender_id=sender, channel="line"), domain)
    assert registrations(env) == {resident: ("line", 2)}
    tracker = make_tracker(text="水が足りない、誰か来て", intent="nlu_fallback", sender_id=sender,
                           channel="line")  # fmt: skip
    run(ActionKeepMessage(), tracker, domain)
    (row,) = env.list_inbox(handled=None, limit=10).items
    assert row.resident == resident and row.channel == "line"


def test_a_sender_id_does_not_cross_channels(env, domain):
    """The LINE sender id arriving with another input channel is another resident."""
    line_sender = env.sender_id("line", LINE_USER)
    run(
        ActionSubmitEvacuation(), make_tracker(SLOTS, sender_id=line_sender, channel="line"), domain
    )
    for channel in ("rest", "socketio", "telegram"):
        tracker = make_tracker(dict(SLOTS, headcount=9), sender_id=line_sender, channel=channel)
        run(ActionSubmitEvacuation(), tracker, domain)
    rows = registrations(env)
    assert rows[env.resident_id("line", LINE_USER)] == ("line", 2)
    assert len(rows) == 4
    # the same raw id on LINE and Telegram: two residents
    assert env.sender_id("line", "12345") != env.sender_id("telegram", "12345")
    assert env.resident_id("line", "12345") != env.resident_id("telegram", "12345")
