"""A confirmed report's turn run twice (the Rasa process killed after the action stored it, then
the durable intake runs the message again; or a retried turn) stores one report, and both runs
answer with its number. The message id is Rasa's ``message_id`` of the confirming message
(LINE's ``webhookEventId``)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from actions.reports import ActionSubmitReport, ActionSubmitShelterStatus
from actions.supplies import ActionSubmitSupplies
from bot.store import ReportQuery
from tests.actions.conftest import make_tracker, responses, run
from tests.actions.test_reports import REPORT


def confirmed(slots: dict[str, Any], message_id: str | None, channel: str = "line") -> Tracker:
    tracker = make_tracker(slots, text="はい", intent="affirm", sender_id="line:abc", channel=channel)
    tracker.events[-1]["message_id"] = message_id  # what the connector gave Rasa
    return tracker


def report_numbers(messages: list[dict[str, Any]]) -> list[int]:
    return [m["report_id"] for m in messages if "report_id" in m]


def test_a_damage_report_turn_run_twice_stores_one_report(env: Any, domain: Any) -> None:
    _, first = run(ActionSubmitReport(), confirmed(REPORT, "EVCONFIRM1"), domain)
    _, again = run(ActionSubmitReport(), confirmed(REPORT, "EVCONFIRM1"), domain)
    assert responses(first) == responses(again) == ["utter_report_saved"]
    assert report_numbers(first) == report_numbers(again)
    assert len(env.list_reports(ReportQuery()).reports) == 1


def test_another_confirming_message_is_another_report(env: Any, domain: Any) -> None:
    run(ActionSubmitReport(), confirmed(REPORT, "EVCONFIRM1"), domain)
    run(ActionSubmitReport(), confirmed(REPORT, "EVCONFIRM2"), domain)
    run(ActionSubmitReport(), confirmed(REPORT, None, channel="rest"), domain)
    run(ActionSubmitReport(), confirmed(REPORT, None, channel="rest"), domain)  # no id: kept
    assert len(env.list_reports(ReportQuery()).reports) == 4


def test_shelter_status_and_supplies_turns_run_twice_store_once(env: Any, domain: Any) -> None:
    shelter = {"shelter_name": "函館市民会館", "congestion": "crowded", "shortages": ["water"]}
    supplies = {"supplies": ["water", "blanket"], "supply_headcount": 3}
    for _ in range(2):
        run(ActionSubmitShelterStatus(), confirmed(shelter, "EVSHELTER"), domain)
        run(ActionSubmitSupplies(), confirmed(supplies, "EVSUPPLIES"), domain)
    reports = env.list_reports(ReportQuery()).reports
    assert sorted(r.category for r in reports) == ["shelter_status", "supply_request"]
