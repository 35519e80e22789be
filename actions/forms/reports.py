"""Validators of the damage report form and the resident's shelter status form."""

from __future__ import annotations

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.common import (
    answer,
    answer_text,
    code_answer,
    count,
    resolve_shelter,
    supplies,
    yes_no,
)
from actions.forms.location import CLEARED, LocationSlotsMixin
from actions.parsing import DAMAGE_TYPES, is_none_answer, normalize
from actions.tracking import entity_values, latest_intent, latest_text
from bot import vocabulary

MAX_DESCRIPTION = 1000
_UNKNOWN_WORDS = ("わからない", "分からない", "わかりません", "分かりません", "不明", "unknown", "not sure")
# Which slots each fixable item clears (the read-back is asked again afterwards).
FIX_FIELDS: dict[str, dict[str, Any]] = {
    "damage_type": {"damage_type": None},
    "location": dict(CLEARED),
    "description": {"description": None},
    "affected": {"affected": None},
    "photo_ref": {"photo_ref": None},
    "urgency": {"urgency": None},
}


def parse_fix_field(text: str) -> str | None:
    """Which read-back item to fix (「場所」「人数を直したい」); the words are in the vocabulary."""
    field = vocabulary.match("report_field", text)
    return field if field in FIX_FIELDS else None


def describes_situation(text: str) -> bool:
    """True for a sentence about what is happening (「交差点が膝まで水につかっています」), which
    belongs in the report's description, not in a short answer (「急ぎ」「うーん」)."""
    text = text.strip()
    if len(text) < 6 or text.startswith("/"):
        return False
    return bool(
        vocabulary.find("category", text, mode="extract")
        or vocabulary.find("hazard", text, mode="extract")
        or len(text) >= 15
    )


def with_description(tracker: Tracker, text: str) -> str:
    """The report's description with ``text`` added (unchanged when already in it)."""
    current = str(tracker.get_slot("description") or "").strip()
    text = text.strip()
    if not current:
        return text[:MAX_DESCRIPTION]
    if text in current:
        return current
    return f"{current}\n{text}"[:MAX_DESCRIPTION]


class ValidateReportDamageForm(LocationSlotsMixin, FormValidationAction):
    def name(self) -> str:
        return "validate_report_damage_form"

    async def validate_damage_type(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        kind = code_answer(slot_value, tracker, "category", "damage_type", DAMAGE_TYPES)
        if kind is None:
            dispatcher.utter_message(response="utter_not_understood_answer")
            return {"damage_type": None}
        values: dict[str, Any] = {"damage_type": kind}
        # The message that started the report usually already says what happened.
        text = latest_text(tracker).strip()
        if (
            tracker.get_slot("description") is None
            and latest_intent(tracker) in ("report_damage", "emergency")
            and len(text) >= 8
            and not text.startswith("/")
        ):
            values["description"] = text[:MAX_DESCRIPTION]
        return values

    async def validate_description(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        text = str(slot_value or "").strip()
        if len(text) < 2 or text.startswith("/"):
            dispatcher.utter_message(response="utter_not_understood_answer")
            return {"description": None}
        return {"description": text[:MAX_DESCRIPTION]}

    async def validate_affected(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        if isinstance(slot_value, int) and not isinstance(slot_value, bool):
            return {"affected": slot_value}
        text = str(slot_value or "")
        if latest_intent(tracker) == "deny":
            return {"affected": 0}
        n = count(slot_value, tracker)
        if n is not None:
            return {"affected": n}
        norm = normalize(text)
        if any(w in norm for w in _UNKNOWN_WORDS):
            return {"affected": "unknown"}
        if is_none_answer(text):
            return {"affected": 0}
        dispatcher.utter_message(response="utter_not_understood_answer")
        return {"affected": None}

    async def validate_photo_ref(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        refs = entity_values(tracker, "photo_ref")
        if latest_intent(tracker) == "share_photo" and refs:
            dispatcher.utter_message(response="utter_photo_received")
            return {"photo_ref": str(refs[-1])}
        if latest_intent(tracker) == "deny" or is_none_answer(str(slot_value or "")):
            return {"photo_ref": "none"}
        if slot_value and str(slot_value) != latest_text(tracker):
            # Filled earlier (a photo sent before the form asked for it).
            return {"photo_ref": str(slot_value)}
        dispatcher.utter_message(response="utter_not_understood_answer")
        return {"photo_ref": None}

    async def validate_urgency(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """The urgency answer (buttons, 「急ぎではありません」 → low). A sentence about the situation
        instead (「交差点が膝まで水につかっています」) goes to the description and the question is
        asked again; said together with an urgency, both are kept."""
        level = code_answer(slot_value, tracker, "urgency", "urgency")
        text = answer_text(slot_value, tracker)
        described = describes_situation(text)
        if level is not None:
            values: dict[str, Any] = {"urgency": level}
            if described:
                values["description"] = with_description(tracker, text)
            return values
        if described:
            dispatcher.utter_message(response="utter_description_added")
            return {"urgency": None, "description": with_description(tracker, text)}
        return answer(dispatcher, "urgency", None)

    async def validate_report_confirm(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        answer = yes_no(slot_value, tracker)
        if answer is True:
            return {"report_confirm": True, "report_fix": "none"}
        if answer is False:
            return {"report_confirm": False, "report_fix": None}
        dispatcher.utter_message(response="utter_not_understood_answer")
        return {"report_confirm": None}

    async def validate_report_fix(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        if slot_value == "none" and tracker.get_slot("report_confirm") is True:
            return {"report_fix": "none"}
        values = [v for v in entity_values(tracker, "fix_field") if v in FIX_FIELDS]
        field = values[0] if values else parse_fix_field(str(slot_value or ""))
        if field is None:
            dispatcher.utter_message(response="utter_not_understood_answer")
            return {"report_fix": None}
        dispatcher.utter_message(response="utter_correct_again")
        return {**FIX_FIELDS[field], "report_confirm": None, "report_fix": None}


class ValidateShelterStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_shelter_status_form"

    async def validate_shelter_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        found = await resolve_shelter(str(slot_value or latest_text(tracker)), dispatcher)
        return found or {"shelter_name": None, "shelter_id": None}

    async def validate_congestion(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        return answer(dispatcher, "congestion", code_answer(slot_value, tracker, "congestion", "congestion"))

    async def validate_shortages(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        return answer(dispatcher, "shortages", supplies(slot_value, tracker))
