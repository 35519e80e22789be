"""Every field check of the store, and the limits they enforce (one place for all of them).

Each check returns the clean value or raises :class:`~bot.store.errors.InvalidInput` with a
message that names the field. The officials' API declares its request models with the same
limits (``bot.officials.schemas``), so a limit is written once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from bot.store import vocab
from bot.store.errors import InvalidInput

# ---------------------------------------------------------------------- limits
MAX_TEXT = 4000
MAX_PLACE_TEXT = 500
MAX_HEADCOUNT = 10_000
MAX_ACCURACY_M = 100_000
MAX_LIST_ITEMS = 20
MAX_ITEM_LEN = 64
MAX_NOTE = 2000
MAX_BY = 100
MAX_NOTICE_TITLE = 100
MAX_NOTICE_BODY = 1000
MAX_NOTICE_LIMIT = 100
MAX_BROADCAST_DETAIL = 500
MAX_MESSAGE_TEXT = 2000
MAX_INTENT = 64
MAX_CHANNEL_MESSAGE_ID = 255
MAX_USER_ID = 255
MAX_INBOX_LIMIT = 200
DEFAULT_INBOX_LIMIT = 50
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
LAT_RANGE = (-90.0, 90.0)
LON_RANGE = (-180.0, 180.0)

PHOTO_REF_RE = re.compile(r"^[0-9a-f]{64}\.(jpg|png|webp|gif)$")
CHANNEL_RE = re.compile(r"^[a-z0-9_]{1,32}$")
SHELTER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
NAME_RE = re.compile(r"^[\w.@ -]{1,100}$")


# ---------------------------------------------------------------------- checks
def one_of(value: Any, choices: Mapping[str, Any], name: str) -> str:
    """``value`` when it is a key of ``choices`` (a vocabulary)."""
    if not isinstance(value, str) or value not in choices:
        raise InvalidInput(f"{name} must be one of {', '.join(choices)}")
    return value


def aware(value: datetime | None, name: str) -> datetime | None:
    """A timezone-aware datetime, in UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput(f"{name} must be a timezone-aware datetime")
    return value.astimezone(timezone.utc)


def check_channel(channel: Any) -> str:
    if not isinstance(channel, str) or not CHANNEL_RE.match(channel):
        raise InvalidInput("channel must be 1-32 lowercase letters, digits or _")
    return channel


def check_by(by: Any) -> str:
    """The official (or ``channel:<name>``) an action is recorded under."""
    if not isinstance(by, str) or not by or len(by) > MAX_BY:
        raise InvalidInput(f"by must be 1-{MAX_BY} characters")
    return by


def check_message_id(value: Any) -> str:
    """A channel's message id (what a redelivery is recognised by)."""
    mid = str(value)
    if not mid or len(mid) > MAX_CHANNEL_MESSAGE_ID:
        raise InvalidInput(f"channel_message_id must be 1-{MAX_CHANNEL_MESSAGE_ID} characters")
    return mid


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidInput("name must be 1-100 letters, digits, spaces or . @ _ -")
    return name


def check_point(lat: Any, lon: Any) -> tuple[float | None, float | None]:
    """Latitude and longitude, both or neither."""
    if lat is None and lon is None:
        return None, None
    if lat is None or lon is None:
        raise InvalidInput("lat and lon must be given together")
    return opt_number(lat, "lat", *LAT_RANGE), opt_number(lon, "lon", *LON_RANGE)


def opt_number(value: Any, name: str, lo: float, hi: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{name} must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be a number") from exc
    if not (lo <= number <= hi):  # also rejects NaN
        raise InvalidInput(f"{name} must be between {lo} and {hi}")
    return number


def opt_int(value: Any, name: str, lo: int, hi: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be an integer")
    if not (lo <= value <= hi):
        raise InvalidInput(f"{name} must be between {lo} and {hi}")
    return value


#: what no database can keep as text: NUL (PostgreSQL refuses it) and unpaired surrogates (JSON's
#: ``\ud800`` escape; no UTF-8 encoding exists)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def opt_text(value: Any, name: str, max_len: int) -> str | None:
    """Stripped text of at most ``max_len`` characters; None when empty."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string")
    if _UNSTORABLE.search(value):
        raise InvalidInput(f"{name} must not contain NUL or unpaired surrogate characters")
    value = value.strip()
    if len(value) > max_len:
        raise InvalidInput(f"{name} must be at most {max_len} characters")
    return value or None


def capped_text(value: Any, name: str, max_len: int) -> str | None:
    """Like :func:`opt_text` but cuts a long text instead of refusing it (residents' words)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string")
    return opt_text(_UNSTORABLE.sub("", value).strip()[:max_len], name, max_len)


def opt_shelter_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not SHELTER_ID_RE.match(value):
        raise InvalidInput("shelter_id must be a 共通ID (1-32 letters, digits, _ or -)")
    return value


def str_list(values: Iterable[str] | None, name: str) -> list[str]:
    """At most 20 strings of 1-64 characters."""
    if values is None:
        return []
    if isinstance(values, str):
        raise InvalidInput(f"{name} must be a list of strings")
    out = list(values)
    if len(out) > MAX_LIST_ITEMS:
        raise InvalidInput(f"{name} may have at most {MAX_LIST_ITEMS} items")
    for item in out:
        if not isinstance(item, str) or not (0 < len(item) <= MAX_ITEM_LEN):
            raise InvalidInput(f"{name} items must be strings of 1-{MAX_ITEM_LEN} characters")
    return out


def vulnerable(value: dict[str, Any] | None) -> dict[str, int]:
    """People needing care per :data:`bot.store.vocab.VULNERABLE_KEYS` (zero counts dropped)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("vulnerable must be an object")
    out: dict[str, int] = {}
    for key, count in value.items():
        if key not in vocab.VULNERABLE_KEYS:
            raise InvalidInput(f"vulnerable keys must be among {', '.join(vocab.VULNERABLE_KEYS)}")
        if isinstance(count, bool):
            count = int(count)
        n = opt_int(count, f"vulnerable.{key}", 0, MAX_HEADCOUNT)
        if n:
            out[key] = n
    return out


def check_photo_ref(ref: Any) -> str:
    if not isinstance(ref, str) or not PHOTO_REF_RE.match(ref):
        raise InvalidInput("photo ref is not valid")
    return ref
