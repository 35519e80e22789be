"""Simulated residents for ``bench/load.py``: realistic conversations over Rasa's REST channel.

Each conversation starts the way residents start it in the tests (``tests/test_stories.yml``,
``tests/test_conversation*.py``) and then answers whatever the bot asks, the way a resident taps
the buttons or types: the next message is chosen from the bot's last reply (a question the bot
did not ask in the tests ends the conversation as "unexpected"). A conversation ends when its
goal is reached (shelter list, report number, registration) or after ``MAX_STEPS`` turns.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# Hakodate station area (tests/actions/test_shelters.py HAKODATE): inside the GSI data.
LOCATION = "/share_location" + json.dumps({"latitude": 41.7687, "longitude": 140.7288})
MAX_STEPS = 12

SMALL_TALK = ["こんにちは", "何ができますか", "ありがとうございました", "あなたはロボットですか", "さようなら"]

# (substring of the bot's reply, the resident's answer); first match wins, so the more specific
# phrases come first. None as answer: the goal is reached.
ANSWERS: list[tuple[str, str | None]] = [
    ("受付番号", None),                                   # utter_report_saved
    ("登録しました", None),                                # utter_evacuation_saved
    ("の避難場所です", None),                              # utter_shelter_results
    ("この内容で送信しますか", "/affirm"),                  # utter_ask_report_confirm
    ("どの災害から避難しますか", '/inform{"hazard": "tsunami"}'),
    ("でよろしいですか", "/affirm"),                        # utter_ask_location_confirm
    ("何が起きていますか", "駅前の道路が膝まで冠水しています"),
    ("けがをした人", "/deny"),
    ("写真", "/deny"),
    ("緊急度", '/inform{"urgency": "high"}'),
    ("どんな被害", '/inform{"damage_type": "road_flooded"}'),
    ("どこで避難していますか", '/inform{"place_type": "home"}'),
    ("何人で避難", "3人です"),
    ("高齢の方", "/deny"),
    ("必要な物", "水と毛布"),
    ("連絡してもよいですか", "/affirm"),
    ("位置情報を送る", LOCATION),                           # every utter_ask_*location
]

# kind -> the resident's first message(s); the rest follows from the bot's questions.
OPENERS: dict[str, list[str]] = {
    "shelter": ["近くの避難所はどこですか"],
    "report": ["道路が冠水しています"],
    "register": ["自宅に避難しています、2人です"],
}

Send = Callable[[str, str], Awaitable[list[dict]]]


@dataclass
class Tally:
    """Latencies (ms) of every turn of one measurement, and what went wrong."""

    latencies: list[float] = field(default_factory=list)
    goals: int = 0
    unexpected: list[str] = field(default_factory=list)
    errors: int = 0

    def add(self, ms: float) -> None:
        self.latencies.append(ms)


def text_of(replies: list[dict]) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies)


def answer_to(reply: str) -> tuple[bool, str | None]:
    """(known, answer) for the bot's reply; answer None = goal reached."""
    for phrase, answer in ANSWERS:
        if phrase in reply:
            return True, answer
    return False, None


async def timed(send: Send, sender: str, text: str, tally: Tally) -> str:
    t0 = time.perf_counter()
    replies = await send(sender, text)
    tally.add((time.perf_counter() - t0) * 1000)
    return text_of(replies)


async def small_talk(send: Send, sender: str, tally: Tally) -> None:
    for text in SMALL_TALK:
        if not await timed(send, sender, text, tally):
            tally.unexpected.append(f"no answer to {text!r}")
            return
    tally.goals += 1


async def guided(send: Send, sender: str, kind: str, tally: Tally) -> None:
    """A task conversation: the opener, then answer each question until the goal."""
    message: str | None = OPENERS[kind][0]
    for _ in range(MAX_STEPS):
        assert message is not None
        reply = await timed(send, sender, message, tally)
        known, message = answer_to(reply)
        if not known:
            tally.unexpected.append(f"{kind}: {reply[:60]!r}")
            return
        if message is None:
            tally.goals += 1
            return
    tally.unexpected.append(f"{kind}: no goal after {MAX_STEPS} turns")


async def resident(send: Send, sender: str, tally: Tally) -> None:
    """One resident's whole visit: greeting, a question, shelter search, report, registration."""
    for text in ("こんにちは", "何ができますか"):
        await timed(send, sender, text, tally)
    for kind in ("shelter", "report", "register"):
        await guided(send, sender, kind, tally)
    await timed(send, sender, "ありがとうございました", tally)


async def conversation(kind: str, send: Send, sender: str, tally: Tally) -> None:
    if kind == "smalltalk":
        await small_talk(send, sender, tally)
    elif kind == "resident":
        await resident(send, sender, tally)
    else:
        await guided(send, sender, kind, tally)


KINDS = ("smalltalk", "shelter", "report", "register", "resident")
