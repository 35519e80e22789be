"""Package-level behaviour: no engine at import time, cached store per URL, CLI commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import get_settings
from bot.store import clear_stores, get_store

REPO = Path(__file__).resolve().parents[2]


def test_import_creates_no_engine_or_file(tmp_path: Path) -> None:
    code = (
        "import bot.store, bot.officials.app, bot.commands.officials, sys;"
        "from bot.store import _stores; assert _stores == {};"
        "assert 'sqlalchemy.dialects.sqlite.pysqlite' not in sys.modules"
    )
    env = {"BOSAI_VAR_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=REPO)
    assert not (tmp_path / "var").exists()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BOSAI_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    clear_stores()
    yield tmp_path
    clear_stores()
    get_settings.cache_clear()


def test_get_store_cached_per_url(cli_env: Path) -> None:
    a = get_store()
    assert get_store() is a
    assert get_store(f"sqlite:///{cli_env / 'other.db'}") is not a


def test_cli_officials_lifecycle(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    from bot.store.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(create_engine("sqlite://"))).get_current_head()
    assert f"revision {head}." in capsys.readouterr().out  # the newest migration, whichever it is
    assert main(["officials", "add", "佐藤", "--role", "operator"]) == 0
    out = capsys.readouterr().out
    token = out.strip().splitlines()[-1]
    assert token.startswith("bosai_")
    assert get_store().authenticate(token).role == "operator"
    assert main(["officials", "add", "佐藤", "--role", "viewer"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["officials", "list"]) == 0
    listing = capsys.readouterr().out
    assert "佐藤\toperator\tactive" in listing and token not in listing
    assert main(["officials", "revoke", "佐藤"]) == 0
    assert get_store().authenticate(token) is None
    assert main(["officials", "revoke", "佐藤"]) == 1
    with pytest.raises(SystemExit):
        main(["officials", "add", "x", "--role", "root"])
