"""Validator of the supply request form."""

from __future__ import annotations

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.common import answer, count, supplies
from actions.forms.location import LocationSlotsMixin


class ValidateSupplyRequestForm(LocationSlotsMixin, FormValidationAction):
    def name(self) -> str:
        return "validate_supply_request_form"

    async def validate_supplies(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        found = supplies(slot_value, tracker)
        if not found:
            dispatcher.utter_message(response="utter_not_understood_answer")
            return {"supplies": None}
        return {"supplies": found}

    async def validate_supply_headcount(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        return answer(dispatcher, "supply_headcount", count(slot_value, tracker))
