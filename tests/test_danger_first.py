"""Danger first, the inbox, nothing lost: the real trained bot over REST.

- Our own emergency examples (tests/bot/nlu/test_danger.py THREATS) get 119 in the FIRST reply,
  sent cold and in the middle of a form.
- The held-out danger file (tests/data/danger_heldout.yml, written by someone who saw neither
  the lexicon nor the training data; its test half is never used to write patterns): recall and
  precision of the bot's emergency answer.
- 50 varied messages (tests/data/varied_messages.yml): each ends in a report, a registration or
  the officials' inbox.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.bot.nlu.test_danger import THREATS

pytestmark = pytest.mark.rasa

DATA = Path(__file__).parent / "data"
_ids = itertools.count()


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def first(replies: list[dict]) -> str:
    return replies[0].get("text", "") if replies else ""


def sender(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def store_for(stack: Any) -> Any:
    from bot.store import Store

    return Store(stack.env["DATABASE_URL"])


def start_shelter_search(stack: Any, who: str) -> None:
    """Open a form (the shelter search asks which hazard) so the next message comes mid-form."""
    reply = texts(stack.rest(who, "避難所を探したい"))
    # the form's first question (the hazard, or the place when the hazard is known); not the
    # fallback, whose 「避難場所」「危険の確認」 list also holds 場所
    assert "どの災害" in reply or "場所を教えてください" in reply, reply


@pytest.mark.parametrize("text", THREATS)
def test_emergency_gets_119_first_cold(rasa_stack, text: str) -> None:
    assert "119" in first(rasa_stack.rest(sender("cold"), text))


@pytest.mark.parametrize("text", THREATS)
def test_emergency_gets_119_first_mid_form(rasa_stack, text: str) -> None:
    who = sender("mid")
    start_shelter_search(rasa_stack, who)
    replies = rasa_stack.rest(who, text)
    assert "119" in first(replies)
    # the form is left and the urgent report is offered
    assert "報告" in texts(replies)


def test_person_who_cannot_evacuate_is_recorded_not_sent_on_a_shelter_search(rasa_stack) -> None:
    who = sender("assist")
    replies = rasa_stack.rest(who, "足が悪いので避難所まで行けません")
    reply = texts(replies)
    assert "119" in first(replies)
    assert "垂直避難" in reply and "どの災害" not in reply
    assert "場所" in reply  # the urgent report asks where the person is
    (row,) = [
        m
        for m in store_for(rasa_stack).list_inbox(handled=None, limit=200).items
        if m.text == "足が悪いので避難所まで行けません"
    ]
    assert row.intent == "needs_assistance"


def test_relative_from_afar_is_asked_where_that_person_is(rasa_stack) -> None:
    replies = rasa_stack.rest(sender("afar"), "実家の父が寝たきりで一人、避難できないみたいです")
    reply = texts(replies)
    assert "その方" in reply and "あなたの現在地ではなく" in reply


def test_missing_relative_is_a_safety_check(rasa_stack) -> None:
    reply = texts(
        rasa_stack.rest(sender("safety"), "祖母と昨日から連絡が取れない、〇〇町に一人で住んでる")
    )
    assert "171" in reply and "119" in reply


def test_river_overflowing_needs_no_hazard_question(rasa_stack) -> None:
    reply = texts(rasa_stack.rest(sender("river"), "川があふれそう、どこに逃げればいい？"))
    assert "どの災害" not in reply
    assert "場所" in reply


def test_unplaceable_message_reaches_the_inbox_api(rasa_stack) -> None:
    text = "ｑｗｅｒｔｙ ｚｘｃｖ なんか外がへん"
    reply = texts(rasa_stack.rest(sender("inbox"), text))
    assert "119" in reply and "担当者に届けました" in reply
    out = subprocess.run(
        [_bosai(), "officials", "add", "inbox-tester", "--role", "operator"],
        env=rasa_stack.env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    token = next(w for w in out.split() if w.startswith("bosai_"))
    req = urllib.request.Request(
        rasa_stack.officials_url + "/api/v1/messages?handled=false",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = json.loads(resp.read())
    items = body.get("items") or body.get("messages") or []
    row = next((m for m in items if m["text"] == text), None)
    assert row is not None, body
    # Unplaceable: the fallback, or (since 30 Nov night) an answer the model gave on an uncertain
    # reading, or (1 Dec) an answer to a "question" about disaster news that asks nothing; both
    # keep the message for a person too (actions/intake.py keep_if_uncertain).
    assert (
        (row["reason"], row["intent"]) == ("fallback", "nlu_fallback")
        or (row["reason"] == "uncertain" and row["confidence"] < 0.70)
        or (row["reason"], row["intent"]) == ("statement", "ask_disaster_info")
    ), row


def _bosai() -> str:
    from tests.conftest import BOSAI

    return BOSAI


def _heldout_test_half() -> dict[str, list[str]]:
    data = yaml.safe_load((DATA / "danger_heldout.yml").read_text(encoding="utf-8"))
    return {k: [str(t) for t in data[k]][0::2] for k in ("life_threat", "not_life_threat")}


EMERGENCY_LINE = "命に関わる場合はすぐに119番（警察は110番）へ"  # utter_emergency's first line


def is_emergency_answer(replies: list[dict]) -> bool:
    """The emergency flow: utter_emergency's 119 line first (Japanese, or it followed by the
    English line), then the offer of the urgent report. (Reports and registrations also start
    with the 119 line, but go on with their own questions.)"""
    texts_ = [r.get("text", "") for r in replies]
    return (
        bool(texts_)
        and texts_[0].strip().split("\n")[0] == EMERGENCY_LINE
        and any("緊急の報告" in t or "urgent report" in t for t in texts_[1:])
    )


def test_heldout_emergency_recall_and_precision(rasa_stack) -> None:
    """Cold, on the held-out test half: recall = share of life threats answered by the emergency
    flow (utter_emergency's 119 line, then the urgent-report offer); precision = share of the
    emergency answers that were life threats. Every threat must have 119 in its first reply."""
    half = _heldout_test_half()
    replies = {t: rasa_stack.rest(sender("held"), t) for t in itertools.chain(*half.values())}
    n_threats = len(half["life_threat"])  # counts only: the test half is never printed
    tp = sum(is_emergency_answer(replies[t]) for t in half["life_threat"])
    fp = sum(is_emergency_answer(replies[t]) for t in half["not_life_threat"])
    with_119 = sum("119" in first(replies[t]) for t in half["life_threat"])
    recall = tp / n_threats
    precision = tp / (tp + fp) if tp + fp else 0.0
    print(
        f"held-out test half: recall {recall:.3f}, precision {precision:.3f} "
        f"({tp} of {len(half['life_threat'])} threats; {fp} false alarms in "
        f"{len(half['not_life_threat'])} look-alikes); 119 first for {with_119}"
    )
    assert recall >= 0.95 and precision >= 0.90
    assert with_119 == n_threats


def test_nothing_a_resident_writes_is_lost(rasa_stack) -> None:
    """Each of 50 varied messages ends in a report, a registration or the inbox (questions the
    bot answers itself — `any` — are answered, not kept)."""
    cases = yaml.safe_load((DATA / "varied_messages.yml").read_text(encoding="utf-8"))["messages"]
    assert len(cases) >= 50
    for case in cases:
        replies = rasa_stack.rest(sender("varied"), case["text"])
        assert replies, case["text"]
    store = store_for(rasa_stack)
    kept = {m.text for m in store.list_inbox(handled=None, limit=200).items}
    page = store.list_inbox(handled=None, limit=200)
    while page.next_cursor:
        page = store.list_inbox(handled=None, limit=200, cursor=page.next_cursor)
        kept |= {m.text for m in page.items}
    lost = [c["text"] for c in cases if c["expect"] != "any" and c["text"].strip() not in kept]
    assert not lost, f"{len(lost)} messages reached no one: {lost}"
