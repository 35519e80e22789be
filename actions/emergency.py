"""Emergency: after the 119/110 line (a response in the rules), prepare an urgent report."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.parsing import parse_damage_type


def last_emergency_text(tracker: Tracker) -> str:
    """Text of the resident's latest message classified as ``emergency``."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent == "emergency":
                return str(event.get("text") or "")
    return ""


class ActionPrepareUrgentReport(Action):
    """Fill category, description and urgency from the emergency message; the form asks the rest."""

    def name(self) -> str:
        return "action_prepare_urgent_report"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = last_emergency_text(tracker).strip()
        category = parse_damage_type(text) or "injured_person"
        events: list[EventType] = [
            SlotSet("damage_type", category),
            SlotSet("urgency", "critical"),
            SlotSet("report_confirm", None),
            SlotSet("report_fix", None),
        ]
        if text and not text.startswith("/"):
            events.append(SlotSet("description", text[:1000]))
        return events
