"""Hazard check: every zone at the place in plain words, with what to do.

"Not inside any loaded zone" is never reported as safe: without covering data the answer says
there is no data; with data it names the layers checked and says other hazards may exist.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.render import join, label, language, render
from actions.shelters import note_if_area, place_label
from actions.tracking import coords

logger = logging.getLogger(__name__)

DEEP_M = 3.0  # above 3 m the second floor floods: vertical evacuation is not enough
FLOOR_M = 0.5  # 0.5 m reaches the floor of a house


def depth_advice(zone: Any) -> str:
    """Response name of the advice for an inundation zone."""
    if zone.kind == "tsunami":
        return "utter_advice_tsunami"
    lo, hi = zone.depth_min_m, zone.depth_max_m
    if lo is None and hi is None:
        return "utter_advice_depth_unknown"
    if lo is not None and lo >= DEEP_M:
        return "utter_advice_depth_deep"
    if hi is not None and hi <= FLOOR_M:
        return "utter_advice_depth_low"
    return "utter_advice_depth_mid"


def zone_line(domain: dict[str, Any], zone: Any, lang: str) -> str:
    if zone.kind == "landslide":
        special = zone.zone_class == "special_warning"
        return render(
            domain, "utter_hazard_zone_landslide", lang,
            zone_class=label(domain, "zone_class", zone.zone_class or "warning", lang),
            phenomenon=label(domain, "phenomenon", zone.phenomenon, lang) or label(domain, "hazard", "landslide", lang),
            name=f" {zone.name}" if zone.name else "",
            advice=render(domain, "utter_advice_landslide_special" if special else "utter_advice_landslide", lang),
        )
    river = ""
    if zone.river:
        river = f" ({zone.river})" if lang == "en" else f"（{zone.river}）"
    advice = render(domain, depth_advice(zone), lang)
    if zone.kind == "tsunami" and zone.depth_min_m is not None and zone.depth_min_m >= DEEP_M:
        advice += " " + render(domain, "utter_advice_depth_deep", lang)
    common = {"kind": label(domain, "hazard", zone.kind, lang), "river": river, "advice": advice}
    if zone.label:
        return render(domain, "utter_hazard_zone_depth", lang, label=zone.label, **common)
    return render(domain, "utter_hazard_zone_rank", lang, level=zone.level if zone.level is not None else "?", **common)


class ActionCheckHazard(Action):
    def name(self) -> str:
        return "action_check_hazard"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = language(tracker)
        point = coords(tracker)
        if point is None:
            dispatcher.utter_message(response="utter_ask_location")
            return []
        try:
            idx = resources.gis_index()
            answer = await resources.run_blocking(idx.hazards_at, point[0], point[1])
        except Exception:  # noqa: BLE001
            logger.exception("hazard query failed")
            dispatcher.utter_message(response="utter_gis_unavailable")
            return []
        place = place_label(tracker, domain, lang)
        if answer.zones:
            # Deepest / most severe first.
            zones = sorted(answer.zones, key=lambda z: (-(z.depth_min_m or 0), -(z.level or 0)))
            lines = list(dict.fromkeys(zone_line(domain, z, lang) for z in zones))
            dispatcher.utter_message(response="utter_hazard_results", place=place, zones="\n".join(lines))
            note_if_area(dispatcher, tracker, place)
            return []
        if not answer.coverage:
            dispatcher.utter_message(response="utter_hazard_no_data", place=place)
            note_if_area(dispatcher, tracker, place)
            return []
        kinds = list(dict.fromkeys(str(c.get("kind")) for c in answer.coverage if c.get("kind")))
        layers = join([label(domain, "hazard", k, lang) for k in kinds], lang)
        dispatcher.utter_message(response="utter_hazard_none_in_coverage", place=place, layers=layers)
        note_if_area(dispatcher, tracker, place)
        return []
