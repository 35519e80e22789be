"""Urgent reports: after the first reply (119/110 or what to do now, a response in the rules),
prepare the report from the resident's own message; the form asks only what is missing.

One action for the three urgent kinds: a threat to life (``emergency``), a person who cannot
evacuate by themselves (``needs_assistance``) and a relative who cannot be reached
(``safety_check``).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.intake import about_someone_else
from actions.parsing import parse_damage_type, parse_stated_count

URGENT_INTENTS = ("emergency", "needs_assistance", "safety_check")
# Report category and urgency per intent; an emergency's category comes from its words.
_CATEGORY = {"needs_assistance": "needs_assistance", "safety_check": "missing_contact"}
_URGENCY = {"emergency": "critical", "needs_assistance": "high", "safety_check": "high"}


def last_urgent_message(tracker: Tracker) -> tuple[str, str]:
    """(intent, text) of the resident's latest message with one of :data:`URGENT_INTENTS`."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent in URGENT_INTENTS:
                return str(intent), str(event.get("text") or "")
    return "emergency", ""


class ActionPrepareUrgentReport(Action):
    """Fill category, description, urgency and the head-count from the urgent message."""

    def name(self) -> str:
        return "action_prepare_urgent_report"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent, raw = last_urgent_message(tracker)
        text = raw.strip()
        category = _CATEGORY.get(intent) or parse_damage_type(text) or "injured_person"
        events: list[EventType] = [
            SlotSet("damage_type", category),
            SlotSet("urgency", _URGENCY.get(intent, "critical")),
            SlotSet("report_confirm", None),
            SlotSet("report_fix", None),
        ]
        if text and not text.startswith("/"):
            events.append(SlotSet("description", text[:1000]))
            events.append(
                SlotSet("about_someone_else", "yes" if about_someone_else(text) else "no")
            )
            count = parse_stated_count(text)
            if count:
                events.append(SlotSet("affected", count))
        if intent != "emergency":
            # A photo of a missing relative or of a person's home is not what officials need first.
            events.append(SlotSet("photo_ref", "none"))
        return events
