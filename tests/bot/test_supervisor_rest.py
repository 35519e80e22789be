"""`bosai run` says whether the REST channel is served (only with BOSAI_REST_TOKEN)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.settings import Settings
from bot.supervisor import Supervisor


@pytest.mark.parametrize("token", [None, "t0ken"])
def test_rest_url_only_with_a_token(
    token: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(var_dir=tmp_path, rest_token=SecretStr(token) if token else None)  # type: ignore[call-arg]
    Supervisor(settings, tmp_path / "model.tar.gz").print_urls()
    out = capsys.readouterr().out
    if token:
        assert "Rasa server (REST):    http://127.0.0.1:5005/webhooks/rest/webhook" in out
    else:
        assert "Rasa server (REST):    off (set BOSAI_REST_TOKEN to serve it)" in out
    assert "t0ken" not in out
