"""Disaster information: the latest notices stored by officials (``store.latest_notices``)."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.intake import keep_if_uncertain
from actions.render import language, render

logger = logging.getLogger(__name__)

MAX_NOTICES = 3
JST = ZoneInfo("Asia/Tokyo")


class ActionAnswerDisasterInfo(Action):
    def name(self) -> str:
        return "action_answer_disaster_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = language(tracker)
        try:
            store = resources.report_store()
            notices = await resources.run_blocking(store.latest_notices, MAX_NOTICES)
        except Exception:  # noqa: BLE001
            logger.exception("reading notices failed")
            notices = []
        lines = [
            render(
                domain,
                "utter_notice_item",
                lang,
                time=n.created_at.astimezone(JST).strftime("%m/%d %H:%M"),
                title=n.title,
            )
            for n in notices
        ]
        if not lines:
            dispatcher.utter_message(response="utter_no_notices")
        else:
            dispatcher.utter_message(response="utter_disaster_notices", notices="\n".join(lines))
        # a statement read as a question about the news (「なんか外がへん」) may be a report
        await keep_if_uncertain(dispatcher, tracker, statements=True)
        return []
