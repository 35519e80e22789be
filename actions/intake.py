"""Intake: nothing a resident writes is lost.

``action_keep_message`` runs where a message starts a report or a registration, marks a danger,
or ends in a fallback or an out-of-scope answer (see the rules). It keeps the message in the
officials' inbox (「未対応メッセージ」) with the resident's pseudonym, channel, the danger marks of
the NLU's safety layer, the place written in it and the last location shared; the flow that
stores a report or a registration later marks that row handled (:func:`mark_handled`). A form
that is cancelled or abandoned leaves it in the inbox, where a person sees it.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import render, resources
from actions.parsing import asks_something, parse_stated_count, parse_supplies
from actions.tracking import channel_name, coords, entity_values, latest_intent, latest_text

logger = logging.getLogger(__name__)

# Reports and registrations start with the 119 line (emergencies have theirs from the rules).
_REPORT_STARTS = frozenset(
    {"report_damage", "report_shelter_status", "request_supplies", "register_evacuation"}
)
# A first message at least this long describes what happened (「道路が冠水」 alone does not).
_DESCRIPTIVE_LENGTH = 12
# Intents whose message the bot could not act on: kept with this reason, and the resident is told
# it reached a person with this response.
_TOLD = {
    "nlu_fallback": ("fallback", "utter_message_kept"),
    "out_of_scope": ("out_of_scope", "utter_message_kept"),
    "inform": ("unhandled", "utter_inform_kept"),  # an answer outside any form
    # 「人と話したい」「ちゃんと人が見てる？」 and complaints the model reads as such: a person should see it.
    "bot_challenge": ("wants_person", "utter_message_kept"),
}
# An answer outside any form (「車中泊 大人3と犬1匹」「水 3人分 〇〇町2-5」) may be the start of a flow
# the model did not read: each entity it carries points at the flow that would use it, offered as a
# button after the message is kept (the kept message stays in the inbox either way).
_FLOW_OF_ENTITY = (
    ("damage_type", "report_damage"),
    ("hazard", "report_damage"),
    ("supply", "request_supplies"),
    ("place_type", "register_evacuation"),
    ("congestion", "report_shelter_status"),
)
# 「実家の父が…」「隣のおばあちゃんが…」: the report is about someone else, so the place asked is theirs.
_SOMEONE_ELSE = re.compile(
    r"(実家|親|父|母|祖父|祖母|じいちゃん|ばあちゃん|爺|婆|おじいさん|おばあさん|兄|姉|弟|妹|夫|妻|旦那|嫁|"
    r"息子|娘|子ども|子供|叔|伯|いとこ|孫|隣|となり|近所|友人|友達|知人|同僚|親戚|家族|"
    r"\b(my|our) (father|mother|dad|mum|mom|grand\w*|parents?|son|daughter|brother|sister|"
    r"uncle|aunt|neighbou?r|friend)\b)",
    re.IGNORECASE,
)


def latest_message_id(tracker: Tracker) -> str | None:
    """The channel's id of the latest user message (Rasa's ``message_id``), if any."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            mid = event.get("message_id")
            return str(mid)[:255] if mid else None
    return None


def about_someone_else(text: str) -> bool:
    """True when the message speaks about a relative or a neighbour rather than the writer."""
    return bool(_SOMEONE_ELSE.search(text or ""))


async def mark_handled(tracker: Tracker, note: str) -> list[EventType]:
    """Mark the inbox row of the current flow handled (a report or registration took it over).

    Failures are logged, never raised: the report itself is already stored.
    """
    message_id = tracker.get_slot("inbox_message_id")
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        return []
    try:
        store = resources.report_store()
        await resources.run_blocking(
            store.set_message_handled, message_id, handled=True, by="bot", note=note[:2000]
        )
    except Exception:  # noqa: BLE001 - the inbox row stays unhandled and visible; nothing is lost
        logger.exception("marking inbox message %s handled failed", message_id)
    return [SlotSet("inbox_message_id", None)]


#: Below this confidence the model's reading of a message is uncertain: on the held-out file (30
#: Nov night model) the predictions between the fallback threshold (0.55) and 0.70 were right 25
#: times and wrong 13, against 29 wrong in 941 above it. An answer-only reply to such a message
#: (:func:`keep_if_uncertain`) also keeps the message for a person.
UNCERTAIN_BELOW = 0.70


def _confidence(tracker: Tracker) -> float | None:
    value = (tracker.latest_message.get("intent") or {}).get("confidence")
    return float(value) if isinstance(value, (int, float)) else None


async def _add_to_inbox(tracker: Tracker, text: str, reason: str, intent: str | None) -> Any:
    """Store ``text`` in the officials' inbox with what the NLU found; returns the row."""
    threats = [str(v) for v in entity_values(tracker, "life_threat")]
    places = [str(v) for v in entity_values(tracker, "place_text") if v]
    point = coords(tracker)
    confidence = _confidence(tracker)
    store = resources.report_store()
    return await resources.run_blocking(
        lambda: store.add_inbox_message(
            channel=channel_name(tracker),
            user_id=tracker.sender_id,  # <channel>:<hash>: the pseudonym, read once
            text=text,
            reason=reason,
            intent=intent,
            confidence=confidence,
            danger=bool(threats) or intent == "emergency",
            danger_terms=threats,
            place_text=places[0] if places else None,
            lat=point[0] if point else None,
            lon=point[1] if point else None,
            channel_message_id=latest_message_id(tracker),
        )
    )


async def keep_if_uncertain(
    dispatcher: CollectingDispatcher, tracker: Tracker, statements: bool = False
) -> None:
    """After an answer-only reply: a message the model read with a confidence below
    :data:`UNCERTAIN_BELOW` is also kept for a person (reason ``uncertain``) and the resident is
    told so (「なんか外がへん」 read as a question about disaster news may be a report no one sees).
    With ``statements``, so is a message that asks nothing (reason ``statement``,
    :func:`actions.parsing.asks_something`): 「ｑｗｅｒｔｙ なんか外がへん」 read as a question about
    disaster news at 0.86, 「防災メールが届かない」."""
    confidence = _confidence(tracker)
    text = latest_text(tracker).strip()
    if not text or text.startswith("/"):
        return
    if confidence is not None and confidence < UNCERTAIN_BELOW:
        reason = "uncertain"
    elif statements and not asks_something(text):
        reason = "statement"
    else:
        return
    try:
        await _add_to_inbox(tracker, text, reason, latest_intent(tracker))
    except Exception:  # noqa: BLE001 - the answer was given; say the message did not reach a person
        logger.exception("keeping an answered message for the inbox failed")
        dispatcher.utter_message(response="utter_message_not_kept")
        return
    dispatcher.utter_message(response="utter_message_kept")


class ActionKeepIfUncertain(Action):
    """After an answer from the domain (pets, accessibility, what to bring): keep the message for
    a person when the model read it with low confidence (:func:`keep_if_uncertain`)."""

    def name(self) -> str:
        return "action_keep_if_uncertain"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        await keep_if_uncertain(dispatcher, tracker)
        return []


class ActionKeepMessage(Action):
    """Keep the latest message for the officials' inbox (see the module docstring)."""

    def name(self) -> str:
        return "action_keep_message"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = latest_text(tracker).strip()
        intent = latest_intent(tracker)
        if not text or text.startswith("/"):
            return []
        reason, told = _TOLD.get(intent or "", ("in_progress", None))
        try:
            row = await _add_to_inbox(tracker, text, reason, intent)
        except Exception:  # noqa: BLE001 - tell the resident instead of losing the message silently
            logger.exception("keeping a message for the inbox failed")
            if intent in _TOLD:
                dispatcher.utter_message(response="utter_message_not_kept")
            return []
        if told:
            dispatcher.utter_message(response=told)
            if intent == "inform":
                offer_flows(dispatcher, tracker, domain)
            return []
        if intent in _REPORT_STARTS:
            # Whoever writes a report may be in danger the model did not see: the 119 line first.
            dispatcher.utter_message(response="utter_emergency")
        events: list[EventType] = [SlotSet("inbox_message_id", row.id)]
        if intent == "report_damage":
            events += prefill_report(text)
        return events


def flows_for_entities(tracker: Tracker) -> dict[str, dict[str, list[str]]]:
    """The flows an answer given outside any form points at, from the entities found in it (in
    :data:`_FLOW_OF_ENTITY`'s order), each with the values of those entities (「カイロと毛布」 →
    ``{"request_supplies": {"supply": ["heat_pack", "blankets"]}}``)."""
    flows: dict[str, dict[str, list[str]]] = {}
    for entity, flow in _FLOW_OF_ENTITY:
        values = list(dict.fromkeys(str(v) for v in entity_values(tracker, entity)))
        if values:
            flows.setdefault(flow, {})[entity] = values[:5]
    return flows


def offer_flows(dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> None:
    """Offer the flows :func:`flows_for_entities` finds as buttons; a tap starts the form with
    the values already said (the payload carries them, so 「何が必要ですか」 is not asked again);
    nothing when the answer carries no such entity."""
    flows = flows_for_entities(tracker)
    if not flows:
        return
    lang = render.language(tracker)
    buttons = [
        {
            "title": render.template(domain, f"utter_label_flow_{flow}", lang),
            "payload": f"/{flow}" + json.dumps(entities, ensure_ascii=False),
        }
        for flow, entities in flows.items()
    ]
    dispatcher.utter_message(response="utter_inform_offer", buttons=buttons)


def prefill_report(text: str) -> list[EventType]:
    """A damage report that says more than its kind (「1階浸水、2階に3人、水と食料がない」)
    fills the description, the head-count and the needs from the same message; the form then
    asks only what is missing."""
    events: list[EventType] = [SlotSet("about_someone_else", "no")]
    if len(text) >= _DESCRIPTIVE_LENGTH:
        events.append(SlotSet("description", text[:1000]))
    count = parse_stated_count(text)
    if count:
        events.append(SlotSet("affected", count))
    needs = parse_supplies(text)
    if needs:
        events.append(SlotSet("report_needs", needs))
    return events
