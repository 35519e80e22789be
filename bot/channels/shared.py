"""Small state the channels keep between requests, shared by all instances when ``REDIS_URL`` is set.

Two things need it: Telegram's long button payloads (callback_data holds 64 bytes, so a longer
payload is kept under a short key until the resident taps the button) and the widget's photo
upload rate limit. With one instance a dict in the process is enough; behind a load balancer the
tap or the next upload may reach another instance, so with ``REDIS_URL`` both live in Redis
(keys under ``bosai:``). If Redis fails, the process keeps working on its own memory and logs it:
a resident's message is never refused because the cache is down.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import OrderedDict, defaultdict, deque
from typing import Any

logger = logging.getLogger(__name__)

PREFIX = "bosai:"


class SharedState:
    """Values with a lifetime and rate-limit counters, in Redis or in this process.

    ``redis_url`` None means ``settings.redis_url`` (``REDIS_URL``); "" keeps everything local.
    """

    def __init__(self, redis_url: str | None = None, max_local: int = 5000) -> None:
        if redis_url is None:
            from bot.settings import get_settings

            redis_url = get_settings().redis_url
        url = redis_url
        self._redis: Any = None
        if url:
            import redis

            self._redis = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._values: OrderedDict[str, str] = OrderedDict()
        self._hits: defaultdict[str, deque[float]] = defaultdict(deque)
        self._max_local = max_local

    @property
    def shared(self) -> bool:
        return self._redis is not None

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        """Keep ``value`` under ``key`` for ``ttl_seconds`` (locally: the newest ``max_local``)."""
        if self._redis is not None:
            try:
                self._redis.set(PREFIX + key, value.encode("utf-8"), ex=ttl_seconds)
                return
            except Exception:  # noqa: BLE001
                logger.warning("redis unavailable: keeping %s in this process only", key.split(":")[0])
        self._values[key] = value
        self._values.move_to_end(key)
        while len(self._values) > self._max_local:
            self._values.popitem(last=False)

    def get(self, key: str) -> str | None:
        if self._redis is not None:
            try:
                raw = self._redis.get(PREFIX + key)
                if raw is not None:
                    return bytes(raw).decode("utf-8")
            except Exception:  # noqa: BLE001
                logger.warning("redis unavailable: looking up %s in this process only", key.split(":")[0])
        return self._values.get(key)

    def over_limit(self, key: str, limit: int, window_seconds: float) -> bool:
        """Count one event for ``key``; True (and not counted) when ``limit`` were already seen
        within the last ``window_seconds``."""
        if self._redis is not None:
            try:
                return self._redis_over_limit(PREFIX + "rate:" + key, limit, window_seconds)
            except Exception:  # noqa: BLE001
                logger.warning("redis unavailable: rate limit counted in this process only")
        now = time.monotonic()
        hits = self._hits[key]
        while hits and now - hits[0] > window_seconds:
            hits.popleft()
        if len(hits) >= limit:
            return True
        hits.append(now)
        return False

    def _redis_over_limit(self, key: str, limit: int, window_seconds: float) -> bool:
        now = time.time()
        pipe = self._redis.pipeline()
        pipe.zremrangebyscore(key, 0, now - window_seconds)
        pipe.zcard(key)
        _, seen = pipe.execute()
        if int(seen) >= limit:
            return True
        pipe = self._redis.pipeline()
        pipe.zadd(key, {f"{now:.6f}:{uuid.uuid4().hex[:8]}": now})
        pipe.expire(key, int(window_seconds) + 1)
        pipe.execute()
        return False
