"""Per-resident message rate limit, shared by every channel (LINE, Telegram, widget, REST), and
the per-address limit on new widget sessions (:class:`SessionLimiter`).

A resident (a pseudonymous sender id, :mod:`bot.identity`) may send
``BOSAI_RATE_LIMIT_PER_MINUTE`` messages (default 20; 0 turns the limit off) in any 60 seconds;
a message over the limit is not given to Rasa and gets :data:`RATE_LIMITED_TEXT`, which says to
call 119/110 in an emergency. The counters live in :class:`~bot.channels.shared.SharedState`:
in Redis when ``REDIS_URL`` is set (so the limit holds across instances behind a load balancer),
else in the process; if Redis fails the process counts on its own (a resident is never refused
because the cache is down).
"""

from __future__ import annotations

import asyncio

from bot.channels.shared import SharedState

WINDOW_SECONDS = 60.0

RATE_LIMITED_TEXT = (
    "短い時間にたくさんのメッセージが届いたため、少し待ってからもう一度送ってください。\n"
    "命に関わる緊急時は、消防・救急は119、警察は110に電話してください。"
)


class MessageLimiter:
    """Counts each resident's messages; :meth:`allow` says whether one more may go to Rasa.

    Parameters
    ----------
    per_minute
        Messages per resident per 60 s; None means ``settings.rate_limit_per_minute``; 0 = off.
    state
        Where the counters live; None builds a :class:`SharedState` on ``REDIS_URL``.
    """

    prefix = "msg:"

    def __init__(self, per_minute: int | None = None, state: SharedState | None = None) -> None:
        self.per_minute = self.default_per_minute() if per_minute is None else per_minute
        self._state = state

    @staticmethod
    def default_per_minute() -> int:
        from bot.settings import get_settings

        return get_settings().rate_limit_per_minute

    @property
    def state(self) -> SharedState:
        if self._state is None:
            self._state = SharedState()
        return self._state

    async def allow(self, sender: str) -> bool:
        """Count one message of ``sender``; False when it is over the limit (not counted)."""
        if self.per_minute <= 0:
            return True
        state = self.state
        key = self.prefix + sender
        if state.shared:  # a Redis round trip: keep it off the event loop
            over = await asyncio.to_thread(state.over_limit, key, self.per_minute, WINDOW_SECONDS)
        else:
            over = state.over_limit(key, self.per_minute, WINDOW_SECONDS)
        return not over


SESSIONS_LIMITED_TEXT = (
    "このネットワークから短い時間にたくさんの会話が始まったため、新しい会話を始められませんでした。"
    "1分ほど待ってから、ページを読み込み直してください。\n"
    "命に関わる緊急時は、消防・救急は119、警察は110に電話してください。"
)


class SessionLimiter(MessageLimiter):
    """Counts the new widget sessions started from one network address (:meth:`allow` with the
    address: False when ``per_minute`` were already started from it within 60 s). Sessions
    already issued are never counted or refused. ``per_minute`` None means
    ``settings.widget_sessions_per_minute``; 0 = off. Shared through Redis like the message
    limit; a shelter full of residents behind one address is why the default (30) is far above
    what one browser needs (1)."""

    prefix = "session:"

    @staticmethod
    def default_per_minute() -> int:
        from bot.settings import get_settings

        return get_settings().widget_sessions_per_minute
