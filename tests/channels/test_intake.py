"""Durable intake end to end: the real LINE and Telegram connectors in a real Sanic app, fake
platform APIs on loopback, the real store. Nothing a resident sent is lost, nothing is doubled,
one resident's messages keep their order, and a stop drains.

A "restart" builds new connector and worker objects on the same store, as a new process would.
One module over 400 lines on purpose: every promise of the intake, checked end to end, in one
place next to the fakes it shares.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from rasa.core.channels.channel import UserMessage

from bot.channels import core
from bot.channels.line import LineInput
from bot.channels.telegram import TelegramInput
from bot.store import Store
from bot.store.intake import IntakeItem
from tests.channels.helpers import (
    FAST_INTAKE,
    Collector,
    FakeLine,
    Scripted,
    ServedLine,
    sanic_app,
    settle,
)
from tests.channels.test_line import SECRET, TOKEN, USER, sign, text_event
from tests.channels.test_telegram import CHAT, FakeTelegram, message_update
from tests.channels.test_telegram import SECRET as TG_SECRET
from tests.channels.test_telegram import TOKEN as TG_TOKEN
from tests.store.conftest import (
    BACKENDS,
    fresh_store,
    pg_url,  # noqa: F401 - the fixture, for the two-instance test
)

pytestmark = pytest.mark.anyio

OK = "了解しました。"


class Flaky(Collector):
    """Rasa's ``on_new_message`` that raises for its first ``failures`` calls."""

    def __init__(self, failures: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.failures = failures
        self.calls = 0

    async def __call__(self, message: UserMessage) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("tracker store unreachable")
        await super().__call__(message)


class Line(ServedLine):
    """One running LINE connector (an instance of the Rasa process) on a store."""

    def __init__(self, store: Store, api: FakeLine, collector: Collector, config: Any) -> None:
        channel = LineInput(SECRET, TOKEN, api.base, api.base, store_factory=lambda: store)
        channel.intake_config = config
        super().__init__(channel, sanic_app(channel, collector), sign)
        self.collector = collector


def fast(**changes: Any) -> Any:
    return dataclasses.replace(FAST_INTAKE, **changes)


async def wait_until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


# ---------------------------------------------------------------------- crashes and restarts


async def test_a_failing_rasa_turn_is_retried_and_answered_once(
    store: Store, line_api: FakeLine
) -> None:
    collector = Flaky(failures=1)
    async with Line(store, line_api, collector, fast()) as line:
        assert await line.post(text_event("家の前の道路が冠水しています", "EVFLAKY1")) == 200
        await settle(line.channel)
    assert collector.calls == 2  # the failed turn and the retry
    assert line_api.texts == [OK]  # no apology, no second answer
    assert store.intake_event("line", "EVFLAKY1")["status"] == "done"


async def test_a_turn_that_keeps_failing_gets_the_apology_and_stays_visible(
    store: Store, line_api: FakeLine
) -> None:
    collector = Flaky(failures=100)
    async with Line(store, line_api, collector, fast()) as line:
        await line.post(text_event("助けて", "EVBROKEN"))
        await settle(line.channel)
    assert collector.calls == FAST_INTAKE.max_attempts
    (text,) = line_api.texts
    assert text == core.ERROR_TEXT and "もう一度送ってください" in text
    assert "119" in text and "110" in text
    event = store.intake_event("line", "EVBROKEN")
    assert event["status"] == "failed" and event["last_error"] == "processing: RuntimeError"
    assert [f["event_id"] for f in store.failed_intake("line")] == ["EVBROKEN"]


async def test_a_hanging_turn_times_out_and_is_retried(store: Store, line_api: FakeLine) -> None:
    class HangsOnce(Collector):
        async def __call__(self, message: UserMessage) -> None:
            if not self.messages:
                self.messages.append(message)
                await asyncio.sleep(60)  # e.g. a lock never released
            await super().__call__(message)

    collector = HangsOnce()
    async with Line(store, line_api, collector, fast(answer_timeout_seconds=0.3)) as line:
        await line.post(text_event("避難所は開いていますか", "EVHANG"))
        await settle(line.channel)
    assert len(collector.messages) == 2 and line_api.texts == [OK]


async def test_an_event_stopped_mid_turn_is_processed_after_a_restart(
    store: Store, line_api: FakeLine
) -> None:
    slow = Collector(delay=30.0)  # Rasa still thinking when the process is stopped
    async with Line(store, line_api, slow, fast(drain_seconds=0.2)) as line:
        assert await line.post(text_event("2階に3人取り残されています", "EVSTOP1")) == 200
        await wait_until(lambda: slow.messages)
    assert line_api.delivered == []
    assert store.intake_event("line", "EVSTOP1")["status"] == "pending"

    again = Collector()  # the next start of the process, same store
    async with Line(store, line_api, again, fast()) as line:
        await settle(line.channel)
    assert again.texts == ["2階に3人取り残されています"]
    assert line_api.texts == [OK]
    assert store.intake_event("line", "EVSTOP1")["status"] == "done"


async def test_an_event_held_by_a_crashed_instance_is_resumed_after_its_lease(
    store: Store, line_api: FakeLine
) -> None:
    """kill -9 after the 200: the row is pending and claimed by a worker that is gone."""
    event = text_event("土砂崩れが起きています", "EVKILLED")
    store.add_intake("line", [IntakeItem("EVKILLED", USER, event)])
    (held,) = store.claim_intake("line", 1, 1.0)  # the dead worker's claim, never finished
    assert held.event_id == "EVKILLED"
    collector = Collector()
    async with Line(store, line_api, collector, fast()) as line:
        await asyncio.sleep(0.3)
        assert collector.messages == []  # the lease still holds it
        await settle(line.channel)
    assert collector.texts == ["土砂崩れが起きています"]
    assert line_api.texts == [OK]
    assert store.intake_event("line", "EVKILLED")["attempts"] == 2


async def test_answers_kept_before_a_crash_are_sent_without_asking_rasa_again(
    store: Store, line_api: FakeLine
) -> None:
    """Rasa answered, the first batch went out, then the process died: the restart sends only
    the rest (the stored answers and the count of calls made)."""
    event = text_event("たくさん", "EVHALF")
    store.add_intake("line", [IntakeItem("EVHALF", USER, event)])
    (held,) = store.claim_intake("line", 1, 0.5)
    replies = [dataclasses.asdict(core.BotReply(text=f"返事{i}")) for i in range(7)]
    assert store.intake.save_replies(held, replies) and store.intake.mark_sent(held, 1)
    collector = Collector()
    async with Line(store, line_api, collector, fast()) as line:
        await settle(line.channel)
    assert collector.messages == []
    assert line_api.delivered == [(USER, "返事5"), (USER, "返事6")]
    assert line_api.calls("/reply") == []


# ---------------------------------------------------------------------- sending retries


async def test_push_429_then_200_is_retried_with_the_same_retry_key(
    store: Store, line_api: FakeLine
) -> None:
    line_api.reply_script = [Scripted(400)]  # reply token refused -> push
    line_api.push_script = [Scripted(429, retry_after=1)]
    async with Line(store, line_api, Collector(), fast()) as line:
        await line.post(text_event("避難所はどこ", "EV429"))
        await settle(line.channel)
    first, second = line_api.calls("/push")
    key = first.headers["X-Line-Retry-Key"]
    assert key and second.headers["X-Line-Retry-Key"] == key
    assert first.body == second.body
    assert line_api.delivered == [(USER, OK)]  # exactly one answer
    assert store.intake_event("line", "EV429")["status"] == "done"


async def test_retry_after_is_honoured(store: Store, line_api: FakeLine) -> None:
    line_api.push_script = [Scripted(429, retry_after=1)]
    line_api.reply_script = [Scripted(400)]
    async with Line(store, line_api, Collector(), fast()) as line:
        await line.post(text_event("こんにちは", "EVWAIT"))
        await line_api.wait_for("/push", 1)
        started = time.monotonic()
        await line_api.wait_for("/push", 2, timeout=5.0)
        assert time.monotonic() - started >= 0.9  # backoff alone would be 0.05 s
        await settle(line.channel)
    assert line_api.texts == [OK]


async def test_reply_429_then_200_is_one_reply(store: Store, line_api: FakeLine) -> None:
    line_api.reply_script = [Scripted(429), Scripted(500)]
    async with Line(store, line_api, Collector(), fast()) as line:
        await line.post(text_event("水が足りません", "EVREPLY"))
        await settle(line.channel)
    assert len(line_api.calls("/reply")) == 3 and line_api.calls("/push") == []
    assert line_api.delivered == [("reply", OK)]


async def test_a_push_whose_answer_was_lost_is_not_delivered_twice(
    store: Store, line_api: FakeLine
) -> None:
    """LINE took the push but the 500 came back: the retry (same key) gets 409 = done."""
    line_api.push_script = [Scripted(500, took_effect=True)]
    collector = Collector(responses=lambda m: [{"text": f"返事{i}"} for i in range(7)])
    async with Line(store, line_api, collector, fast()) as line:
        await line.post(text_event("たくさん", "EVLOST"))
        await settle(line.channel)
    assert line_api.texts == [f"返事{i}" for i in range(7)]
    assert len(line_api.calls("/reply")) == 1 and len(line_api.calls("/push")) == 2
    assert store.intake_event("line", "EVLOST")["status"] == "done"


async def test_a_refused_send_fails_visibly_and_a_dead_api_is_given_up(
    store: Store, line_api: FakeLine
) -> None:
    line_api.reply_script = [Scripted(400), Scripted(400)]
    line_api.push_script = [Scripted(403)] + [Scripted(503)] * 100
    async with Line(store, line_api, Collector(), fast(give_up_seconds=1.5)) as line:
        await line.post(text_event("a", "EVDENIED"), text_event("b", "EVDOWN"))
        await settle(line.channel)
    assert line_api.delivered == []
    denied = store.intake_event("line", "EVDENIED")
    assert denied["status"] == "failed" and "403" in denied["last_error"]
    down = store.intake_event("line", "EVDOWN")
    assert down["status"] == "failed" and "503" in down["last_error"]
    assert len(line_api.calls("/push")) >= 3  # retried until the give-up time, then stopped
    assert {f["event_id"] for f in store.failed_intake("line")} == {"EVDENIED", "EVDOWN"}


async def test_a_push_to_one_resident_is_retried_with_its_key(line_api: FakeLine) -> None:
    channel = LineInput(SECRET, TOKEN, line_api.base, line_api.base)
    line_api.push_script = [Scripted(429), Scripted(502)]
    try:
        await channel.client.push(USER, [{"type": "text", "text": "避難指示"}], config=FAST_INTAKE)
    finally:
        await channel.client.close()
    keys = {c.headers["X-Line-Retry-Key"] for c in line_api.calls("/push")}
    assert len(line_api.calls("/push")) == 3 and len(keys) == 1
    assert line_api.delivered == [(USER, "避難指示")]


# ---------------------------------------------------------------------- redelivery and order


async def test_a_redelivery_while_pending_is_neither_lost_nor_doubled(
    store: Store, line_api: FakeLine
) -> None:
    collector = Flaky(failures=1, delay=0.3)
    async with Line(store, line_api, collector, fast()) as line:
        event = text_event("川が溢れそうです", "EVREDELIVER")
        assert await line.post(event) == 200
        await wait_until(lambda: collector.calls >= 1)
        redelivery = dict(event, deliveryContext={"isRedelivery": True}, replyToken="rt-2")
        assert await line.post(redelivery) == 200  # while the first is pending
        await settle(line.channel)
        assert await line.post(redelivery) == 200  # and after it is done
        await settle(line.channel)
    assert collector.texts == ["川が溢れそうです"]  # one successful turn (after one failure)
    assert line_api.texts == [OK]
    assert store.intake_counts("line") == {"pending": 0, "done": 1, "failed": 0}


async def test_one_residents_messages_keep_their_order_while_residents_run_in_parallel(
    store: Store, line_api: FakeLine
) -> None:
    running: dict[str, int] = {}
    peak = {"total": 0, "per_resident": 0}
    done: list[str] = []

    class Timed(Collector):
        async def __call__(self, message: UserMessage) -> None:
            who = message.sender_id
            running[who] = running.get(who, 0) + 1
            peak["per_resident"] = max(peak["per_resident"], running[who])
            peak["total"] = max(peak["total"], sum(running.values()))
            resident, index = (message.text or "").split("-")
            await asyncio.sleep((6 - int(index)) * 0.03)  # later messages are quicker
            done.append(message.text or "")
            running[who] -= 1
            await message.output_channel.send_response(who, {"text": f"ok {message.text}"})

    residents = ["A", "B", "C", "D"]

    def event_for(resident: str, i: int) -> dict:
        ev = text_event(f"{resident}-{i}", f"EV{resident}{i}")
        ev["source"] = {"type": "user", "userId": "U" + resident * 32}
        return ev

    async with Line(store, line_api, Timed(), fast()) as line:

        async def send_all(resident: str) -> None:
            for i in range(6):
                assert await line.post(event_for(resident, i)) == 200

        await asyncio.gather(*(send_all(r) for r in residents))
        await settle(line.channel, timeout=15)
    for r in residents:
        assert [t for t in done if t.startswith(r)] == [f"{r}-{i}" for i in range(6)]
        answers = [t for to, t in line_api.delivered if to in ("reply", "U" + r * 32)]
        assert [t for t in answers if t.startswith(f"ok {r}")] == [f"ok {r}-{i}" for i in range(6)]
    assert peak["per_resident"] == 1 and peak["total"] > 1


async def test_a_stop_drains_the_events_in_hand(store: Store, line_api: FakeLine) -> None:
    collector = Collector(delay=0.5)
    async with Line(store, line_api, collector, fast(drain_seconds=5)) as line:
        events = []
        for r in "XYZ":
            ev = text_event(f"{r}さんです", f"EVDRAIN{r}")
            ev["source"] = {"type": "user", "userId": "U" + r * 32}
            events.append(ev)
        assert await line.post(*events) == 200
        await wait_until(lambda: len(collector.messages) == 3)
    # the server has stopped: what was in hand was finished before it did
    assert sorted(line_api.texts) == [OK] * 3
    assert store.intake_counts("line") == {"pending": 0, "done": 3, "failed": 0}


# ---------------------------------------------------------------------- two instances


@pytest.fixture(params=BACKENDS)
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from fresh_store(request, tmp_path, b"k")


async def test_two_instances_never_process_one_event_twice(
    shared_store: Store, line_api: FakeLine
) -> None:
    """Every event reaches both instances (LINE redelivering to the other one)."""
    a_side, b_side = Collector(delay=0.05), Collector(delay=0.05)
    other = Store(shared_store.url, photo_dir=shared_store.photo_dir, secret=b"k")
    # Two live instances, neither stalls: the lease must not expire under them. With the 2-s lease
    # of the other tests, a CI machine busy with a training beside starved one instance past its
    # lease once (session 15), and the other took the event over, as after a crash; that path has
    # its own test (test_an_event_held_by_a_crashed_instance_is_resumed_after_its_lease).
    live = fast(lease_seconds=10.0)
    try:
        async with (
            Line(shared_store, line_api, a_side, live) as a,
            Line(other, line_api, b_side, live) as b,
        ):
            events = []
            for i in range(12):
                ev = text_event(f"報告{i}", f"EVTWO{i}")
                ev["source"] = {"type": "user", "userId": f"U{i:032d}"}
                events.append(ev)
            await asyncio.gather(*(inst.post(ev) for ev in events for inst in (a, b)))
            await settle(a.channel, timeout=15)
            await settle(b.channel, timeout=15)
    finally:
        other.dispose()
    processed = a_side.texts + b_side.texts
    assert sorted(processed) == sorted(f"報告{i}" for i in range(12))
    assert len(line_api.texts) == 12
    assert shared_store.intake_counts("line") == {"pending": 0, "done": 12, "failed": 0}


# ---------------------------------------------------------------------- Telegram


class ScriptedTelegram(FakeTelegram):
    """The fake Bot API, answering ``sendMessage`` number ``at + 1`` onwards with the scripted
    errors first (``(status, parameters)``, as Telegram sends them)."""

    def __init__(self, errors: list[tuple[int, dict]], at: int = 0) -> None:
        self.errors, self.at, self.seen = errors, at, 0
        super().__init__()

    def method(self, request: web.Request, body: bytes) -> web.Response:
        if request.match_info["method"] == "sendMessage":
            self.seen += 1
            if self.seen > self.at and self.errors:
                code, params = self.errors.pop(0)
                answer: dict[str, Any] = {"ok": False, "error_code": code}
                answer["description"] = f"scripted {code}"
                if params:
                    answer["parameters"] = params
                return web.json_response(answer, status=code)
        return super().method(request, body)


async def telegram_post(base: str, update: dict) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{base}/webhooks/telegram/webhook", json=update, headers=headers) as r:
            return r.status


async def test_telegram_flood_control_and_a_5xx_are_retried_without_repeats(
    store: Store,
) -> None:
    # the second message first hits flood control (retry after 1 s), then a 502
    telegram_api = ScriptedTelegram([(429, {"retry_after": 1}), (502, {})], at=1)
    await telegram_api.start()
    collector = Collector(responses=lambda m: [{"text": f"返事{i}"} for i in range(3)])
    channel = TelegramInput(
        TG_TOKEN, TG_SECRET, api_base=telegram_api.base + "/bot", store_factory=lambda: store
    )
    channel.intake_config = fast()
    started = time.monotonic()
    async with sanic_app(channel, collector) as base:
        assert await telegram_post(base, message_update(1001, text="避難所")) == 200
        await settle(channel)
    assert time.monotonic() - started >= 0.9
    sent = [p["text"] for p in telegram_api.params("sendMessage")]
    assert sent == ["返事0", "返事1", "返事1", "返事1", "返事2"]  # two refused, then accepted
    assert all(p["chat_id"] == CHAT for p in telegram_api.params("sendMessage"))
    await telegram_api.stop()
    assert store.intake_event("telegram", "1001")["status"] == "done"
