"""The installed `bosai` console script lists every sub-command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BOSAI = str(Path(sys.executable).with_name("bosai"))


def test_help_lists_the_subcommands() -> None:
    result = subprocess.run([BOSAI, "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for command in ("run", "train", "data", "gis", "officials", "db", "telegram-poll"):
        assert f"\n    {command} " in result.stdout or f"\n    {command}\n" in result.stdout, command


def test_unknown_subcommand_is_an_error() -> None:
    result = subprocess.run([BOSAI, "no-such-command"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
