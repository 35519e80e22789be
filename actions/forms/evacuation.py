"""Validator of the evacuation registration form."""

from __future__ import annotations

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.common import count, supplies, yes_no
from actions.forms.location import LocationSlotsMixin
from actions.parsing import parse_place_type, parse_vulnerable
from actions.tracking import latest_intent


class ValidateRegisterEvacuationForm(LocationSlotsMixin, FormValidationAction):
    def name(self) -> str:
        return "validate_register_evacuation_form"

    async def validate_place_type(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        kind = parse_place_type(str(slot_value or ""))
        if kind is None:
            dispatcher.utter_message(response="utter_not_understood_answer")
        return {"place_type": kind}

    async def validate_headcount(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        n = count(slot_value, tracker)
        if n is None:
            dispatcher.utter_message(response="utter_not_understood_answer")
        return {"headcount": n}

    async def validate_vulnerable(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        if isinstance(slot_value, dict):
            return {"vulnerable": slot_value}
        if latest_intent(tracker) == "deny":
            return {"vulnerable": {}}
        found = parse_vulnerable(str(slot_value or ""))
        if found is None:
            dispatcher.utter_message(response="utter_not_understood_answer")
        return {"vulnerable": found}

    async def validate_needs(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        found = supplies(slot_value, tracker)
        if found is None:
            found = ["other"]
        return {"needs": found}

    async def validate_consent(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        answer = yes_no(slot_value, tracker)
        if answer is None:
            dispatcher.utter_message(response="utter_not_understood_answer")
        return {"consent": answer}
