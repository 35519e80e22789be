"""Evacuation registration: one record per resident (keyed hash), updated by later messages."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.intake import mark_handled
from actions.render import join, label, language, render
from actions.reports import place_fields, resident
from actions.tracking import channel_name

logger = logging.getLogger(__name__)


class ActionSubmitEvacuation(Action):
    def name(self) -> str:
        return "action_submit_evacuation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = language(tracker)
        place_type = tracker.get_slot("place_type") or "other"
        headcount = tracker.get_slot("headcount")
        needs = list(tracker.get_slot("needs") or [])
        try:
            store = resources.report_store()
            row = await resources.run_blocking(
                store.upsert_evacuee,
                resident=resident(store, tracker),
                channel=channel_name(tracker),
                place_type=place_type,
                headcount=int(headcount),
                vulnerable=dict(tracker.get_slot("vulnerable") or {}),
                needs=needs,
                consent=bool(tracker.get_slot("consent")),
                **place_fields(tracker),
            )
        except Exception:  # noqa: BLE001
            logger.exception("storing an evacuee registration failed")
            dispatcher.utter_message(response="utter_evacuation_failed")
            return []
        needs_text = ""
        if needs:
            items = join([label(domain, "supply", n, lang) for n in needs], lang)
            needs_text = render(domain, "utter_needs_suffix", lang, items=items)
        updated = (
            row.created_at is not None
            and row.updated_at is not None
            and row.updated_at > row.created_at
        )
        dispatcher.utter_message(
            response="utter_evacuation_updated" if updated else "utter_evacuation_saved",
            place_type_label=label(domain, "place", place_type, lang),
            headcount=int(headcount),
            needs=needs_text,
        )
        if place_type == "car":
            dispatcher.utter_message(response="utter_car_advice")
        # The registration slots stay set: a later "車に移った" or "4人になった" updates it.
        return await mark_handled(tracker, f"evacuee registration {row.id}")
