"""Rasa's tracker store database (the ``events`` table of ``SQLTrackerStore``): the retention
purge of conversations. Plain SQLAlchemy, no Rasa import; see docs/privacy.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection, Engine


def _has_table(bind: Engine | Connection, name: str) -> bool:
    return bool(sa.inspect(bind).has_table(name))


def tracker_events_table() -> sa.TableClause:
    """Rasa's ``events`` table (``rasa.core.tracker_store.SQLTrackerStore``), columns we use."""
    return sa.table(
        "events",
        sa.column("id", sa.Integer),
        sa.column("sender_id", sa.String),
        sa.column("type_name", sa.String),
        sa.column("timestamp", sa.Float),
    )


@dataclass
class TrackerPurge:
    """What :func:`purge_trackers` removed; ``found`` is False when there is no events table."""

    conversations: int = 0
    events: int = 0
    found: bool = False
    live_senders: set[str] = field(default_factory=set, repr=False)


def purge_trackers(engine: Engine, cutoff: datetime) -> TrackerPurge:
    """Delete tracker events older than ``cutoff`` from Rasa's SQL tracker store.

    A conversation whose last event is older than the cutoff is deleted whole; in a
    conversation still in use, events before the cutoff are deleted except those of the
    conversation session in progress (Rasa reads a tracker from its latest ``session_started``,
    so that session is never cut).
    """
    out = TrackerPurge()
    if not _has_table(engine, "events"):
        return out
    out.found = True
    ev = tracker_events_table()
    limit = cutoff.timestamp()
    per_sender = (
        select(
            ev.c.sender_id.label("sender_id"),
            func.max(ev.c.timestamp).label("last"),
            func.max(
                sa.case((ev.c.type_name == "session_started", ev.c.timestamp), else_=None)
            ).label("session_start"),
        )
        .group_by(ev.c.sender_id)
        .subquery()
    )
    with engine.begin() as conn:
        gone = [
            s
            for (s,) in conn.execute(
                select(per_sender.c.sender_id).where(per_sender.c.last < limit)
            )
        ]
        for start in range(0, len(gone), 500):
            chunk = gone[start : start + 500]
            out.events += conn.execute(delete(ev).where(ev.c.sender_id.in_(chunk))).rowcount
        out.conversations = len(gone)
        old_sessions = select(per_sender.c.sender_id, per_sender.c.session_start).where(
            per_sender.c.last >= limit, per_sender.c.session_start.is_not(None)
        )
        for sender, session_start in conn.execute(old_sessions).all():
            bound = min(limit, float(session_start))
            out.events += conn.execute(
                delete(ev).where(ev.c.sender_id == sender, ev.c.timestamp < bound)
            ).rowcount
        out.live_senders = set(conn.execute(select(ev.c.sender_id).distinct()).scalars())
    return out


def tracker_store_url(tracker_url: str | None, var_dir: Any) -> str:
    """SQLAlchemy URL of the tracker store ``bosai run`` configures (see
    :func:`bot.supervisor.write_endpoints`): ``TRACKER_STORE_URL`` or ``var/tracker.db``."""
    if tracker_url:
        return tracker_url
    return f"sqlite:///{var_dir}/tracker.db"
