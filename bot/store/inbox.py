"""Vocabulary and paging of the officials' inbox (「未対応メッセージ」).

A resident message the bot could not act on is kept with the reason it ended there; the inbox
lists danger first, then messages that carry a place, then the newest.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timezone

# Why a message reached the inbox (stored value -> label shown to officials).
INBOX_REASONS: dict[str, str] = {
    "fallback": "読み取れなかった",
    "out_of_scope": "対応範囲外",
    "cancelled_form": "入力の中断",
    "unhandled": "未処理",
}

# Actions written to the inbox's audit log.
INBOX_ACTIONS: dict[str, str] = {
    "received": "受信",
    "handled": "対応済み",
    "reopened": "未対応に戻す",
    "reported": "報告に変換",
}

MAX_MESSAGE_TEXT = 2000
MAX_INBOX_LIMIT = 200
DEFAULT_INBOX_LIMIT = 50
MAX_NOTE = 2000

SortKey = tuple[bool, bool, datetime, int]


def encode_inbox_cursor(key: SortKey) -> str:
    """Opaque cursor after the message with sort key ``(danger, has_place, received_at, id)``."""
    danger, has_place, at, message_id = key
    raw = (
        f"{int(bool(danger))}|{int(bool(has_place))}|"
        f"{at.astimezone(timezone.utc).isoformat()}|{message_id}"
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_inbox_cursor(cursor: str) -> SortKey:
    """The sort key in ``cursor``; ValueError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        d_s, p_s, at_s, id_s = raw.split("|")
        if d_s not in ("0", "1") or p_s not in ("0", "1"):
            raise ValueError
        at = datetime.fromisoformat(at_s)
        if at.tzinfo is None:
            raise ValueError
        return d_s == "1", p_s == "1", at, int(id_s)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("cursor is not valid (use next_cursor from a previous page)") from exc
