"""Supply requests, stored as ``supply_request`` reports."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.intake import latest_message_id, mark_handled
from actions.render import join, label, language
from actions.reports import place_fields, resident
from actions.tracking import channel_name

logger = logging.getLogger(__name__)


class ActionSubmitSupplies(Action):
    def name(self) -> str:
        return "action_submit_supplies"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = language(tracker)
        supplies = list(tracker.get_slot("supplies") or [])
        headcount = tracker.get_slot("supply_headcount")
        reset: list[EventType] = [SlotSet("supplies", None), SlotSet("supply_headcount", None)]
        items = join([label(domain, "supply", s, lang) for s in supplies], lang)
        try:
            store = resources.report_store()
            report = await resources.run_blocking(
                store.create_report,
                category="supply_request",
                text="、".join(label(domain, "supply", s, "ja") for s in supplies),
                needs=supplies,
                headcount=int(headcount) if headcount is not None else None,
                channel=channel_name(tracker),
                resident=resident(store, tracker),
                source_message=latest_message_id(tracker),
                **place_fields(tracker),
            )
        except Exception:  # noqa: BLE001
            logger.exception("storing a supply request failed")
            dispatcher.utter_message(response="utter_report_failed")
            return reset
        dispatcher.utter_message(
            response="utter_supplies_saved", items=items, headcount=headcount, report_id=report.id
        )
        return [*reset, *await mark_handled(tracker, f"report {report.id}")]
