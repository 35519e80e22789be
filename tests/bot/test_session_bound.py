"""A long session restarts only at a safe point, and a long conversation gets the same answers
from the trained bot with and without the restarts (Rasa's own behaviour as reference)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.actions.action import ActionSessionStart
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker

from bot import session_bound

REPO = Path(__file__).resolve().parents[2]
PROMPTS = frozenset({"utter_offer_urgent_report"})


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_prompts_are_actions_a_flow_follows_with_the_residents_answer(tmp_path: Path) -> None:
    write(tmp_path / "rules" / "a.yml", """
rules:
  - rule: offer
    steps:
      - action: utter_offer_urgent_report
      - intent: affirm
      - action: action_prepare_urgent_report
  - rule: greet
    steps:
      - intent: greet
      - action: utter_greet
  - rule: form submit
    condition:
      - active_loop: some_form
    steps:
      - action: some_form
      - active_loop: null
      - slot_was_set:
          - requested_slot: null
      - action: action_submit
""")
    write(tmp_path / "stories" / "s.yml", """
stories:
  - story: chain
    steps:
      - intent: find_shelter
      - action: action_find_shelter
      - intent: thank
      - action: utter_thank
""")
    dirs = [tmp_path / "rules", tmp_path / "stories"]
    assert session_bound.read_prompts(dirs) == {"utter_offer_urgent_report", "action_find_shelter"}
    write(tmp_path / "rules" / "b.yml", """
rules:
  - rule: welcome
    conversation_start: true
    steps:
      - intent: greet
      - action: utter_greet
""")
    assert session_bound.read_prompts(dirs) is None  # a new session would welcome again
    assert session_bound.read_prompts([tmp_path / "nothing"]) is None


def test_the_projects_data_gives_prompts() -> None:
    found = session_bound.read_prompts([REPO / "data" / "rules", REPO / "data" / "stories"])
    assert found is not None
    assert {"utter_offer_urgent_report", "utter_ask_delete_my_data"} <= found
    assert "utter_thank" not in found


def tracker_with(turns: int, last_action: str = "utter_thank", extra: list[Any] | None = None
                 ) -> DialogueStateTracker:
    slot = TextSlot("requested_slot", mappings=[{"type": "custom"}], influence_conversation=False)
    tracker = DialogueStateTracker("r", slots=[slot])
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    for i in range(turns):
        tracker.update(UserUttered(f"m{i}", {"name": "thank", "confidence": 1.0}))
        tracker.update(ActionExecuted(last_action if i == turns - 1 else "utter_thank"))
        tracker.update(BotUttered("…"))
        for event in (extra or []) if i == turns - 1 else []:
            tracker.update(event)
        tracker.update(ActionExecuted("action_listen"))
    return tracker


def test_may_restart_only_at_a_safe_point() -> None:
    may = session_bound.may_restart
    assert not may(tracker_with(4), PROMPTS, 5)
    assert may(tracker_with(5), PROMPTS, 5)
    assert not may(tracker_with(5), None, 5)  # conversation_start rules: never
    assert not may(tracker_with(5, last_action="utter_offer_urgent_report"), PROMPTS, 5)
    assert not may(tracker_with(5, extra=[ActiveLoop("report_damage_form")]), PROMPTS, 5)
    asking = tracker_with(5, extra=[SlotSet("requested_slot", "location")])
    assert not may(asking, PROMPTS, 5)
    photo = tracker_with(5)
    photo.update(UserUttered("photo", {"name": "inform"}, [{"entity": "photo_ref", "value": "x"}]))
    photo.update(ActionExecuted("utter_thank"))
    photo.update(ActionExecuted("action_listen"))
    assert not may(photo, PROMPTS, 5)
    in_progress = tracker_with(5)
    in_progress.update(UserUttered("m", {"name": "thank"}))
    assert not may(in_progress, PROMPTS, 5)
    # counted from the latest session start only
    again = tracker_with(5)
    again.update(ActionExecuted("action_session_start"))
    again.update(SessionStarted())
    again.update(ActionExecuted("action_listen"))
    assert not may(again, PROMPTS, 5)


def test_short_sessions_expire_as_rasa_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.shared.core.domain import Domain

    class Processor:
        domain = Domain.load(str(REPO / "bot" / "domain"))

    monkeypatch.setattr(session_bound, "prompts", lambda: PROMPTS)
    fresh = tracker_with(3)
    assert session_bound.has_session_expired(Processor(), fresh) is False
    assert session_bound.ORIGINAL(Processor(), fresh) is False
    old = tracker_with(3)
    for event in old.events:
        event.timestamp = time.time() - 3 * 3600  # past session_expiration_time (120 min)
    assert session_bound.ORIGINAL(Processor(), old) is True
    assert session_bound.has_session_expired(Processor(), old) is True
    assert session_bound.has_session_expired(Processor(), tracker_with(25)) is True


# -- what a new session carries over ----------------------------------------------------------

def slotted(sessions: list[list[SlotSet]]) -> DialogueStateTracker:
    """A tracker whose sessions each set the given slots, a new session started between them by
    Rasa's ``action_session_start`` (with whatever carry-over is installed)."""
    slots = [TextSlot(n, mappings=[{"type": "custom"}], influence_conversation=False)
             for n in ("a", "b", "photo_ref")]
    tracker = DialogueStateTracker("r", slots=slots)
    tracker.update(SessionStarted())
    for i, events in enumerate(sessions):
        if i:
            carried = ActionSessionStart._slot_set_events_from_tracker(tracker)
            tracker.update(SessionStarted())
            for event in carried:
                tracker.update(event)
        tracker.update(UserUttered(f"m{i}", {"name": "inform"}))
        for event in events:
            tracker.update(event)
    return tracker


def carried_blocks(tracker: DialogueStateTracker) -> list[list[SlotSet]]:
    """The slot events right after each ``session_started``: what each session carried over."""
    events = list(tracker.events)
    blocks = []
    for i, event in enumerate(events):
        if isinstance(event, SessionStarted):
            block = []
            for later in events[i + 1:]:
                if not isinstance(later, SlotSet):
                    break
                block.append(later)
            blocks.append(block)
    return blocks


def test_new_session_carries_the_last_value_of_each_slot_and_every_photo() -> None:
    events = [SlotSet("a", "1"), SlotSet("photo_ref", "p1"), SlotSet("b", "x"),
              SlotSet("a", "2"), SlotSet("photo_ref", None), SlotSet("photo_ref", "p2"),
              SlotSet("photo_ref", "p1"), SlotSet("a", None), SlotSet("photo_ref", None)]
    tracker = slotted([events])
    carried = session_bound.carried_slot_events(tracker)
    assert [(e.key, e.value) for e in carried] == [
        ("photo_ref", "p1"), ("b", "x"), ("photo_ref", "p2"), ("a", None), ("photo_ref", None)]
    # replayed, the same slots as Rasa's own carry-over (every event)
    ours, rasa = DialogueStateTracker("x", slots=tracker.slots.values()), tracker.copy()
    for event in carried:
        ours.update(event)
    rasa_replayed = DialogueStateTracker("y", slots=rasa.slots.values())
    for event in session_bound.ORIGINAL_CARRIED(rasa):
        rasa_replayed.update(event)
    assert ours.current_slot_values() == rasa_replayed.current_slot_values()


def test_erasure_finds_a_photo_sent_sessions_ago(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa_sdk import Tracker

    from actions.privacy import photo_refs

    monkeypatch.setattr(ActionSessionStart, "_slot_set_events_from_tracker",
                        staticmethod(session_bound.carried_slot_events))
    tracker = slotted([[SlotSet("photo_ref", "photo-1"), SlotSet("photo_ref", None)],
                       [SlotSet("a", "1")], [SlotSet("photo_ref", "photo-2")],
                       [SlotSet("photo_ref", None), SlotSet("b", "2")]])
    assert sum(isinstance(e, SessionStarted) for e in tracker.events) == 4
    # what the action server gets: the latest session (Rasa's store reads from its start)
    events = list(tracker.events)
    start = max(i for i, e in enumerate(events) if isinstance(e, SessionStarted))
    sdk = Tracker("r", tracker.current_slot_values(), {}, [e.as_dict() for e in events[start:]],
                  False, None, None, None)
    assert photo_refs(sdk) == ["photo-1", "photo-2"]


def test_carried_block_stays_bounded_over_many_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = [[SlotSet("a", str(i)), SlotSet("b", str(i)), SlotSet("a", None)] for i in range(8)]

    def last_block(tracker: DialogueStateTracker) -> int:
        return len(carried_blocks(tracker)[-1])

    monkeypatch.setattr(ActionSessionStart, "_slot_set_events_from_tracker",
                        staticmethod(session_bound.ORIGINAL_CARRIED))
    rasa = slotted(sessions)
    rasas = last_block(rasa)  # Rasa's own carry-over: every event, again and again
    monkeypatch.setattr(ActionSessionStart, "_slot_set_events_from_tracker",
                        staticmethod(session_bound.carried_slot_events))
    ours = slotted(sessions)
    assert rasas == 3 * 7  # the block carried into session 8 holds the slot events of sessions 1-7
    assert last_block(ours) == 2
    assert ours.current_slot_values() == rasa.current_slot_values()


# -- the trained bot: one long conversation with and without restarts -------------------------

LOCATION = '/share_location{"latitude": 41.7687, "longitude": 140.7288}'
SCRIPT = (
    ["こんにちは", "何ができますか", "ありがとうございました", "あなたはロボットですか"]
    + ["近くの避難所はどこですか", LOCATION, "/affirm", "ありがとう"]
    + ["Hello, can you speak English?", "what can you do", "thank you", "日本語でお願いします"]
    + ["道路が冠水しています", LOCATION, "/affirm", "駅前の道路が膝まで冠水しています",
       '/inform{"damage_type": "road_flooded"}', "/deny", "/deny",
       '/inform{"urgency": "high"}', "/affirm"]
    + ["ありがとうございました", "さようなら", "こんにちは", "あなたはロボットですか",
       "何ができますか", "ありがとう"]
)


def turns_of(tracker: DialogueStateTracker) -> list[tuple[list[str], list[str]]]:
    """Per user message: the actions run and the texts uttered (digits masked: report ids)."""
    out: list[tuple[list[str], list[str]]] = []
    for event in tracker.events:
        if isinstance(event, UserUttered):
            out.append(([], []))
        elif not out:
            continue
        elif isinstance(event, ActionExecuted) and event.action_name not in (
            "action_listen", "action_session_start"
        ):
            out[-1][0].append(str(event.action_name))
        elif isinstance(event, BotUttered):
            out[-1][1].append(re.sub(r"\d+", "#", event.text or ""))
    return out


@pytest.fixture(scope="module")
def action_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    from tests.channels.helpers import served_actions

    with served_actions(tmp_path_factory.mktemp("actions")) as port:
        yield port


@pytest.mark.rasa
def test_long_conversation_same_answers_with_restarts(
    action_port: int, tmp_path: Path
) -> None:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.utils.endpoints import EndpointConfig

    from tests.conftest import load_trained_agent

    endpoint = EndpointConfig(
        f"http://127.0.0.1:{action_port}/webhook", enable_selective_domain=True
    )
    # Rasa's SQL store keeps every session (the in-memory one keeps the latest only)
    store = SQLTrackerStore(None, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    agent = load_trained_agent(action_endpoint=endpoint, tracker_store=store)

    async def talk(sender: str) -> tuple[DialogueStateTracker, list[list[str]]]:
        answers: list[list[str]] = []
        for text in SCRIPT:
            out = CollectingOutputChannel()
            await agent.handle_message(UserMessage(text, out, sender))
            answers.append([re.sub(r"\d+", "#", m.get("text") or "") for m in out.messages])
        tracker = await store.retrieve_full_tracker(sender)  # every session
        assert tracker is not None
        return tracker, answers

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(MessageProcessor, "_has_session_expired", session_bound.has_session_expired)
        mp.setattr(session_bound, "MAX_SESSION_TURNS", 10**9)  # Rasa's behaviour
        reference, ref_answers = asyncio.run(talk("resident-continuous"))
        mp.setattr(session_bound, "MAX_SESSION_TURNS", 3)
        mp.setattr(ActionSessionStart, "_slot_set_events_from_tracker",
                   staticmethod(session_bound.carried_slot_events))
        bounded, answers = asyncio.run(talk("resident-bounded"))

    assert sum(isinstance(e, SessionStarted) for e in reference.events) == 1
    sessions = sum(isinstance(e, SessionStarted) for e in bounded.events)
    assert sessions >= 4, "the bounded conversation never started a new session"
    assert answers == ref_answers
    assert all(answers), "a message got no answer"
    assert turns_of(bounded) == turns_of(reference)
    # each new session carried one event per slot (the photo's distinct values: several), not the
    # slot events of every session before
    for carried in carried_blocks(bounded):
        block = [(e.key, repr(e.value)) for e in carried]
        keys = [k for k, _ in block if k not in session_bound.HISTORY_SLOTS]
        assert len(keys) == len(set(keys)), block
        photos = [v for k, v in block if k in session_bound.HISTORY_SLOTS]
        assert len(photos) <= len(set(photos)) + 1, block
    ref_turns = turns_of(reference)
    assert len(ref_turns) == len(SCRIPT)
    assert any("action_submit_report" in actions for actions, _ in ref_turns)
    assert any("action_find_shelter" in actions for actions, _ in ref_turns)
    # slots kept across the restarts (ids of stored reports differ between the two residents)
    skip = {"session_started_metadata", "report_id", "last_report_id", "inbox_message_id"}
    ref_slots = {k: v for k, v in reference.current_slot_values().items() if k not in skip}
    got_slots = {k: v for k, v in bounded.current_slot_values().items() if k not in skip}
    assert got_slots == ref_slots
