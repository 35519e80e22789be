"""Validator of the hazard check form (location only)."""

from __future__ import annotations

from rasa_sdk import FormValidationAction

from actions.forms.location import LocationSlotsMixin


class ValidateHazardCheckForm(LocationSlotsMixin, FormValidationAction):
    place_in_opening_message = True

    def name(self) -> str:
        return "validate_hazard_check_form"
