"""Validators of the shelter search and shelter lookup forms."""

from __future__ import annotations

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.common import answer, code_answer, resolve_shelter
from actions.forms.location import LocationSlotsMixin
from actions.tracking import latest_text


class ValidateShelterSearchForm(LocationSlotsMixin, FormValidationAction):
    place_in_opening_message = True

    def name(self) -> str:
        return "validate_shelter_search_form"

    async def validate_hazard(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        return answer(dispatcher, "hazard", code_answer(slot_value, tracker, "hazard", "hazard"))


class ValidateShelterLookupForm(FormValidationAction):
    def name(self) -> str:
        return "validate_shelter_lookup_form"

    async def validate_shelter_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        found = await resolve_shelter(str(slot_value or latest_text(tracker)), dispatcher)
        return found or {"shelter_name": None, "shelter_id": None}
