"""Dialogue control shared by every flow: language, cancel, correct, a location outside forms."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.location import CLEARED, HERE
from actions.parsing import (
    correction_text,
    detect_language,
    language_command,
    parse_congestion,
    parse_damage_type,
    parse_hazard,
    parse_place_type,
    parse_stated_count,
    parse_supplies,
    parse_urgency,
    parse_vulnerable,
)
from actions.render import join, label, language, render
from actions.tracking import coords, entity_values, latest_intent, latest_text

# Slots that only live while a form runs (helpers reset by cancel).
HELPER_SLOTS = ("requested_slot", "report_confirm", "report_fix", "shelter_id")


class ActionDetectLanguage(Action):
    """Custom slot mapping of ``language`` (runs on every user turn in action_extract_slots)."""

    def name(self) -> str:
        return "action_detect_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        current = tracker.get_slot("language")
        lang = detect_language(
            latest_intent(tracker), latest_text(tracker), entity_values(tracker, "language"), current
        )
        if lang and lang != current:
            return [SlotSet("language", lang)]
        return []


def last_form(tracker: Tracker) -> str | None:
    """The form active now, or the one that was active last."""
    if tracker.active_loop_name:
        return tracker.active_loop_name
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name"):
            return str(event["name"])
    return None


def form_slots(domain: dict[str, Any], form: str | None) -> list[str]:
    if not form:
        return []
    return list(((domain.get("forms") or {}).get(form) or {}).get("required_slots") or [])


class ActionCancelForm(Action):
    """Forget what the cancelled form collected (runs after action_deactivate_loop)."""

    def name(self) -> str:
        return "action_cancel_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        names = dict.fromkeys(form_slots(domain, last_form(tracker)) + list(HELPER_SLOTS))
        events: list[EventType] = []
        for name in names:
            if name in ("location", "location_confirm"):
                events += [SlotSet(k, v) for k, v in CLEARED.items()]
            else:
                events.append(SlotSet(name, None))
        dispatcher.utter_message(response="utter_cancelled")
        return events


# Slots a correction can carry a new value for ("間違えた、4人"), with the label group of the value.
_COUNT_SLOTS = ("headcount", "affected", "supply_headcount")
_LIST_SLOTS = {"needs": "supply", "supplies": "supply", "shortages": "supply"}
_CODE_SLOTS = {
    "place_type": (parse_place_type, "place"),
    "damage_type": (parse_damage_type, "category"),
    "urgency": (parse_urgency, "urgency"),
    "congestion": (parse_congestion, "congestion"),
    "hazard": (parse_hazard, "hazard"),
}


def corrected_value(slot: str, text: str) -> Any:
    """The new value of ``slot`` that the correction text states, or None."""
    if not text:
        return None
    if slot in _COUNT_SLOTS:
        return parse_stated_count(text)
    if slot in _LIST_SLOTS:
        return parse_supplies(text) or None
    if slot == "vulnerable":
        return parse_vulnerable(text) or None
    if slot in _CODE_SLOTS:
        return _CODE_SLOTS[slot][0](text)
    return None


def value_label(domain: dict[str, Any], slot: str, value: Any, lang: str) -> str:
    if slot in _COUNT_SLOTS:
        return render(domain, "utter_label_people", lang, count=value)
    if slot in _LIST_SLOTS:
        return join([label(domain, "supply", v, lang) for v in value], lang)
    if slot == "vulnerable":
        return join([label(domain, "vulnerable", k, lang) for k in value], lang)
    return label(domain, _CODE_SLOTS[slot][1], value, lang)


class ActionCorrectForm(Action):
    """'間違えた' inside a form: take the new value when the message says it ("間違えた、4人"),
    else ask the previous answer again (or reopen the read-back)."""

    def name(self) -> str:
        return "action_correct_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        slots = form_slots(domain, tracker.active_loop_name)
        requested = tracker.get_slot("requested_slot")
        at_read_back = requested in ("report_confirm", "report_fix")
        position = slots.index(requested) if requested in slots else len(slots)
        filled = [
            name
            for name in reversed(slots[:position])
            if name not in ("report_fix", "report_confirm") and tracker.get_slot(name) is not None
        ]
        events = self._with_value(dispatcher, tracker, domain, filled)
        if events is not None:
            return events + ([SlotSet("report_confirm", None), SlotSet("report_fix", None)] if at_read_back else [])
        if requested == "report_confirm":
            dispatcher.utter_message(response="utter_correct_again")
            return [SlotSet("report_confirm", False), SlotSet("report_fix", None)]
        if requested == "report_fix":
            dispatcher.utter_message(response="utter_correct_again")
            return []
        for name in filled:
            dispatcher.utter_message(response="utter_correct_again")
            if name in ("location", "location_confirm"):
                return [SlotSet(k, v) for k, v in CLEARED.items()]
            return [SlotSet(name, None)]
        if requested in ("location", "location_confirm"):
            dispatcher.utter_message(response="utter_correct_again")
            return [SlotSet(k, v) for k, v in CLEARED.items()]
        dispatcher.utter_message(response="utter_correct_nothing")
        return []

    @staticmethod
    def _with_value(
        dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], filled: list[str]
    ) -> list[EventType] | None:
        """Set the most recent answer the new value fits; None when the message states none."""
        text = correction_text(latest_text(tracker))
        for name in filled:
            value = corrected_value(name, text)
            if value is None:
                continue
            dispatcher.utter_message(
                response="utter_corrected", value=value_label(domain, name, value, language(tracker))
            )
            return [SlotSet(name, value)]
        return None


class ActionReceiveLocation(Action):
    """A location sent outside a form: keep it and offer what can be done with it."""

    def name(self) -> str:
        return "action_receive_location"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if coords(tracker) is None:
            dispatcher.utter_message(response="utter_location_invalid")
            return [SlotSet(k, v) for k, v in CLEARED.items()]
        dispatcher.utter_message(response="utter_location_received")
        return [
            SlotSet("location", HERE),
            SlotSet("location_source", "gps"),
            SlotSet("location_address", None),
            SlotSet("location_confirm", True),
        ]


class ActionHandleFallback(Action):
    """Low NLU confidence: "/lang en" switches the language, anything else gets utter_default."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if language_command(latest_text(tracker)):
            dispatcher.utter_message(response="utter_language_set")
        else:
            dispatcher.utter_message(response="utter_default")
        return []
