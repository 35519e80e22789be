"""``bosai privacy purge``: remove personal data older than the retention (docs/privacy.md).

It deletes, from Rasa's tracker store (the one ``bosai run`` configures: SQLite
``var/tracker.db`` or ``TRACKER_STORE_URL``), tracker events older than ``BOSAI_RETENTION_DAYS``
(whole conversations when their last event is older; the session in progress is never cut), and
from the report store what only served those conversations (:meth:`bot.store.privacy.Privacy.purge`).
It prints counts only, never personal data.

:class:`PurgeSchedule` is how ``bosai run`` runs it: once at start and then every day, as a child
process (a failing purge is logged to ``var/logs/privacy.log`` and never stops the services).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

#: How often ``bosai run`` purges.
PURGE_INTERVAL_S = 24 * 3600.0


def register(subparsers: argparse._SubParsersAction) -> None:
    privacy = subparsers.add_parser("privacy", help="personal data: retention purge")
    sub = privacy.add_subparsers(dest="privacy_command", metavar="ACTION")
    privacy.set_defaults(func=lambda args: _help(privacy))
    purge = sub.add_parser(
        "purge",
        help="delete conversations and other personal data older than BOSAI_RETENTION_DAYS",
    )
    purge.add_argument(
        "--days",
        type=int,
        default=None,
        help="retention in days (default: BOSAI_RETENTION_DAYS, 30)",
    )
    purge.add_argument("--json", action="store_true", help="print the counts as JSON")
    purge.set_defaults(func=cmd_purge)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def tracker_engine(url: str) -> Any:
    """An engine on Rasa's tracker database, or None when the SQLite file does not exist yet
    (Rasa has never run: nothing to purge, and the file is not created here)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.future import create_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or not Path(parsed.database).exists():
            return None
        return create_engine(url, future=True, connect_args={"timeout": 30})
    return create_engine(url, future=True, pool_pre_ping=True)


def purge(days: int, now: datetime | None = None) -> dict[str, int]:
    """Run the purge with a retention of ``days``; the counts of what was removed."""
    from bot.settings import get_settings
    from bot.store import get_store
    from bot.store.trackers import purge_trackers, tracker_store_url

    settings = get_settings()
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(days=days)
    counts: dict[str, int] = {}
    engine = tracker_engine(tracker_store_url(settings.tracker_store_url, settings.var_dir))
    live: set[str] | None = None
    if engine is not None:
        try:
            trackers = purge_trackers(engine, cutoff)
        finally:
            engine.dispose()
        counts["conversations"] = trackers.conversations
        counts["tracker_events"] = trackers.events
        live = trackers.live_senders if trackers.found else None
    store = get_store()
    store.upgrade()
    counts.update(store.privacy.purge(cutoff, now=now))
    # addresses are needed while a conversation exists; without a tracker store to ask, none
    # is deleted
    counts["addresses"] = store.privacy.purge_addresses(cutoff, live) if live is not None else 0
    return counts


def cmd_purge(args: argparse.Namespace) -> int:
    from bot.settings import get_settings

    days = args.days if args.days is not None else get_settings().retention_days
    if days < 1:
        print("error: --days must be at least 1", file=sys.stderr)
        return 2
    counts = purge(days)
    if args.json:
        print(json.dumps({"retention_days": days, "removed": counts}, sort_keys=True))
    else:
        print(f"Purged personal data older than {days} days:")
        for key in sorted(counts):
            print(f"  {key}: {counts[key]}")
    return 0


class PurgeSchedule:
    """Runs ``bosai privacy purge`` as a child process at start and every ``interval`` seconds.

    ``tick()`` is called from the supervisor's watch loop; it never blocks and never raises.
    """

    def __init__(
        self,
        cwd: Path,
        log_path: Path,
        env: dict[str, str] | None = None,
        interval: float = PURGE_INTERVAL_S,
    ) -> None:
        self.cwd = cwd
        self.log_path = log_path
        self.env = env
        self.interval = interval
        self.process: subprocess.Popen | None = None
        self.next_at = 0.0
        self.runs = 0
        self._log: IO[bytes] | None = None

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self.process is not None and self.process.poll() is None:
            return
        if now < self.next_at:
            return
        self.next_at = now + self.interval
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            if self._log is None:
                self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop())
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "privacy", "purge"],
                cwd=self.cwd,
                env=self.env,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
            self.runs += 1
        except OSError as exc:
            print(f"privacy purge could not start: {exc}", file=sys.stderr)

    def stop(self, grace: float = 10.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
