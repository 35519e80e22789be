"""Disaster information: notices stored by officials when the store offers them."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.render import language, render

logger = logging.getLogger(__name__)

MAX_NOTICES = 3


def _field(item: Any, *names: str) -> Any:
    for n in names:
        value = item.get(n) if isinstance(item, dict) else getattr(item, n, None)
        if value:
            return value
    return None


def fetch_notices(store: Any) -> list[Any]:
    """Latest notices when the store has a notices API (optional feature), else []."""
    for name in ("latest_notices", "list_notices"):
        func = getattr(store, name, None)
        if callable(func):
            try:
                return list(func(limit=MAX_NOTICES))[:MAX_NOTICES]
            except TypeError:
                return list(func())[:MAX_NOTICES]
    return []


class ActionAnswerDisasterInfo(Action):
    def name(self) -> str:
        return "action_answer_disaster_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = language(tracker)
        try:
            store = resources.report_store()
            notices = await resources.run_blocking(fetch_notices, store)
        except Exception:  # noqa: BLE001
            logger.exception("reading notices failed")
            notices = []
        lines = []
        for n in notices:
            title = _field(n, "title", "text", "body", "message")
            if not title:
                continue
            at = _field(n, "at", "created_at", "published_at", "sent_at")
            time = at.strftime("%m/%d %H:%M") if hasattr(at, "strftime") else str(at or "")
            lines.append(render(domain, "utter_notice_item", lang, time=time, title=str(title)[:300]))
        if not lines:
            dispatcher.utter_message(response="utter_no_notices")
            return []
        dispatcher.utter_message(response="utter_disaster_notices", notices="\n".join(lines))
        return []
