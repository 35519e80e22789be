"""Report actions: read back the damage report, store it, and store shelter status reports."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.intake import latest_message_id, mark_handled
from actions.render import join, label, language, render
from actions.shelters import place_label
from actions.tracking import channel_name, coords

logger = logging.getLogger(__name__)

REPORT_SLOTS = (
    "damage_type", "description", "affected", "photo_ref", "urgency", "report_confirm", "report_fix",
    "report_needs",
)  # fmt: skip
SHELTER_STATUS_SLOTS = ("shelter_name", "shelter_id", "congestion", "shortages")


def place_fields(tracker: Tracker) -> dict[str, Any]:
    """lat / lon / place_text for the store from the location slots."""
    point = coords(tracker)
    fields: dict[str, Any] = {"lat": None, "lon": None, "place_text": None}
    if point:
        fields["lat"], fields["lon"] = point
    if tracker.get_slot("location_source") != "gps" and tracker.get_slot("location"):
        parts = [tracker.get_slot("location"), tracker.get_slot("location_address")]
        fields["place_text"] = " ".join(str(p) for p in parts if p)[:500]
    return fields


def resident(store: Any, tracker: Tracker) -> str:
    """The resident's pseudonym: the channel put it in the sender id (``<channel>:<hash>``,
    :mod:`bot.identity`), so it is read, not hashed again; a sender of another channel is never
    taken as this channel's resident."""
    return str(store.resident_id(channel_name(tracker), tracker.sender_id))


class ActionAskReportConfirm(Action):
    """Read the report back before it is sent (asks the ``report_confirm`` slot)."""

    def name(self) -> str:
        return "action_ask_report_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = language(tracker)
        affected = tracker.get_slot("affected")
        if affected == "unknown" or affected is None:
            affected_text = render(domain, "utter_unknown_value", lang)
        else:
            affected_text = str(affected)
        photo = tracker.get_slot("photo_ref")
        photo_text = (
            render(domain, "utter_photo_received", lang)
            if photo and photo != "none"
            else render(domain, "utter_no_photo", lang)
        )
        place = place_label(tracker, domain, lang)
        if tracker.get_slot("location_address") and tracker.get_slot("location_source") != "gps":
            place = f"{place}（{tracker.get_slot('location_address')}）"
        dispatcher.utter_message(
            response="utter_ask_report_confirm",
            category=label(domain, "category", tracker.get_slot("damage_type"), lang),
            place=place,
            description=tracker.get_slot("description") or "-",
            affected=affected_text,
            photo=photo_text,
            urgency_label=label(domain, "urgency", tracker.get_slot("urgency"), lang),
        )
        return []


class ActionSubmitReport(Action):
    def name(self) -> str:
        return "action_submit_report"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        reset: list[EventType] = [SlotSet(s, None) for s in REPORT_SLOTS]
        if tracker.get_slot("report_confirm") is not True:
            return reset
        affected = tracker.get_slot("affected")
        photo = tracker.get_slot("photo_ref")
        try:
            store = resources.report_store()
            report = await resources.run_blocking(
                store.create_report,
                category=tracker.get_slot("damage_type") or "other",
                text=tracker.get_slot("description"),
                headcount=affected
                if isinstance(affected, int) and not isinstance(affected, bool)
                else None,
                urgency=tracker.get_slot("urgency") or "normal",
                needs=list(tracker.get_slot("report_needs") or []),
                photos=[photo] if photo and photo != "none" else [],
                channel=channel_name(tracker),
                resident=resident(store, tracker),
                source_message=latest_message_id(tracker),  # a turn run again stores it once
                **place_fields(tracker),
            )
        except Exception:  # noqa: BLE001 - keep the slots so the resident can try again
            logger.exception("storing a report failed")
            dispatcher.utter_message(response="utter_report_failed")
            return [SlotSet("report_confirm", None), SlotSet("report_fix", None)]
        dispatcher.utter_message(response="utter_report_saved", report_id=report.id)
        return [
            *reset,
            SlotSet("about_someone_else", "no"),
            *await mark_handled(tracker, f"report {report.id}"),
        ]


class ActionSubmitShelterStatus(Action):
    def name(self) -> str:
        return "action_submit_shelter_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = language(tracker)
        reset: list[EventType] = [SlotSet(s, None) for s in SHELTER_STATUS_SLOTS]
        shelter_id = tracker.get_slot("shelter_id")
        congestion = tracker.get_slot("congestion")
        shortages = list(tracker.get_slot("shortages") or [])
        name = tracker.get_slot("shelter_name") or ""
        congestion_label = label(domain, "congestion", congestion, lang)
        short_text = ""
        if shortages:
            items = join([label(domain, "supply", s, lang) for s in shortages], lang)
            short_text = render(domain, "utter_shelter_shortages", lang, items=items)
        try:
            idx = resources.gis_index()
            site = await resources.run_blocking(idx.get_site, shelter_id) if shelter_id else None
            store = resources.report_store()
            ja_text = f"{name}: {label(domain, 'congestion', congestion, 'ja')}"
            if shortages:
                ja_text += " / 不足: " + "、".join(
                    label(domain, "supply", s, "ja") for s in shortages
                )
            report = await resources.run_blocking(
                store.create_report,
                category="shelter_status",
                text=ja_text,
                lat=site.lat if site else None,
                lon=site.lon if site else None,
                place_text=(f"{site.name} {site.address}" if site else name)[:500] or None,
                needs=shortages,
                shelter_id=shelter_id,
                channel=channel_name(tracker),
                resident=resident(store, tracker),
                source_message=latest_message_id(tracker),
            )
        except Exception:  # noqa: BLE001
            logger.exception("storing a shelter status report failed")
            dispatcher.utter_message(response="utter_report_failed")
            return reset
        dispatcher.utter_message(
            response="utter_shelter_status_saved",
            name=name,
            congestion=congestion_label,
            shortages=short_text,
            report_id=report.id,
        )
        return [*reset, *await mark_handled(tracker, f"report {report.id}")]
