"""Helpers shared by the form validators."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.parsing import head_count, is_none_answer, parse_count, parse_supplies, parse_yes_no
from actions.tracking import entity_values, latest_intent, latest_text
from bot import vocabulary

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


def answer_text(slot_value: Any, tracker: Tracker) -> str:
    """The resident's words: the latest message (the slot holds only an entity's value when it
    was filled from one), else the slot's text; "" for a button payload."""
    text = latest_text(tracker)
    if not text.strip() or text.lstrip().startswith("/"):
        text = slot_value if isinstance(slot_value, str) else ""
    return "" if text.lstrip().startswith("/") else text


def code_answer(
    slot_value: Any,
    tracker: Tracker,
    group: str,
    entity: str,
    allowed: Sequence[str] | None = None,
) -> str | None:
    """The code an answer gives: the entity's value first (already a code), else the vocabulary.

    An entity value that is no code of ``group`` (the synonym mapper is not entity-aware:
    ``hazard=fire`` from 「火事」) goes through the vocabulary; a code the answer's text denies
    (「停電はしてない、断水です」 tagged 停電) is not taken.
    """
    codes = allowed if allowed is not None else vocabulary.codes(group)
    text = answer_text(slot_value, tracker)
    denied = vocabulary.denied(group, text) if text else set()
    for value in entity_values(tracker, entity):
        code = value if value in codes else vocabulary.match(group, str(value))
        if code in codes and code not in denied:
            return code
    if isinstance(slot_value, str) and slot_value in codes and slot_value not in denied:
        return slot_value
    code = vocabulary.match(group, text)
    return code if code in codes else None


def count(slot_value: Any, tracker: Tracker, entity: str = "number") -> int | None:
    """A headcount: counted groups written in the answer (「大人3 子ども1」 → 4, 「2階に5名」 → 5),
    else the number entity, else any number in the answer (三人, ３名, 十二)."""
    said = head_count(answer_text(slot_value, tracker))
    if said is not None:
        return said[0]
    for value in entity_values(tracker, entity):
        n = parse_count(value)
        if n is not None:
            return n
    return parse_count(slot_value if slot_value is not None else latest_text(tracker))


def supplies(slot_value: Any, tracker: Tracker) -> list[str] | None:
    """Supply kinds named (entities and words); [] for 'none'; None when unclear.

    Entity values are codes already; the text adds the kinds DIET missed and takes away those it
    says are not needed (「水は足りてる」).
    """
    if latest_intent(tracker) == "deny":
        return []
    text = answer_text(slot_value, tracker)
    found = set(parse_supplies([str(v) for v in entity_values(tracker, "supply")]))
    if isinstance(slot_value, list):
        found |= set(parse_supplies([str(v) for v in slot_value]))
    found -= vocabulary.denied("supply", text)
    found |= set(parse_supplies(text))
    if found:
        return [code for code in vocabulary.codes("supply") if code in found]
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
        matches = await resources.search_sites(text, 5)
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
