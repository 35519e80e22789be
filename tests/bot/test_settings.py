"""The typed settings: every variable the README documents is read, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import ConfigurationError, Settings, get_settings, resident_secret

README = Path(__file__).resolve().parents[2] / "README.md"


def documented_variables() -> set[str]:
    """The variable names in the first column of the README's Configuration table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n#", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    return names


def test_readme_table_lists_exactly_the_variables_the_settings_read() -> None:
    documented = documented_variables()
    read = set(Settings.environment_variables())
    assert "DATABASE_URL" in documented and "LINE_API_BASE" in documented
    assert read - documented == set(), "read by the settings but not in the README table"
    assert documented - read == set(), "in the README table but not read by the settings"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in Settings.environment_variables():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOSAI_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_defaults_follow_the_runtime_folder(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    s = get_settings()
    assert s.var_dir == tmp_path.resolve()
    assert s.gis_cache_dir == tmp_path.resolve() / "gis"
    assert s.database_url == f"sqlite:///{tmp_path.resolve() / 'bosai.db'}"
    assert (s.rasa_port, s.action_port, s.officials_port) == (5005, 5055, 8000)
    assert s.rasa_url == "http://127.0.0.1:5005"
    assert s.allowed_origins == ("*",)
    assert s.channel_environment()["LINE_CHANNEL_SECRET"] == ""
    assert s.channel_environment()["TELEGRAM_API_BASE"] == "https://api.telegram.org/bot"


def test_environment_values_and_empty_means_unset(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("BOSAI_ALLOWED_ORIGINS", "https://city.example, https://www.city.example")
    clean_env.setenv("BOSAI_RASA_PORT", "")
    clean_env.setenv("BOSAI_HOST", "0.0.0.0")
    clean_env.setenv("LINE_CHANNEL_ACCESS_TOKEN", "line-token-123")
    clean_env.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    s = get_settings()
    assert s.allowed_origins == ("https://city.example", "https://www.city.example")
    assert s.rasa_port == 5005 and s.rasa_url == "http://0.0.0.0:5005"
    assert s.redis_url == "redis://127.0.0.1:6379/3"
    assert s.channel_environment()["LINE_CHANNEL_ACCESS_TOKEN"] == "line-token-123"
    assert "line-token-123" not in repr(s)  # secrets never show in a repr or a log line


def test_bad_value_names_the_variable(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("BOSAI_OFFICIALS_PORT", "eighty")
    with pytest.raises(
        ConfigurationError, match="BOSAI_OFFICIALS_PORT: value is not a valid integer"
    ):
        get_settings()


def test_resident_secret_from_variable_or_kept_file(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = resident_secret()
    assert len(first) == 64 and resident_secret() == first
    assert (tmp_path / "resident_secret").stat().st_mode & 0o777 == 0o600
    clean_env.setenv("BOSAI_RESIDENT_SECRET", "shared-secret")
    get_settings.cache_clear()
    assert resident_secret() == b"shared-secret"


def settings_after(env: pytest.MonkeyPatch, **values: str) -> Settings:
    """The settings read afresh after setting ``values`` in the environment."""
    for name, value in values.items():
        env.setenv(name, value)
    get_settings.cache_clear()
    return get_settings()


def test_production_refuses_any_origin(clean_env: pytest.MonkeyPatch) -> None:
    """``*`` origins are for a developer's machine: with BOSAI_ENV=production the start stops."""
    with pytest.raises(ConfigurationError, match=r"BOSAI_ALLOWED_ORIGINS: '\*' .* BOSAI_ENV=prod"):
        settings_after(clean_env, BOSAI_ENV="production")  # the default is *
    with pytest.raises(ConfigurationError, match="BOSAI_ALLOWED_ORIGINS"):
        settings_after(clean_env, BOSAI_ALLOWED_ORIGINS="https://www.city.example.lg.jp, *")
    s = settings_after(clean_env, BOSAI_ALLOWED_ORIGINS="https://www.city.example.lg.jp")
    assert s.env == "production" and s.allowed_origins == ("https://www.city.example.lg.jp",)
    with pytest.raises(ConfigurationError, match="BOSAI_ENV: unexpected value"):
        settings_after(clean_env, BOSAI_ENV="staging")
    s = settings_after(clean_env, BOSAI_ENV="development", BOSAI_ALLOWED_ORIGINS="*")
    assert s.allowed_origins == ("*",)
