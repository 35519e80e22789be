"""`bosai run` pre-flight checks and the Python 3.10 finder used by the Makefile."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.supervisor import port_is_free, write_endpoints
from bot.training import fingerprint

REPO = Path(__file__).resolve().parents[2]
BOSAI = str(Path(sys.executable).with_name("bosai"))


@pytest.mark.rasa  # reaches the port check only with a trained model
def test_port_taken_gives_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)
        env = dict(os.environ, BOSAI_VAR_DIR=str(tmp_path), BOSAI_RASA_PORT=str(port))
        result = subprocess.run(
            [BOSAI, "run", "--ready-timeout", "5"], env=env, cwd=REPO,
            capture_output=True, text=True, timeout=120,
        )
    if "No trained model" in result.stderr:
        # the port check needs a model to reach; make test trains before pytest
        raise AssertionError("no trained model in models/: run `make train` first")
    assert result.returncode == 2
    assert f"port {port} (Rasa server)" in result.stderr
    assert "already in use" in result.stderr
    assert "BOSAI_RASA_PORT" in result.stderr


def test_find_python_explains_when_310_is_missing(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "PYTHON310": ""}
    result = subprocess.run(
        ["/bin/bash", str(REPO / "scripts" / "find-python.sh")],
        env=env, capture_output=True, text=True,
    )
    assert result.returncode == 1
    assert "Python 3.10 is required" in result.stderr
    assert result.stdout == ""


def test_find_python_finds_a_310_interpreter() -> None:
    result = subprocess.run(
        [str(REPO / "scripts" / "find-python.sh")], capture_output=True, text=True
    )
    assert result.returncode == 0
    version = subprocess.run(
        [result.stdout.strip(), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True, text=True,
    ).stdout.strip()
    assert version == "(3, 10)"


def test_endpoints_default_to_sqlite_and_switch_to_postgres_and_redis(
    tmp_path: Path, monkeypatch
) -> None:
    import yaml

    from bot.settings import get_settings

    monkeypatch.setenv("BOSAI_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("TRACKER_STORE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    try:
        data = yaml.safe_load(write_endpoints(get_settings()).read_text())
        assert data["tracker_store"] == {
            "type": "bot.tracker_store.ErasingSQLTrackerStore", "dialect": "sqlite",
            "db": str(tmp_path / "tracker.db"),
        }
        assert "lock_store" not in data
        assert data["action_endpoint"]["url"].endswith(":5055/webhook")

        monkeypatch.setenv("TRACKER_STORE_URL", "postgresql://bot:pw@db.example:5433/rasa")
        monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/2")
        get_settings.cache_clear()  # the settings are read once per process
        data = yaml.safe_load(write_endpoints(get_settings()).read_text())
        assert data["tracker_store"]["dialect"] == "postgresql"
        assert data["tracker_store"]["type"] == "bot.tracker_store.ErasingSQLTrackerStore"
        assert data["tracker_store"]["url"] == "db.example"
        assert data["tracker_store"]["port"] == 5433
        assert data["tracker_store"]["db"] == "rasa"
        assert data["lock_store"] == {
            "type": "bot.lock_store.AtomicRedisLockStore", "url": "127.0.0.1", "port": 6379, "db": 2
        }
    finally:
        get_settings.cache_clear()


def test_fingerprint_changes_with_training_inputs(tmp_path: Path) -> None:
    (tmp_path / "bot" / "domain").mkdir(parents=True)
    (tmp_path / "data" / "nlu").mkdir(parents=True)
    (tmp_path / "config.yml").write_text("language: ja\n")
    (tmp_path / "bot" / "domain" / "core.yml").write_text("intents: [greet]\n")
    nlu = tmp_path / "data" / "nlu" / "core.yml"
    nlu.write_text("nlu: []\n")
    first = fingerprint(tmp_path)
    assert fingerprint(tmp_path) == first
    nlu.write_text("nlu: [x]\n")
    assert fingerprint(tmp_path) != first


def test_fingerprint_changes_with_the_diet_trainer(tmp_path: Path) -> None:
    (tmp_path / "bot" / "nlu").mkdir(parents=True)
    (tmp_path / "config.yml").write_text("language: ja\n")
    first = fingerprint(tmp_path)
    trainer = tmp_path / "bot" / "nlu" / "diet.py"
    trainer.write_text("WINDOW = 8\n")
    second = fingerprint(tmp_path)
    assert second != first
    trainer.write_text("WINDOW = 16\n")
    assert fingerprint(tmp_path) != second
