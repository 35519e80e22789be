"""Location slots shared by every form that needs a place.

Accepts the channel's ``/share_location{...}`` payload, a designated site's name, or address /
place text matched with ``GisIndex.search_sites``. A confident match is announced and used; an
unsure one is read back and confirmed through the ``location_confirm`` slot.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.parsing import clean_place_text, parse_yes_no
from actions.tracking import coords, latest_intent, latest_text

logger = logging.getLogger(__name__)

HERE = "現在地"
CLEARED: dict[str, Any] = {
    "location": None,
    "location_confirm": None,
    "location_address": None,
    "location_source": None,
    "latitude": None,
    "longitude": None,
}


class LocationSlotsMixin:
    """``validate_location`` and ``validate_location_confirm`` for FormValidationAction."""

    async def validate_location(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        if latest_intent(tracker) == "share_location" or slot_value == HERE:
            point = coords(tracker)
            if point is None:
                dispatcher.utter_message(response="utter_location_invalid")
                return dict(CLEARED)
            if latest_intent(tracker) == "share_location":
                dispatcher.utter_message(response="utter_location_gps")
            return {
                "location": HERE,
                "location_source": "gps",
                "location_address": None,
                "location_confirm": True,
                "latitude": point[0],
                "longitude": point[1],
            }
        if (
            tracker.get_slot("location_confirm") is True
            and coords(tracker) is not None
            and slot_value == tracker.get_slot("location")
            and str(slot_value or "") not in latest_text(tracker)
        ):
            return {"location": slot_value}  # kept from an earlier question: no new search
        text = clean_place_text(str(slot_value or "")) or clean_place_text(latest_text(tracker))
        if not text:
            return dict(CLEARED)
        try:
            matches = await resources.search_sites(text, 5)
        except Exception:  # noqa: BLE001 - the resident still gets an answer
            logger.exception("site search failed")
            dispatcher.utter_message(response="utter_gis_unavailable")
            return dict(CLEARED)
        if not matches:
            dispatcher.utter_message(response="utter_location_not_found", place_text=text)
            return dict(CLEARED)
        best = matches[0]
        site = best.site
        values: dict[str, Any] = {
            "location": site.name,
            "location_address": site.address or site.municipality,
            "location_source": "site" if best.matched == "name" else "text",
            "latitude": float(site.lat),
            "longitude": float(site.lon),
            "location_confirm": None,
        }
        if best.confident:
            values["location_confirm"] = True
            dispatcher.utter_message(
                response="utter_location_understood",
                location=values["location"],
                location_address=values["location_address"],
            )
        return values

    async def validate_location_confirm(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        if slot_value is True:
            return {"location_confirm": True}
        intent = latest_intent(tracker)
        if intent == "share_location":
            # A shared location is no yes/no answer but a better place: ``location`` is filled
            # from it in the same turn (from_intent) and validate_location takes it. Saying
            # "not understood" here and clearing the confirmation made the form ask
            # 「「現在地」（None）でよろしいですか？」 after the resident's GPS location.
            return {"location_confirm": True} if coords(tracker) is not None else {}
        if intent == "share_photo":
            # A photo sent meanwhile is kept by its own slot; the question is asked again.
            return {"location_confirm": None}
        answer: bool | None
        if intent == "affirm":
            answer = True
        elif intent == "deny":
            answer = False
        else:
            answer = parse_yes_no(str(slot_value or ""))
        if answer is True:
            return {"location_confirm": True}
        if answer is False:
            dispatcher.utter_message(response="utter_location_retry")
            return dict(CLEARED)
        dispatcher.utter_message(response="utter_not_understood_answer")
        return {"location_confirm": None}
