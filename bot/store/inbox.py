"""The officials' inbox (「未対応メッセージ」): resident messages the bot could not act on.

A message is kept with the reason it ended here; the inbox lists danger first, then messages
that carry a place, then the newest. An official marks a message handled or turns it into a
report; every step is written to ``inbox_message_log`` in the same transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.store import validation as v
from bot.store.database import Database
from bot.store.errors import InvalidInput, InvalidTransition, NotFound
from bot.store.models import InboxMessage, InboxMessageChange, Report, utcnow
from bot.store.paging import decode_inbox_cursor, encode_inbox_cursor, keyset_after
from bot.store.reports import insert_report, report_values
from bot.store.residents import Residents
from bot.store.validation import DEFAULT_INBOX_LIMIT, MAX_INBOX_LIMIT, MAX_MESSAGE_TEXT, MAX_NOTE

# Why a message reached the inbox (stored value -> label shown to officials).
INBOX_REASONS: dict[str, str] = {
    "fallback": "読み取れなかった",
    "out_of_scope": "対応範囲外",
    "cancelled_form": "入力の中断",
    # A report or registration the resident started (an emergency included) and has not sent
    # yet; handled when it is stored, left here when the resident cancels or stops answering.
    "in_progress": "報告・登録の途中（未送信）",
    "unhandled": "未処理",
    # 「人と話したい」「これ人が読んでるの」: the bot said it is a bot; a person should answer.
    "wants_person": "職員との対話を希望",
    # answered (e.g. with the latest notices), but the model's reading was uncertain
    # (actions/intake.py, UNCERTAIN_BELOW): a person should check what the resident meant.
    "uncertain": "読み取りが不確か（回答済み）",
    # answered as a question about disaster news, but it asks nothing (「なんか外がへん」
    # 「防災メールが届かない」, actions/parsing.py asks_something): it may be a report or a complaint.
    "statement": "質問ではない投稿（回答済み）",
}

# Actions written to the inbox's audit log.
INBOX_ACTIONS: dict[str, str] = {
    "received": "受信",
    "handled": "対応済み",
    "reopened": "未対応に戻す",
    "reported": "報告に変換",
}

__all__ = [
    "DEFAULT_INBOX_LIMIT",
    "INBOX_ACTIONS",
    "INBOX_REASONS",
    "MAX_INBOX_LIMIT",
    "MAX_MESSAGE_TEXT",
    "MAX_NOTE",
    "Inbox",
    "InboxPage",
]


@dataclass
class InboxPage:
    """One page of :meth:`Inbox.page`."""

    items: list[InboxMessage]
    next_cursor: str | None = None


def _log(
    conn: Connection,
    message_id: int,
    action: str,
    by: str,
    at: datetime,
    note: str | None = None,
    report_id: int | None = None,
) -> None:
    conn.execute(
        insert(InboxMessageChange.__table__),
        {
            "message_id": message_id,
            "action": action,
            "by": by[: v.MAX_BY],
            "note": note,
            "report_id": report_id,
            "at": at,
        },
    )


class Inbox:
    def __init__(self, db: Database, residents: Residents) -> None:
        self.db = db
        self.residents = residents
        # SQLite ignores FOR UPDATE: serialise the claim of a message by to_report in-process
        # (PostgreSQL locks the row)
        self._lock = threading.Lock()

    def add(
        self,
        *,
        channel: str,
        user_id: str,
        text: str,
        reason: str,
        intent: str | None = None,
        confidence: float | None = None,
        danger: bool = False,
        danger_terms: Sequence[str] = (),
        place_text: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        channel_message_id: str | None = None,
        received_at: datetime | None = None,
    ) -> InboxMessage:
        """Keep a resident message the bot could not act on for the officials' inbox.

        The resident is stored as their pseudonym (never ``user_id`` itself); ``text`` is cut to
        2,000 characters and ``place_text`` to 500 (a resident's words are never refused for
        length); a danger term marks the message as danger. The same ``(channel,
        channel_message_id)`` again (a redelivery) returns the stored row unchanged. The arrival
        is the first row of the message's audit log. Bad input raises :class:`InvalidInput`.
        """
        v.check_channel(channel)
        if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > v.MAX_USER_ID:
            raise InvalidInput(
                f"user_id must be the channel's user id (1-{v.MAX_USER_ID} characters)"
            )
        body = v.capped_text(text, "text", MAX_MESSAGE_TEXT)
        if body is None:
            raise InvalidInput("text is required")
        v.one_of(reason, INBOX_REASONS, "reason")
        if not isinstance(danger, bool):
            raise InvalidInput("danger must be true or false")
        terms = list(dict.fromkeys(v.str_list(danger_terms, "danger_terms")))
        lat, lon = v.check_point(lat, lon)
        place = v.capped_text(place_text, "place_text", v.MAX_PLACE_TEXT)
        mid = None if channel_message_id is None else v.check_message_id(channel_message_id)
        values: dict[str, Any] = {
            "channel": channel,
            "channel_message_id": mid,
            "resident": self.residents.pseudonym(channel, user_id),
            "text": body,
            "reason": reason,
            "intent": v.opt_text(intent, "intent", v.MAX_INTENT),
            "confidence": v.opt_number(confidence, "confidence", 0, 1),
            "danger": danger or bool(terms),
            "danger_terms": terms,
            "place_text": place,
            "lat": lat,
            "lon": lon,
            "has_place": place is not None or lat is not None,
            "received_at": v.aware(received_at, "received_at") or utcnow(),
            "handled": False,
            "handled_at": None,
            "handled_by": None,
            "handled_note": None,
            "report_id": None,
        }
        if mid is not None:
            existing = self._by_channel_id(channel, mid)
            if existing is not None:
                return existing
        try:
            with self.db.engine.begin() as conn:
                message_id = conn.execute(
                    insert(InboxMessage.__table__), values
                ).inserted_primary_key[0]
                _log(conn, message_id, "received", f"channel:{channel}", values["received_at"])
        except IntegrityError:
            existing = self._by_channel_id(channel, mid) if mid is not None else None
            if existing is None:
                raise
            return existing  # a concurrent redelivery won the race
        return InboxMessage(id=message_id, **values)

    def _by_channel_id(self, channel: str, mid: str) -> InboxMessage | None:
        with self.db.session() as s:
            return s.execute(
                select(InboxMessage).where(
                    InboxMessage.channel == channel, InboxMessage.channel_message_id == mid
                )
            ).scalar_one_or_none()

    def get(self, message_id: int) -> InboxMessage:
        with self.db.session() as s:
            row = s.get(InboxMessage, message_id)
            if row is None:
                raise NotFound(f"message {message_id} not found")
            return row

    def page(
        self,
        *,
        handled: bool | None = False,
        since: datetime | None = None,
        limit: int = DEFAULT_INBOX_LIMIT,
        cursor: str | None = None,
    ) -> InboxPage:
        """Inbox messages: danger first, then those with a place, then newest (keyset pages).

        ``handled``: False = still open (default), True = handled, None = all; ``since``: received
        at or after; ``limit``: 1-200; ``cursor``: ``next_cursor`` of the previous page.
        """
        if handled is not None and not isinstance(handled, bool):
            raise InvalidInput("handled must be true, false or None (all)")
        since = v.aware(since, "since")
        count = v.opt_int(limit, "limit", 1, MAX_INBOX_LIMIT) or DEFAULT_INBOX_LIMIT
        m = InboxMessage
        conds = []
        if handled is not None:
            conds.append(m.handled == handled)
        if since is not None:
            conds.append(m.received_at >= since)
        if cursor:
            danger, has_place, at, last_id = decode_inbox_cursor(cursor)
            conds.append(
                keyset_after(
                    [
                        (m.danger, danger),
                        (m.has_place, has_place),
                        (m.received_at, at),
                        (m.id, last_id),
                    ]
                )
            )
        stmt = select(m)
        if conds:
            stmt = stmt.where(and_(*conds))
        stmt = stmt.order_by(
            m.danger.desc(), m.has_place.desc(), m.received_at.desc(), m.id.desc()
        ).limit(count + 1)
        with self.db.session() as s:
            rows = list(s.execute(stmt).scalars())
        next_cursor = None
        if len(rows) > count:
            rows = rows[:count]
            last = rows[-1]
            next_cursor = encode_inbox_cursor(
                (bool(last.danger), bool(last.has_place), last.received_at, last.id)
            )
        return InboxPage(rows, next_cursor)

    def count(self, handled: bool | None = False) -> int:
        """Number of inbox messages (open ones by default; None = all)."""
        stmt = select(func.count(InboxMessage.id))
        if handled is not None:
            stmt = stmt.where(InboxMessage.handled == bool(handled))
        with self.db.session() as s:
            return int(s.execute(stmt).scalar_one())

    def history(self, message_id: int) -> list[InboxMessageChange]:
        """The audit log of one inbox message, oldest first."""
        with self.db.session() as s:
            rows = s.execute(
                select(InboxMessageChange)
                .where(InboxMessageChange.message_id == message_id)
                .order_by(InboxMessageChange.id)
            ).scalars()
            return list(rows)

    def set_handled(
        self, message_id: int, *, handled: bool, by: str, note: str | None = None
    ) -> InboxMessage:
        """Mark an inbox message handled (or open again); audited in the same transaction.

        Asking for the state the message already has changes nothing and writes no log row.
        """
        if not isinstance(handled, bool):
            raise InvalidInput("handled must be true or false")
        v.check_by(by)
        note = v.opt_text(note, "note", MAX_NOTE)
        t = InboxMessage.__table__
        now = utcnow()
        with self.db.engine.begin() as conn:
            # write first: the row is locked (PostgreSQL) / the database is (SQLite) before reading
            changed = conn.execute(
                update(t)
                .where(t.c.id == message_id, t.c.handled == (not handled))
                .values(
                    handled=handled,
                    handled_at=now if handled else None,
                    handled_by=by if handled else None,
                    handled_note=note if handled else None,
                )
            ).rowcount
            row = conn.execute(select(t).where(t.c.id == message_id)).mappings().one_or_none()
            if row is None:
                raise NotFound(f"message {message_id} not found")
            if changed:
                _log(conn, message_id, "handled" if handled else "reopened", by, now, note)
        return InboxMessage(**dict(row))

    def to_report(
        self,
        message_id: int,
        *,
        category: str,
        urgency: str = "high",
        place_text: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        by: str,
    ) -> Report:
        """Turn an inbox message into a report in one transaction.

        The report gets the message's text, channel, resident and time (``reported_at`` = when the
        resident wrote); ``place_text`` / ``lat``, ``lon`` default to the message's own. The
        message is marked handled and linked (``report_id``); the report's audit log starts with
        the official, the message's log gets a ``reported`` row. A message already turned into a
        report raises :class:`InvalidTransition` (never a second report for one message).
        """
        v.check_by(by)
        lat, lon = v.check_point(lat, lon)
        place = v.opt_text(place_text, "place_text", v.MAX_PLACE_TEXT)
        t = InboxMessage.__table__
        now = utcnow()
        with self._lock, self.db.engine.begin() as conn:
            claimed = conn.execute(
                update(t)
                .where(t.c.id == message_id, t.c.report_id.is_(None))
                .values(handled=True, handled_at=now, handled_by=by)
            ).rowcount
            row = conn.execute(select(t).where(t.c.id == message_id)).mappings().one_or_none()
            if row is None:
                raise NotFound(f"message {message_id} not found")
            if not claimed:
                raise InvalidTransition(
                    f"message {message_id} is already report {row['report_id']}"
                )
            if lat is None:
                lat, lon = row["lat"], row["lon"]
            values = report_values(
                now,
                category=category,
                text=row["text"],
                lat=lat,
                lon=lon,
                place_text=place or row["place_text"],
                urgency=urgency,
                channel=row["channel"],
                resident=row["resident"],
                reported_at=row["received_at"],
            )
            report = insert_report(
                conn, values, (), by=by, now=now, note=f"受信メッセージ #{message_id} から作成"
            )
            conn.execute(update(t).where(t.c.id == message_id).values(report_id=report.id))
            _log(conn, message_id, "reported", by, now, report_id=report.id)
        return report
