"""The worker pool behind the LINE and Telegram webhooks: durable, ordered, retried, drained.

A webhook stores each platform event as a ``pending`` row (:mod:`bot.store.intake`) before it
answers 200. :class:`IntakeWorker` then, in the Rasa process:

1. claims pending events (at most :attr:`IntakeConfig.workers` at a time; per resident only the
   oldest, so one resident's messages are handled strictly in order, different residents in
   parallel; the claim is atomic in the database, so two instances never take the same event);
2. asks the connector for the bot's answers (:meth:`IntakeHandler.answer`: Rasa via
   :class:`~bot.channels.core.ChannelCore`) and keeps them in the row; when that raises it tries
   again with exponential backoff up to :attr:`IntakeConfig.max_attempts`, then answers the
   resident :data:`~bot.channels.core.ERROR_TEXT` (「もう一度送ってください」 with 119/110) and
   marks the event ``failed``;
3. sends them (:meth:`IntakeHandler.deliver`), recording each platform call that went through;
   429, 5xx and network errors are retried with exponential backoff (a ``Retry-After`` given by
   the platform is honoured) until :attr:`IntakeConfig.give_up_seconds` after the event arrived;
   then, or on any other error, the event is ``failed`` (kept and visible, never dropped);
4. marks it ``done`` only when everything was sent.

The lease of a claimed event is renewed while it is worked on; a crashed instance's events come
back when their lease expires. :meth:`IntakeWorker.start` resumes whatever is pending;
:meth:`IntakeWorker.stop` drains: it claims nothing more, lets the events in hand finish within
:attr:`IntakeConfig.drain_seconds`, and gives the others back as pending for the next start.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any, Protocol

from bot.channels.core import ERROR_TEXT, BotReply, Button, ChannelCore
from bot.store.intake import ClaimedEvent
from bot.store.models import utcnow

logger = logging.getLogger(__name__)

__all__ = [
    "IntakeConfig",
    "IntakeHandler",
    "IntakeWorker",
    "SendError",
    "reply_from_dict",
    "reply_to_dict",
    "send_with_retries",
]


@dataclass(frozen=True)
class IntakeConfig:
    """Bounds of the worker pool and of its retries (``BOSAI_INTAKE_*`` in the settings)."""

    workers: int = 4
    lease_seconds: float = 30.0
    give_up_seconds: float = 900.0
    drain_seconds: float = 10.0
    max_attempts: int = 3
    #: a Rasa turn taking longer counts as failed (and is retried): it must not hold the
    #: resident's later messages for ever
    answer_timeout_seconds: float = 120.0
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    poll_seconds: float = 1.0

    @classmethod
    def from_settings(cls, settings: Any) -> IntakeConfig:
        return cls(
            workers=settings.intake_workers,
            give_up_seconds=settings.intake_give_up_seconds,
            drain_seconds=settings.intake_drain_seconds,
        )

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before try number ``attempt + 1``: the platform's ``Retry-After``
        when it gave one, else exponential backoff with a little jitter."""
        if retry_after is not None and retry_after >= 0:
            return float(retry_after)
        base = min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempt - 1))
        return base * random.uniform(0.8, 1.0)


class SendError(Exception):
    """A platform call failed; ``transient`` (429, 5xx, network) ones are tried again."""

    def __init__(self, message: str, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


class GaveUp(Exception):
    pass


OnPart = Callable[[int], Awaitable[None]]


class IntakeHandler(Protocol):
    """What a connector provides to the worker."""

    async def answer(self, core: ChannelCore, event: ClaimedEvent) -> list[BotReply]:
        """The bot's answers to the stored event (raises when it could not be processed)."""

    async def deliver(
        self, event: ClaimedEvent, replies: list[BotReply], done: int, on_part: OnPart
    ) -> None:
        """Send the answers, skipping the first ``done`` platform calls; await ``on_part(n)``
        after the n-th call went through; raise :class:`SendError` when a call fails."""


def reply_to_dict(reply: BotReply) -> dict[str, Any]:
    return asdict(reply)


def reply_from_dict(data: dict[str, Any]) -> BotReply:
    return BotReply(
        text=str(data.get("text") or ""),
        buttons=[
            Button(str(b.get("title", "")), str(b.get("payload", "")))
            for b in data.get("buttons") or []
            if isinstance(b, dict)
        ],
        location_request=bool(data.get("location_request")),
        image=data.get("image") or None,
    )


async def send_with_retries(
    call: Callable[[], Awaitable[None]], config: IntakeConfig, give_up_after: float
) -> None:
    """Run ``call`` until it succeeds; retry :class:`SendError` that are transient with backoff
    for at most ``give_up_after`` seconds; raise the last error when giving up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after
    attempt = 0
    while True:
        try:
            await call()
            return
        except SendError as exc:
            attempt += 1
            delay = config.delay(attempt, exc.retry_after)
            if not exc.transient or loop.time() + delay > deadline:
                raise
            logger.info("send failed (%s); retrying in %.1f s", exc, delay)
            await asyncio.sleep(delay)


class IntakeWorker:
    """The pool of one channel (see the module doc)."""

    def __init__(
        self,
        channel: str,
        store_factory: Callable[[], Any],
        handler: IntakeHandler,
        core: ChannelCore,
        config: IntakeConfig | None = None,
    ) -> None:
        self.channel = channel
        self.store_factory = store_factory
        self.handler = handler
        self.core = core
        self.config = config or IntakeConfig()
        self.in_flight: set[asyncio.Task] = set()
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task | None = None
        self._stopping = False
        self._claim_failing = False

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start claiming (pending events left by a crash or a stop are resumed)."""
        self._stopping = False
        self._wake = asyncio.Event()
        self._loop_task = asyncio.create_task(self._run())

    def wake(self) -> None:
        """New events were stored: claim now rather than at the next poll."""
        self._wake.set()

    async def stop(self, timeout: float | None = None) -> None:
        """Drain: claim nothing more, let the events in hand finish within ``timeout`` seconds
        (default :attr:`IntakeConfig.drain_seconds`), give the rest back as pending."""
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            await asyncio.gather(self._loop_task, return_exceptions=True)
            self._loop_task = None
        tasks = set(self.in_flight)
        if not tasks:
            return
        wait = self.config.drain_seconds if timeout is None else timeout
        _, unfinished = await asyncio.wait(tasks, timeout=max(0.0, wait))
        if unfinished:
            logger.warning(
                "%s: %d event(s) not finished at shutdown stay pending",
                self.channel,
                len(unfinished),
            )
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)

    @property
    def idle(self) -> bool:
        return not self.in_flight

    # ------------------------------------------------------------------ claiming
    async def _intake(self, method: str, *args: Any) -> Any:
        def call() -> Any:
            return getattr(self.store_factory().intake, method)(*args)

        return await asyncio.get_running_loop().run_in_executor(None, call)

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            free = self.config.workers - len(self.in_flight)
            if free > 0:
                try:
                    events = await self._intake(
                        "claim", self.channel, free, self.config.lease_seconds
                    )
                    if self._claim_failing:
                        logger.info("%s: claiming events works again", self.channel)
                    self._claim_failing = False
                except Exception as exc:  # noqa: BLE001 - database down: try again later
                    if not self._claim_failing:  # once per outage, not every poll
                        logger.warning(
                            "%s: cannot claim events (%s); retrying",
                            self.channel,
                            type(exc).__name__,
                        )
                    self._claim_failing = True
                    events = []
                for event in events:
                    if self._stopping:
                        await self._intake("release", event)
                        continue
                    task = asyncio.create_task(self._work(event))
                    self.in_flight.add(task)
                    task.add_done_callback(self._finished)
            try:
                await asyncio.wait_for(self._wake.wait(), self.config.poll_seconds)
            except asyncio.TimeoutError:
                pass

    def _finished(self, task: asyncio.Task) -> None:
        self.in_flight.discard(task)
        self._wake.set()  # a slot is free, and the resident's next event may be claimable

    # ------------------------------------------------------------------ one event
    async def _work(self, event: ClaimedEvent) -> None:
        beat = asyncio.create_task(self._heartbeat(event))
        try:
            await self._answer_and_send(event)
        except asyncio.CancelledError:
            # shutdown before it finished: back to pending (what was sent is remembered)
            try:
                await asyncio.shield(self._intake("release", event))
            except Exception:  # noqa: BLE001 - the lease expires by itself
                logger.warning("%s: could not release an unfinished event", self.channel)
            raise
        except Exception as exc:  # noqa: BLE001 - store errors: the lease expires, retried
            logger.warning(
                "%s: event left for a retry after its lease (%s)", self.channel, type(exc).__name__
            )
        finally:
            beat.cancel()

    async def _heartbeat(self, event: ClaimedEvent) -> None:
        interval = max(0.05, self.config.lease_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                if not await self._intake("renew", event, self.config.lease_seconds):
                    logger.warning("%s: lost the lease of an event", self.channel)
                    return
            except Exception as exc:  # noqa: BLE001
                logger.warning("%s: lease renewal failed (%s)", self.channel, type(exc).__name__)

    async def _answer_and_send(self, event: ClaimedEvent) -> None:
        config = self.config
        deadline = event.received_at + timedelta(seconds=config.give_up_seconds)
        failure: str | None = None
        if event.replies is None:
            if event.attempts > config.max_attempts:
                # claimed that often without an answer: it brought the process down each time
                replies = [BotReply(text=ERROR_TEXT)]
                failure = "processing: interrupted too often"
            else:
                try:
                    replies = await asyncio.wait_for(
                        self.handler.answer(self.core, event), config.answer_timeout_seconds
                    )
                except Exception as exc:  # noqa: BLE001 - retried, then an apology
                    reason = f"processing: {type(exc).__name__}"
                    logger.warning(
                        "%s: processing an event failed (%s, attempt %d)",
                        self.channel,
                        reason,
                        event.attempts,
                        exc_info=not isinstance(exc, asyncio.TimeoutError),
                    )
                    delay = config.delay(event.attempts)
                    if (
                        event.attempts < config.max_attempts
                        and utcnow() + timedelta(seconds=delay) < deadline
                    ):
                        await self._intake("retry_later", event, delay, reason)
                        return
                    replies = [BotReply(text=ERROR_TEXT)]
                    failure = reason
            stored = [reply_to_dict(r) for r in replies]
            if not await self._intake("save_replies", event, stored, failure):
                logger.warning("%s: lost the lease of an event before sending", self.channel)
                return
            event.replies, event.sent_parts = stored, 0
        else:
            replies = [reply_from_dict(r) for r in event.replies]
            if event.last_error and event.last_error.startswith("processing:"):
                failure = event.last_error
        try:
            await self._send(event, replies, deadline)
        except GaveUp as exc:
            logger.error("%s: gave up sending an answer (%s)", self.channel, exc)
            await self._intake("fail", event, f"send: {exc}")
            return
        if failure:
            await self._intake("fail", event, failure)
        else:
            await self._intake("finish", event)

    async def _send(self, event: ClaimedEvent, replies: list[BotReply], deadline: Any) -> None:
        async def on_part(count: int) -> None:
            event.sent_parts = count
            await self._intake("mark_sent", event, count)

        attempt = 0
        while True:
            try:
                await self.handler.deliver(event, replies, event.sent_parts, on_part)
                return
            except SendError as exc:
                if not exc.transient:
                    raise GaveUp(str(exc)) from exc
                attempt += 1
                delay = self.config.delay(attempt, exc.retry_after)
                if utcnow() + timedelta(seconds=delay) > deadline:
                    raise GaveUp(f"{exc} (still failing after {attempt} tries)") from exc
                logger.info("%s: send failed (%s); retrying in %.1f s", self.channel, exc, delay)
                await asyncio.sleep(delay)
