"""Keyset pagination: opaque cursors and the "after this row" condition."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, false, or_

from bot.store.errors import InvalidInput

CURSOR_HINT = "cursor is not valid (use next_cursor from a previous page)"


def _encode(parts: Sequence[str]) -> str:
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def _decode(cursor: str, count: int) -> list[str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput(CURSOR_HINT) from exc
    parts = raw.split("|")
    if len(parts) != count:
        raise InvalidInput(CURSOR_HINT)
    return parts


def _time(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(CURSOR_HINT) from exc
    if at.tzinfo is None:
        raise InvalidInput(CURSOR_HINT)
    return at


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise InvalidInput(CURSOR_HINT) from exc


def encode_cursor(at: datetime, report_id: int) -> str:
    """Cursor after the report with sort key ``(reported_at, id)``."""
    return _encode([at.astimezone(timezone.utc).isoformat(), str(report_id)])


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    at_s, id_s = _decode(cursor, 2)
    return _time(at_s), _int(id_s)


InboxKey = tuple[bool, bool, datetime, int]


def encode_inbox_cursor(key: InboxKey) -> str:
    """Cursor after the inbox message with sort key ``(danger, has_place, received_at, id)``."""
    danger, has_place, at, message_id = key
    return _encode(
        [
            str(int(bool(danger))),
            str(int(bool(has_place))),
            at.astimezone(timezone.utc).isoformat(),
            str(message_id),
        ]
    )


def decode_inbox_cursor(cursor: str) -> InboxKey:
    d_s, p_s, at_s, id_s = _decode(cursor, 4)
    if d_s not in ("0", "1") or p_s not in ("0", "1"):
        raise InvalidInput(CURSOR_HINT)
    return d_s == "1", p_s == "1", _time(at_s), _int(id_s)


def keyset_after(keys: Sequence[tuple[Any, Any]]) -> Any:
    """Rows strictly after ``keys`` (column, value pairs) in descending order of the columns."""
    (col, value), rest = keys[0], keys[1:]
    if isinstance(value, bool):  # portable: no < on booleans
        less = col == False if value else false()  # noqa: E712
    else:
        less = col < value
    if not rest:
        return less
    return or_(less, and_(col == value, keyset_after(rest)))


def like_escape(text: str) -> str:
    """``text`` for a LIKE pattern with ``escape="\\"`` (``%`` and ``_`` literal)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
