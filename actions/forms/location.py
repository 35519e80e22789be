"""Location slots shared by every form that needs a place.

Accepts the channel's ``/share_location{...}`` payload, a designated site's name, or address /
place text matched with ``GisIndex.search_sites``. A confident match is announced and used; an
unsure one is read back and confirmed through the ``location_confirm`` slot. A district named in
the text (``GisIndex.find_area``: 「函館市柏野町」) is used when no site name matches well, at the
centre of its sites, read back as 「…付近」 and confirmed; the search and hazard questions also take
it from their opening message.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.parsing import clean_place_text, parse_yes_no
from actions.render import language
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


#: an unsure match of a site's *name* at least this good is read back rather than a district named
#: in the text (「函館市民館」 is the hall 函館市民会館, 0.82). A match on a site's address is one site
#: of the district the text names (「函館市柏野町」 → 恵山中学校, 0.81; 「旭川市豊岡8条4丁目」 → a
#: school in 豊岡三条, 0.54): the district's centre is the better reading.
SITE_OVER_AREA = 0.8

def area_values(area: Any, text: str, tracker: Tracker) -> dict[str, Any]:
    """Location slots for a district (:class:`gis.areas.Area`): its centre, to be confirmed."""
    near = f"{area.name}付近" if language(tracker) != "en" else f"around {area.name}"
    return {
        "location": near,
        "location_address": text,
        "location_source": "area",
        "latitude": float(area.lat),
        "longitude": float(area.lon),
        "location_confirm": None,
    }


class LocationSlotsMixin:
    """``validate_location`` and ``validate_location_confirm`` for FormValidationAction."""

    #: whether the form's opening message may carry the place (a question about a place: the
    #: shelter search, the hazard check); a report or a registration asks for its place, where
    #: the resident writes the full address
    place_in_opening_message = False

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
        top = matches[0] if matches else None
        if not (top and (top.confident or (top.matched == "name" and top.score >= SITE_OVER_AREA))):
            area = await self._area(text)
            if area is not None:
                return area_values(area, text, tracker)  # read back: 「釧路市大町付近」でよろしいですか
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

    async def _area(self, text: str) -> Any:
        try:
            return await resources.find_area(text)
        except Exception:  # noqa: BLE001 - the site search still answers
            logger.exception("district search failed")
            return None

    async def extract_location(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """A district written in the message that opened a place question (「津波どこに逃げれば
        函館市柏野町」): taken as the place, to be read back, instead of asking where (or instead
        of the place kept from an earlier question). Only the search and hazard questions, only on
        the opening message, and only a district found by :mod:`gis.areas` rules; the fuzzy site
        search would find something in any text."""
        if (
            not self.place_in_opening_message
            or tracker.get_slot("requested_slot") is not None
            or latest_intent(tracker) in ("share_location", "share_photo")
        ):
            return {}
        text = latest_text(tracker)
        if not text or text.startswith("/"):
            return {}
        area = await self._area(text)
        if area is None or area.name in str(tracker.get_slot("location") or ""):
            return {}  # none named, or the place already is that district
        return {"location": area.name}

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
