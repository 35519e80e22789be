"""A resident's 「データを削除」 (after they confirmed): delete what the bot keeps about them.

The registration and photos are deleted, the reports and inbox messages stay for the disaster
response without the link to the resident and without free text that carries personal data
(:meth:`bot.store.privacy.Privacy.erase_resident`). The conversation is deleted by the tracker
store when it saves this turn (:mod:`bot.tracker_store`, the slot ``data_erase_requested``).
What was deleted and what stays is told to the resident. See docs/privacy.md.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.reports import resident

logger = logging.getLogger(__name__)

ERASE_SLOT = "data_erase_requested"  # bot.tracker_store.ERASE_SLOT (no Rasa import here)


def photo_refs(tracker: Tracker) -> list[str]:
    """Photos the resident sent in this conversation (a form in progress included)."""
    refs: list[str] = []
    current = tracker.get_slot("photo_ref")
    if isinstance(current, str):
        refs.append(current)
    for event in tracker.events:
        if event.get("event") == "slot" and event.get("name") == "photo_ref":
            refs.append(str(event.get("value") or ""))
        elif event.get("event") == "user":
            for entity in (event.get("parse_data") or {}).get("entities") or []:
                if entity.get("entity") == "photo_ref":
                    refs.append(str(entity.get("value") or ""))
    return sorted({r for r in refs if r and r != "none"})


class ActionDeleteMyData(Action):
    def name(self) -> str:
        return "action_delete_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        try:
            store = resources.report_store()
            who = resident(store, tracker)
            done = await resources.run_blocking(
                store.privacy.erase_resident, who, photo_refs(tracker)
            )
        except Exception:  # noqa: BLE001 - the resident is told nothing was deleted
            logger.exception("erasure of a resident's data failed")
            dispatcher.utter_message(response="utter_delete_my_data_failed")
            return []
        dispatcher.utter_message(
            response="utter_my_data_deleted",
            registrations=done.registrations,
            photos=done.photos,
            reports=done.reports,
        )
        # forget every slot now; the tracker store deletes the stored conversation on save
        return [AllSlotsReset(), SlotSet(ERASE_SLOT, True)]
