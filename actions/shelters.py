"""Shelter actions: nearest designated sites for a hazard, and a shelter's latest status."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.parsing import HAZARDS, format_distance, map_link, parse_hazard
from actions.render import join, label, language, render
from actions.tracking import coords, entity_values

logger = logging.getLogger(__name__)

# Open and not full first, then unknown, then full, then closed (stable by distance).
_ORDER = {"open": 0, None: 1, "full": 2, "closed": 3}


def requested_hazard(tracker: Tracker) -> str | None:
    """Hazard from the latest message (digressions) or the slot; None means all."""
    for value in entity_values(tracker, "hazard") + [tracker.get_slot("hazard")]:
        kind = parse_hazard(str(value)) if value else None
        if kind:
            return kind if kind in HAZARDS else None
    return None


def place_label(tracker: Tracker, domain: dict[str, Any], lang: str) -> str:
    if tracker.get_slot("location_source") == "gps" or not tracker.get_slot("location"):
        return render(domain, "utter_label_here", lang)
    return str(tracker.get_slot("location"))


def note_if_area(dispatcher: CollectingDispatcher, tracker: Tracker, place: str) -> None:
    """After an answer for a district's centre (``location_source`` area, :mod:`gis.areas`): it
    stands for the district only roughly; the resident's location gives the exact answer."""
    if tracker.get_slot("location_source") == "area":
        dispatcher.utter_message(response="utter_location_area_note", place=place)


def status_rank(status: Any) -> int:
    if status is None:
        return _ORDER[None]
    if status.status == "closed" or status.congestion == "closed":
        return _ORDER["closed"]
    if status.congestion == "full":
        return _ORDER["full"]
    return _ORDER["open"]


def status_text(domain: dict[str, Any], status: Any, lang: str, line: str) -> str:
    if status is None:
        return ""
    return render(domain, line, lang, **status_values(domain, status, lang))


def zone_text(zones: list[dict[str, Any]]) -> str:
    parts = []
    for z in zones:
        text = z.get("label") or (f"rank {z.get('level')}" if z.get("level") is not None else "")
        if text:
            parts.append(str(text))
    return " / ".join(dict.fromkeys(parts)) or "-"


class ActionFindShelter(Action):
    def name(self) -> str:
        return "action_find_shelter"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = language(tracker)
        point = coords(tracker)
        if point is None:
            dispatcher.utter_message(response="utter_need_location_for_shelter")
            return []
        hazard = requested_hazard(tracker)
        try:
            idx = resources.gis_index()
            sites = await resources.run_blocking(idx.nearest, point[0], point[1], hazard, 3)
        except Exception:  # noqa: BLE001 - the resident still gets an answer with 119/110
            logger.exception("nearest site query failed")
            dispatcher.utter_message(response="utter_gis_unavailable")
            return [SlotSet("hazard", None)]
        hazard_label = label(domain, "hazard", hazard or "all", lang)
        place = place_label(tracker, domain, lang)
        if not sites:
            dispatcher.utter_message(response="utter_shelter_none", place=place, hazard_label=hazard_label)
            note_if_area(dispatcher, tracker, place)
            return [SlotSet("hazard", None)]
        statuses: dict[str, Any] = {}
        try:
            store = resources.report_store()
            statuses = await resources.run_blocking(store.latest_shelter_status, [s.id for s in sites])
        except Exception:  # noqa: BLE001 - statuses are optional
            logger.exception("shelter status lookup failed")
        ordered = sorted(sites, key=lambda s: (status_rank(statuses.get(s.id)), s.distance_m))
        items = []
        for rank, site in enumerate(ordered, start=1):
            warning = ""
            if hazard and site.in_hazard_zone:
                warning = render(
                    domain, "utter_shelter_zone_warning", lang,
                    hazard_label=hazard_label, zone=zone_text(site.in_hazard_zone),
                )
            items.append(
                render(
                    domain, "utter_shelter_item", lang,
                    rank=rank,
                    name=site.name,
                    distance=format_distance(site.distance_m),
                    kind=label(domain, "kind", site.kind, lang),
                    address=site.address or site.municipality,
                    status=status_text(domain, statuses.get(site.id), lang, "utter_shelter_status_line"),
                    warning=warning,
                    map=map_link(site.lat, site.lon),
                )
            )
        dispatcher.utter_message(
            response="utter_shelter_results",
            place=place,
            hazard_label=hazard_label,
            sites="\n".join(items),
        )
        note_if_area(dispatcher, tracker, place)
        return [SlotSet("hazard", None)]


class ActionCheckShelterStatus(Action):
    def name(self) -> str:
        return "action_check_shelter_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = language(tracker)
        shelter_id = tracker.get_slot("shelter_id")
        reset: list[EventType] = [SlotSet("shelter_name", None), SlotSet("shelter_id", None)]
        try:
            idx = resources.gis_index()
            if not shelter_id:
                # A question in the middle of another form: the name is in the message.
                for name in entity_values(tracker, "shelter_name"):
                    matches = await resources.run_blocking(idx.search_sites, str(name), 3)
                    if matches and matches[0].confident:
                        shelter_id = matches[0].site.id
                        break
            if not shelter_id:
                dispatcher.utter_message(response="utter_shelter_status_later")
                return reset
            site = await resources.run_blocking(idx.get_site, shelter_id)
            store = resources.report_store()
            statuses = await resources.run_blocking(store.latest_shelter_status, [shelter_id])
        except Exception:  # noqa: BLE001
            logger.exception("shelter status lookup failed")
            dispatcher.utter_message(response="utter_gis_unavailable")
            return reset
        name = site.name if site else tracker.get_slot("shelter_name")
        address = (site.address or site.municipality) if site else ""
        status = statuses.get(shelter_id)
        if status is None:
            dispatcher.utter_message(response="utter_shelter_status_unknown", name=name, address=address)
            return reset
        text_vars = status_values(domain, status, lang)
        dispatcher.utter_message(
            response="utter_shelter_status_answer", name=name, address=address, **text_vars
        )
        return reset


def status_values(domain: dict[str, Any], status: Any, lang: str) -> dict[str, str]:
    at = status.at
    if at is not None and at.tzinfo is not None:
        at = at.astimezone()
    shortages = ""
    if status.shortages:
        items = join([label(domain, "supply", s, lang) for s in status.shortages], lang)
        shortages = render(domain, "utter_shelter_shortages", lang, items=items)
    return {
        "status": label(domain, "status", status.status, lang),
        "congestion": label(domain, "congestion", status.congestion, lang) if status.congestion else "-",
        "time": at.strftime("%m/%d %H:%M") if at else "",
        "shortages": shortages,
    }
