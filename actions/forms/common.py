"""Helpers shared by the form validators."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.parsing import is_none_answer, parse_count, parse_supplies, parse_yes_no
from actions.tracking import entity_values, latest_intent, latest_text

logger = logging.getLogger(__name__)


def answer(dispatcher: CollectingDispatcher, slot: str, value: Any) -> dict[str, Any]:
    """``{slot: value}``; an answer that could not be read (None) is said so and asked again."""
    if value is None:
        dispatcher.utter_message(response="utter_not_understood_answer")
    return {slot: value}


def yes_no(slot_value: Any, tracker: Tracker) -> bool | None:
    """Affirm/deny intent first (buttons), then the words of the answer."""
    if isinstance(slot_value, bool):
        return slot_value
    intent = latest_intent(tracker)
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    return parse_yes_no(str(slot_value or ""))


def count(slot_value: Any, tracker: Tracker, entity: str = "number") -> int | None:
    """A headcount from the number entity or the answer text (三人, ３名, 十二)."""
    for value in entity_values(tracker, entity):
        n = parse_count(value)
        if n is not None:
            return n
    return parse_count(slot_value if slot_value is not None else latest_text(tracker))


def supplies(slot_value: Any, tracker: Tracker) -> list[str] | None:
    """Supply kinds named (entities and words); [] for 'none'; None when unclear."""
    if latest_intent(tracker) == "deny":
        return []
    found = parse_supplies([str(v) for v in entity_values(tracker, "supply")])
    text = str(slot_value) if isinstance(slot_value, str) else latest_text(tracker)
    for kind in parse_supplies(text):
        if kind not in found:
            found.append(kind)
    if isinstance(slot_value, list):
        for kind in parse_supplies([str(v) for v in slot_value]):
            if kind not in found:
                found.append(kind)
    if found:
        return found
    if is_none_answer(text):
        return []
    return None


async def resolve_shelter(
    text: str, dispatcher: CollectingDispatcher
) -> dict[str, Any] | None:
    """Match a shelter name; confident → its slots; several candidates → buttons and None."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        idx = resources.gis_index()
        matches = await resources.run_blocking(idx.search_sites, text, 5)
    except Exception:  # noqa: BLE001
        logger.exception("site search failed")
        dispatcher.utter_message(response="utter_gis_unavailable")
        return None
    if not matches:
        dispatcher.utter_message(response="utter_shelter_not_found", shelter_text=text)
        return None
    best = matches[0]
    if best.confident:
        return {"shelter_name": best.site.name, "shelter_id": best.site.id}
    seen: set[str] = set()
    buttons = []
    for m in matches:
        title = m.site.name if m.site.name not in seen else f"{m.site.name}（{m.site.address}）"
        seen.add(m.site.name)
        buttons.append({"title": title[:40], "payload": f"/inform{{\"shelter_name\": \"{m.site.name}\"}}"})
        if len(buttons) == 3:
            break
    dispatcher.utter_message(response="utter_shelter_choose", buttons=buttons)
    return None
