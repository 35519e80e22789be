"""A turn whose custom action or tracker store failed fails as a whole, so the durable intake
retries it.

Rasa 3.6 catches every error of a custom action (``MessageProcessor._run_action``: "Bot will
continue, but the actions events are lost"): when the action server is down, killed mid-call or
answers 5xx, the turn goes on without the action's events, the tracker is saved as if the
message had been handled, and the resident gets silence or a half answer - a confirmed report
is simply not stored, and sending 「はい」 again no longer reaches the form. For the LINE and
Telegram webhooks (the durable intake, :mod:`bot.channels.intake`) this module turns such a turn
into an error *before* Rasa saves it:

- :class:`GuardedActionEndpoint` is Rasa's action-server endpoint (``EndpointConfig``,
  subclassed, same URL and settings); inside a guarded turn a call that cannot reach the action
  server, times out or gets a 5xx raises :class:`_TurnAborted`. It derives from
  ``BaseException`` on purpose: it passes Rasa's ``except Exception`` in ``_run_action`` (and
  in slot extraction), so the turn stops there and the tracker is not saved. Rasa's
  ``async with`` lock is still released. A 400 (an action rejecting itself, normal in forms) is
  left to Rasa as before.
- :class:`StrictTurns` wraps Rasa's ``on_new_message`` for the webhook connectors: it guards
  the agent's endpoint (again after a model reload replaced the agent), marks the turn as
  guarded (a context variable, so REST and the widget keep Rasa's behaviour) and turns
  :class:`_TurnAborted` into :class:`ActionServerFailed` (or :class:`TrackerStoreFailed`),
  ordinary exceptions the intake retries with backoff; when it keeps failing the resident gets
  :data:`~bot.channels.core.ERROR_TEXT` (「もう一度送ってください」 with 119/110).

Rasa's tracker store wrapper has the same habit (``FailSafeTrackerStore``): when the database
cannot be read (PostgreSQL restarting) it starts the resident's conversation afresh, and when
the turn cannot be saved it keeps it in the process's memory only - both silently. Inside a
guarded turn :class:`GuardedTrackerStore` (the wrapper, subclassed) lets those errors stop the
turn instead (:class:`TrackerStoreFailed`), so it is retried when the database is back.

A turn run again this way may repeat what its actions had already done before the failure:
reports are stored once (idempotent on the message id, :mod:`bot.store.reports`), inbox rows
too (:mod:`bot.store.inbox`).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

__all__ = [
    "ActionServerFailed",
    "GuardedActionEndpoint",
    "GuardedTrackerStore",
    "StrictTurns",
    "TrackerStoreFailed",
    "guard_agent",
]

#: True while a turn of the durable intake runs (set by :class:`StrictTurns`)
_GUARDED: contextvars.ContextVar[bool] = contextvars.ContextVar("bosai_guarded_turn", default=False)


class ActionServerFailed(RuntimeError):
    """A custom action could not run (action server unreachable, timed out or 5xx); the turn
    was not saved and can be run again."""


class TrackerStoreFailed(RuntimeError):
    """The conversation could not be read or saved (database down); the turn was not saved."""


class _TurnAborted(BaseException):  # noqa: N818 - not an error Rasa may swallow (module doc)
    """Stops a guarded turn inside Rasa; :class:`StrictTurns` raises ``error`` instead."""

    def __init__(self, error: type[RuntimeError], message: str) -> None:
        super().__init__(message)
        self.error = error


class GuardedActionEndpoint(EndpointConfig):
    """Rasa's action endpoint; inside a guarded turn its failures abort the turn."""

    @classmethod
    def wrap(cls, endpoint: EndpointConfig) -> GuardedActionEndpoint:
        guarded = cls(
            endpoint.url,
            endpoint.params,
            endpoint.headers,
            endpoint.basic_auth,
            endpoint.token,
            endpoint.token_name,
            endpoint.cafile,
            **endpoint.kwargs,
        )
        guarded.type = endpoint.type
        return guarded

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().request(*args, **kwargs)
        except ClientResponseError as exc:
            if _GUARDED.get() and exc.status >= 500:
                raise _TurnAborted(ActionServerFailed, f"action server answered {exc.status}") from exc
            raise
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            if _GUARDED.get():
                message = f"action server unreachable ({type(exc).__name__})"
                raise _TurnAborted(ActionServerFailed, message) from exc
            raise


class GuardedTrackerStore(FailSafeTrackerStore):
    """Rasa's fail-safe tracker store; inside a guarded turn a failed read or save stops the
    turn instead of starting the conversation afresh or keeping it in memory only."""

    @classmethod
    def wrap(cls, store: FailSafeTrackerStore) -> GuardedTrackerStore:
        return cls(store._tracker_store, store._on_tracker_store_error, store._fallback_tracker_store)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        if not _GUARDED.get():
            return await super().retrieve(sender_id)
        try:
            return await self._tracker_store.retrieve(sender_id)
        except Exception as exc:  # noqa: BLE001 - any database error: retried later
            message = f"tracker store: {type(exc).__name__}"
            raise _TurnAborted(TrackerStoreFailed, message) from exc

    async def save(self, tracker: DialogueStateTracker) -> None:
        if not _GUARDED.get():
            await super().save(tracker)
            return
        try:
            await self._tracker_store.save(tracker)
        except Exception as exc:  # noqa: BLE001
            message = f"tracker store: {type(exc).__name__}"
            raise _TurnAborted(TrackerStoreFailed, message) from exc


def guard_agent(agent: Any) -> None:
    """Give the agent (and its current processor) the guarded action endpoint and tracker
    store; idempotent."""
    holders: list[Any] = [agent, getattr(agent, "processor", None)]
    for holder in holders:
        endpoint = getattr(holder, "action_endpoint", None)
        if isinstance(endpoint, EndpointConfig) and not isinstance(
            endpoint, GuardedActionEndpoint
        ):
            holder.action_endpoint = GuardedActionEndpoint.wrap(endpoint)
    guarded: dict[int, GuardedTrackerStore] = {}  # the agent and its processor share one
    for holder in holders:
        store = getattr(holder, "tracker_store", None)
        if isinstance(store, FailSafeTrackerStore) and not isinstance(store, GuardedTrackerStore):
            if id(store) not in guarded:
                guarded[id(store)] = GuardedTrackerStore.wrap(store)
            holder.tracker_store = guarded[id(store)]


class StrictTurns:
    """Rasa's ``on_new_message`` for the durable intake: a failed custom action fails the turn
    (:class:`ActionServerFailed`) instead of being skipped (see the module doc).

    :meth:`attach` gives it the Sanic app whose ``ctx.agent`` runs the turns (the webhook's
    start listener calls it); the agent is guarded before every turn, so a model loaded later
    through Rasa's API is guarded too.
    """

    def __init__(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        self.on_new_message = on_new_message
        self.app: Any = None

    def attach(self, app: Any) -> None:
        self.app = app

    async def __call__(self, message: UserMessage) -> None:
        agent = getattr(getattr(self.app, "ctx", None), "agent", None)
        if agent is not None:
            guard_agent(agent)
        token = _GUARDED.set(True)
        try:
            await self.on_new_message(message)
        except _TurnAborted as exc:
            raise exc.error(str(exc)) from exc.__cause__
        finally:
            _GUARDED.reset(token)
