"""Notices from officials to residents, with the outcome of their broadcast per channel."""

from __future__ import annotations

import threading

from sqlalchemy import select

from bot.store import validation as v
from bot.store import vocab
from bot.store.database import Database
from bot.store.errors import InvalidInput, NotFound
from bot.store.models import Notice, utcnow


class Notices:
    def __init__(self, db: Database) -> None:
        self.db = db
        # SQLite ignores FOR UPDATE: serialise read-modify-write of a notice's JSON in-process
        self._lock = threading.Lock()

    def create(self, title: str, body: str, severity: str, by: str) -> Notice:
        """Store a notice from an official (committed before returning, with ``.id``).

        ``title``: one line, 1-100 characters; ``body``: 1-1000 characters; ``severity``: one of
        :data:`bot.store.vocab.NOTICE_SEVERITIES`; ``by``: the official's name.
        """
        title_s = v.opt_text(title, "title", v.MAX_NOTICE_TITLE)
        if title_s is None:
            raise InvalidInput(f"title is required (1-{v.MAX_NOTICE_TITLE} characters)")
        if "\n" in title_s or "\r" in title_s:
            raise InvalidInput("title must be one line")
        body_s = v.opt_text(body, "body", v.MAX_NOTICE_BODY)
        if body_s is None:
            raise InvalidInput(f"body is required (1-{v.MAX_NOTICE_BODY} characters)")
        v.one_of(severity, vocab.NOTICE_SEVERITIES, "severity")
        v.check_by(by)
        row = Notice(
            title=title_s,
            body=body_s.replace("\r\n", "\n"),
            severity=severity,
            created_at=utcnow(),
            created_by=by,
            broadcast={},
        )
        with self.db.session() as s:
            s.add(row)
            s.commit()
        return row

    def latest(self, limit: int = 3) -> list[Notice]:
        """The ``limit`` (1-100) most recent notices, newest first."""
        count = v.opt_int(limit, "limit", 1, v.MAX_NOTICE_LIMIT)
        with self.db.session() as s:
            rows = s.execute(
                select(Notice).order_by(Notice.created_at.desc(), Notice.id.desc()).limit(count)
            ).scalars()
            return list(rows)

    def get(self, notice_id: int) -> Notice:
        with self.db.session() as s:
            row = s.get(Notice, notice_id)
            if row is None:
                raise NotFound(f"notice {notice_id} not found")
            return row

    def record_broadcast(
        self, notice_id: int, channel: str, ok: bool | None, detail: str = ""
    ) -> Notice:
        """Record how sending ``notice_id`` on ``channel`` went; returns the updated notice.

        ``ok``: True = sent, False = failed, None = skipped (channel not configured). ``detail``
        (cut to 500 characters) says why, or what the platform answered. A later call for the
        same channel replaces the earlier outcome (a re-send).
        """
        v.check_channel(channel)
        if ok is not None and not isinstance(ok, bool):
            raise InvalidInput("ok must be true, false or null (skipped)")
        status = "skipped" if ok is None else ("sent" if ok else "failed")
        text = str(detail or "")[: v.MAX_BROADCAST_DETAIL]
        with self._lock, self.db.session() as s:
            row = s.execute(
                select(Notice).where(Notice.id == notice_id).with_for_update()
            ).scalar_one_or_none()
            if row is None:
                raise NotFound(f"notice {notice_id} not found")
            outcome = dict(row.broadcast or {})
            outcome[channel] = {"status": status, "detail": text, "at": utcnow().isoformat()}
            row.broadcast = outcome  # a new dict: the JSON column sees the change
            s.commit()
            return row
