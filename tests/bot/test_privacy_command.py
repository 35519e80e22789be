"""``bosai privacy purge`` on the tracker store ``bosai run`` configures (SQLite in var/) and the
report store; ``bosai run``'s schedule runs it at start and again after the interval."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.cli import main
from bot.commands.privacy import PurgeSchedule
from bot.settings import REPO_ROOT, get_settings
from tests.store.test_privacy import _save_conversation

NOW = datetime.now(timezone.utc)
DAY = timedelta(days=1)


@pytest.fixture()
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from bot.store import clear_stores

    monkeypatch.setenv("BOSAI_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bosai.db'}")
    monkeypatch.setenv("BOSAI_RESIDENT_SECRET", "test-secret")
    monkeypatch.delenv("TRACKER_STORE_URL", raising=False)
    monkeypatch.delenv("BOSAI_RETENTION_DAYS", raising=False)
    get_settings.cache_clear()
    clear_stores()
    yield tmp_path
    clear_stores()
    get_settings.cache_clear()


def _senders(db: Path) -> set[str]:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        out = {r[0] for r in conn.execute(text("SELECT DISTINCT sender_id FROM events"))}
    engine.dispose()
    return out


def test_purge_removes_old_trackers_and_keeps_recent(var_dir: Path, capsys) -> None:
    db = var_dir / "tracker.db"
    _save_conversation(db, "line:" + "a" * 64, [[NOW - 40 * DAY]])
    _save_conversation(db, "line:" + "b" * 64, [[NOW - 2 * DAY]])

    assert main(["privacy", "purge", "--json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out)
    assert report["retention_days"] == 30
    assert report["removed"]["conversations"] == 1
    assert report["removed"]["tracker_events"] == 5
    assert "緑町" not in out and "a" * 64 not in out  # counts only, no personal data
    assert _senders(db) == {"line:" + "b" * 64}


def test_retention_days_from_the_environment(var_dir: Path, monkeypatch, capsys) -> None:
    db = var_dir / "tracker.db"
    _save_conversation(db, "line:" + "b" * 64, [[NOW - 2 * DAY]])
    monkeypatch.setenv("BOSAI_RETENTION_DAYS", "1")
    get_settings.cache_clear()
    assert main(["privacy", "purge"]) == 0
    assert "older than 1 days" in capsys.readouterr().out
    assert _senders(db) == set()


def test_purge_without_a_tracker_store_yet(var_dir: Path, capsys) -> None:
    assert main(["privacy", "purge", "--json"]) == 0
    removed = json.loads(capsys.readouterr().out)["removed"]
    assert "conversations" not in removed and removed["addresses"] == 0
    assert not (var_dir / "tracker.db").exists()  # not created by the purge


def test_schedule_runs_at_start_and_after_the_interval(var_dir: Path) -> None:
    db = var_dir / "tracker.db"
    _save_conversation(db, "line:" + "a" * 64, [[NOW - 40 * DAY]])
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    log = var_dir / "logs" / "privacy.log"
    schedule = PurgeSchedule(REPO_ROOT, log, env, interval=3600)
    try:
        schedule.tick(now=0.0)
        assert schedule.runs == 1 and schedule.process is not None
        assert schedule.process.wait(timeout=120) == 0
        schedule.tick(now=60.0)  # not yet due
        assert schedule.runs == 1
        assert _senders(db) == set()
        _save_conversation(db, "line:" + "c" * 64, [[NOW - 40 * DAY]])
        schedule.tick(now=3601.0)
        assert schedule.runs == 2
        assert schedule.process.wait(timeout=120) == 0
        assert _senders(db) == set()
    finally:
        schedule.stop()
    assert log.read_text().count("Purged personal data older than 30 days") == 2
    assert sys.executable in schedule.process.args
