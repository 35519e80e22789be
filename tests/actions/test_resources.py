"""The action server loads the GIS index and migrates the store at start, not in an action."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from actions import resources
from bot.settings import get_settings
from tests.channels.helpers import free_port

BOSAI = str(Path(sys.executable).with_name("bosai"))
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh(tmp_path: Path, gis_cache: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BOSAI_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("BOSAI_GIS_CACHE", str(gis_cache))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bosai.db'}")
    get_settings.cache_clear()
    resources.clear()
    yield tmp_path
    resources.clear()
    get_settings.cache_clear()


def test_warm_up_loads_both(fresh: Path) -> None:
    assert resources.warm_up() == {"gis": True, "store": True}
    assert str(get_settings().gis_cache_dir) in resources._gis
    assert get_settings().database_url in resources._migrated
    idx = resources.gis_index()
    # the place searches' indexes are built too, not in the first resident's turn that types a place
    assert idx._search._index is not None and idx._areas._areas is not None


def test_warm_up_reports_a_missing_cache_and_still_migrates(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOSAI_GIS_CACHE", str(fresh / "never-imported"))
    get_settings.cache_clear()
    assert resources.warm_up() == {"gis": False, "store": True}


def test_bosai_actions_is_ready_before_the_first_request(fresh: Path) -> None:
    port = free_port()
    env = dict(os.environ, BOSAI_ACTION_PORT=str(port), SANIC_HOST="127.0.0.1")
    log = fresh / "actions.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [BOSAI, "actions"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                        break
                except OSError:
                    time.sleep(0.3)
            text = log.read_text(errors="replace")
            assert proc.poll() is None, text
            # loaded by the start hook, before the server answered its first request
            assert "action server resources: {'gis': True, 'store': True}" in text
            assert (fresh / "bosai.db").is_file()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
