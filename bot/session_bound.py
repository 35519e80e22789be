"""A long continuous conversation starts a new Rasa session, as Rasa does after a pause.

Rasa 3.6 works on the whole session on every turn: each prediction featurizes every event of
it (``tracker.past_states``; the RulePolicy looks at an unlimited history) and every call to the
action server posts every event of it. A turn of a continuous 100-turn conversation cost about
half as much again as the 5th (docs/performance.md), bare Rasa alike. Rasa bounds this only by
time: after ``session_expiration_time`` (bot/domain/core.yml) of silence the next message runs
``action_session_start``, which starts a new session (``session_started``) carrying the slots
over (``carry_over_slots_to_new_session: true``), and from then on Rasa reads, featurizes and
posts only that session.

:func:`apply` makes ``MessageProcessor._has_session_expired`` also answer True, at the start of a
turn, when the session in progress has :data:`MAX_SESSION_TURNS` user messages or more and the
conversation is at a point where nothing pending depends on older events:

- no form (loop) is active and no slot is being asked for (``requested_slot``);
- the bot's last action before this message is not a *prompt*: an action that a rule or story
  of the training data (``data/rules``, ``data/stories``) follows with the resident's answer
  (``utter_offer_urgent_report`` → affirm / deny, ``utter_ask_delete_my_data`` → ...). After
  any other action, what Rasa predicts for the next message is decided by rules that start at
  that message (every flow has one), the same in a fresh session;
- no photo came in this session as a message entity (``action_delete_my_data`` collects the
  photos from the events; slot values, a photo slot included, are carried over as events);
- no rule has ``conversation_start: true`` (a new session would start it again); with such a
  rule nothing changes.

Then Rasa's own ``action_session_start`` runs: ``session_started``, the session's slot events
carried over, ``action_listen``; the message is handled in the new session.

What it carries over is bounded too (:func:`carried_slot_events`). Rasa carries *every* ``SlotSet``
event of the ending session, and those include the block it carried into that session, so the
block grows with every slot change of the whole conversation and every later turn featurizes it
and posts it to the action server. Only the last value of each slot is carried (what Rasa's
tracker holds after replaying them all, the same state for every policy), except for the slots
in :data:`HISTORY_SLOTS`, whose earlier values an action reads from the events: every distinct
value of those is carried, the current one last. This applies as well to a session that
expired by time. Nothing else differs from Rasa: the same code path as such a session. All
events stay in the tracker store (Rasa's store reads from the latest ``session_started``;
``bosai privacy purge`` and erasure still see every event). ``tests/bot/test_session_bound.py``
runs one long conversation through Rasa with and without this and compares every answer.
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path
from typing import Any

from rasa.core.actions.action import ActionSessionStart
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

#: user messages in one session after which a new session starts at the next safe point
MAX_SESSION_TURNS = 20
#: slot entity of a photo the resident sent (bot/domain, actions/privacy.py)
PHOTO_ENTITY = "photo_ref"
#: slots whose earlier values an action reads from the events: ``action_delete_my_data`` erases
#: every photo named by a ``photo_ref`` slot event (actions/privacy.py ``photo_refs``)
HISTORY_SLOTS = frozenset({PHOTO_ENTITY})
USER_STEP_KEYS = ("intent", "user", "or")

_lock = threading.Lock()
_applied = False
#: Rasa's own methods (tests compare with them)
ORIGINAL = MessageProcessor._has_session_expired
ORIGINAL_CARRIED = ActionSessionStart._slot_set_events_from_tracker


def read_prompts(data_dirs: list[Path]) -> frozenset[str] | None:
    """Actions that a rule or story follows with a user step; None when any rule has
    ``conversation_start: true`` or no training data is found (then never restart)."""
    import yaml

    prompts: set[str] = set()
    files = [p for d in data_dirs if d.is_dir() for p in sorted(d.rglob("*.yml"))]
    if not files:
        return None
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key in ("rules", "stories"):
            for flow in data.get(key) or []:
                if flow.get("conversation_start"):
                    return None
                steps = [s for s in flow.get("steps") or [] if isinstance(s, dict)]
                # active_loop / slot_was_set lines describe the state, not a turn
                turns = [s for s in steps if "action" in s or any(k in s for k in USER_STEP_KEYS)]
                for step, following in zip(turns, turns[1:], strict=False):
                    if "action" in step and any(k in following for k in USER_STEP_KEYS):
                        prompts.add(str(step["action"]))
    return frozenset(prompts)


@functools.lru_cache(maxsize=1)
def prompts() -> frozenset[str] | None:
    from bot.settings import get_settings
    from bot.training import TRAINING_DATA_DIRS

    root = get_settings().repo_root
    found = read_prompts([root / d for d in TRAINING_DATA_DIRS])
    logger.info("session bound: %s", "off" if found is None else f"{len(found)} prompt actions")
    return found


def _session_events(tracker: DialogueStateTracker) -> list[Any]:
    events = list(tracker.events)
    for i in range(len(events) - 1, -1, -1):
        if isinstance(events[i], SessionStarted):
            return events[i + 1 :]
    return events


def may_restart(
    tracker: DialogueStateTracker, prompt_actions: frozenset[str] | None, max_turns: int
) -> bool:
    """Whether a new session may start before the next message (see the module docstring)."""
    if prompt_actions is None or tracker.active_loop_name:
        return False
    if tracker.get_slot("requested_slot") is not None:
        return False
    events = _session_events(tracker)
    last = events[-1] if events else None
    if not (isinstance(last, ActionExecuted) and last.action_name == "action_listen"):
        return False  # not between two turns (a turn in progress, external events)
    users = [e for e in events if isinstance(e, UserUttered)]
    if len(users) < max_turns:
        return False
    if any(ent.get("entity") == PHOTO_ENTITY for e in users for ent in e.entities):
        return False
    last_action = None
    for event in reversed(events):
        if isinstance(event, ActionExecuted) and event.action_name != "action_listen":
            last_action = event.action_name
            break
        if isinstance(event, UserUttered):
            return False  # the last message got no action: an unfinished turn
    return last_action is not None and last_action not in prompt_actions


def has_session_expired(self: MessageProcessor, tracker: DialogueStateTracker) -> bool:
    """Rasa's expiry by time, or a long session at a safe point (:func:`may_restart`)."""
    if ORIGINAL(self, tracker):
        return True
    if not self.domain.session_config.are_sessions_enabled():
        return False
    if not self.domain.session_config.carry_over_slots:
        return False  # a new session would forget what the resident told us
    if may_restart(tracker, prompts(), MAX_SESSION_TURNS):
        logger.debug("session of %s: %s user messages, new session", tracker.sender_id,
                     MAX_SESSION_TURNS)
        return True
    return False


def carried_slot_events(tracker: DialogueStateTracker) -> list[SlotSet]:
    """The slot events a new session starts with: of the ending session's ``SlotSet`` events,
    the last one of each slot, and for :data:`HISTORY_SLOTS` the first event of each distinct
    value (not None) as well, in the order they came (so each slot's last event is its current value).
    Replayed, they give the same slots as all of them (Rasa's ``_slot_set_events_from_tracker``)."""
    events = [e for e in tracker.applied_events() if isinstance(e, SlotSet)]
    last = {e.key: i for i, e in enumerate(events)}
    seen: set[tuple[str, str]] = set()
    keep: list[SlotSet] = []
    for i, event in enumerate(events):
        if event.key in HISTORY_SLOTS and i != last[event.key]:
            value = (event.key, repr(event.value))
            if event.value is None or value in seen:
                continue
            seen.add(value)
        elif i != last[event.key]:
            continue
        keep.append(SlotSet(key=event.key, value=event.value, metadata=event.metadata))
    return keep


def apply() -> None:
    """Install :func:`has_session_expired` on Rasa's ``MessageProcessor`` and
    :func:`carried_slot_events` on its ``ActionSessionStart`` (idempotent)."""
    global _applied
    with _lock:
        if not _applied:
            MessageProcessor._has_session_expired = has_session_expired  # type: ignore[method-assign]
            ActionSessionStart._slot_set_events_from_tracker = staticmethod(  # type: ignore[method-assign]
                carried_slot_events
            )
            _applied = True
    prompts()  # read the training data's prompts now, at the server's start, not in a turn
