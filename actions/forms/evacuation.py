"""Validator of the evacuation registration form."""

from __future__ import annotations

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.common import answer, answer_text, code_answer, count, supplies, yes_no
from actions.forms.location import LocationSlotsMixin
from actions.parsing import parse_vulnerable
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
        return answer(dispatcher, "place_type", code_answer(slot_value, tracker, "place_type", "place_type"))

    async def validate_headcount(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        return answer(dispatcher, "headcount", count(slot_value, tracker))

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
        return answer(dispatcher, "vulnerable", parse_vulnerable(answer_text(slot_value, tracker)))

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
        return answer(dispatcher, "consent", yes_no(slot_value, tracker))
