"""Hostile bodies to the REST channel (with its token, so they reach parsing).

No 500 for any body; a body that is not ``{"sender": <text>, "message": <text>}`` reaches Rasa
never; odd but valid text reaches Rasa as typed, without control characters.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.channels.core import strip_controls
from tests.channels.helpers import Collector
from tests.channels.test_rest import app_with, post, rest_channel
from tests.fuzz.test_hostile_webhooks import BROKEN_BODIES, ODD_TEXTS

pytestmark = pytest.mark.anyio

BAD_OBJECTS: list[Any] = [
    {},
    {"sender": None, "message": "x"},
    {"sender": 12, "message": "x"},
    {"sender": ["a"], "message": "x"},
    {"sender": {"id": "a"}, "message": "x"},
    {"sender": "", "message": "x"},
    {"sender": "   ", "message": "x"},
    {"sender": "a" * 10_000, "message": "x"},
    {"sender": "a", "message": None},
    {"sender": "a", "message": 12},
    {"sender": "a", "message": ["x"]},
    {"sender": "a", "message": {"text": "x"}},
    {"sender": "a", "message": True},
    {"sender": "\ud800", "message": "x"},
    {"sender": "a\x00b", "message": "x"},
    {"sender": "a", "message": "\udfff"},
    {"sender": "a", "message": "\x00\x01\x1b"},
]


async def test_rest_refuses_broken_bodies_and_forwards_odd_text_as_typed() -> None:
    collector = Collector()
    async with await app_with(rest_channel(per_minute=1000), collector) as base:
        for name, raw in BROKEN_BODIES.items():
            status, answer = await post(base, None, raw=raw or b" ")
            assert status in (400, 413), (name, status, answer)
        for body in BAD_OBJECTS:
            status, answer = await post(base, None, raw=json.dumps(body).encode())
            assert status in (200, 400), (body, status, answer)
        assert collector.messages == []
        for i, text in enumerate(ODD_TEXTS):
            status, answer = await post(base, {"sender": f"odd\u202e{i}", "message": text})
            assert status == 200, (text, answer)
    expected = [strip_controls(t) for t in ODD_TEXTS if not t.startswith("/share_loc")]
    assert sorted(collector.texts) == sorted(expected)
    assert all(m.sender_id.startswith("rest:") for m in collector.messages)


async def test_every_refusal_a_resident_sees_gives_the_emergency_numbers() -> None:
    """A message too long, a broken or foreign location: the reply still says 119 and 110."""
    from bot.channels import core

    collector = Collector()
    async with await app_with(rest_channel(per_minute=1000), collector) as base:
        for text in (
            "助けて" * 500,
            "/share_location[1,2]",
            '/share_location{"latitude": "x", "longitude": 1}',
            core.location_payload(48.85, 2.35),
        ):
            status, answer = await post(base, {"sender": "refused", "message": text})
            assert status == 200 and len(answer) == 1, answer
            assert "119" in answer[0]["text"] and "110" in answer[0]["text"], answer
    assert collector.messages == []
    for name in ("UNSUPPORTED_TEXT", "PHOTO_FAILED_TEXT", "ERROR_TEXT"):
        assert core.EMERGENCY_TEXT in getattr(core, name), name
