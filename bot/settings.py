"""Configuration: one typed settings object read from the environment once.

:class:`Settings` (pydantic ``BaseSettings``) names every environment variable the project reads;
the README's Configuration table lists the same set (``tests/bot/test_settings.py`` checks it).
Processes build it once with :func:`get_settings` and pass it down; nothing else reads
``os.environ``. An empty variable counts as unset. Paths default to folders inside the checkout;
the open data defaults to ``../shared/data`` beside the checkout when it exists.

Rasa builds the channel connectors itself from ``credentials.yml``, whose ``${LINE_…}`` /
``${TELEGRAM_…}`` placeholders Rasa fills from the environment: ``bosai run`` exports those
variables to the Rasa process from this object (:meth:`Settings.channel_environment`).
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseSettings, Field, SecretStr, ValidationError, root_validator, validator

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The platforms' own API hosts (``LINE_API_BASE`` etc. override them, e.g. for fakes in tests).
LINE_API_BASE = "https://api.line.me"
LINE_DATA_API_BASE = "https://api-data.line.me"
TELEGRAM_API_BASE = "https://api.telegram.org/bot"

#: Variables ``credentials.yml`` refers to (Rasa refuses an unset one, so they default to "").
CHANNEL_VARIABLES = (
    "LINE_CHANNEL_SECRET",
    "LINE_CHANNEL_ACCESS_TOKEN",
    "LINE_API_BASE",
    "LINE_DATA_API_BASE",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_SECRET_TOKEN",
    "TELEGRAM_WEBHOOK_URL",
    "TELEGRAM_API_BASE",
    "BOSAI_REST_TOKEN",
)


def default_data_source() -> str | None:
    """``../shared/data`` beside the checkout when present, else None."""
    candidate = REPO_ROOT.parent / "shared" / "data"
    return str(candidate) if candidate.is_dir() else None


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


class Settings(BaseSettings):
    """Resolved settings; build with :func:`get_settings`.

    Every field names its environment variable (``env=``); fields without a value get the
    defaults documented in the README. Secrets are :class:`pydantic.SecretStr` so that they never
    appear in a repr or a log line.
    """

    # runtime folders and data
    var_dir: Path = Field(REPO_ROOT / "var", env="BOSAI_VAR_DIR")
    data_source: str | None = Field(default_factory=default_data_source, env="BOSAI_DATA_SOURCE")
    gis_cache_dir: Path = Field(None, env="BOSAI_GIS_CACHE")  # default: var_dir / "gis"
    # stores
    database_url: str = Field(None, env="DATABASE_URL")  # default: SQLite in var_dir
    resident_secret: SecretStr | None = Field(None, env="BOSAI_RESIDENT_SECRET")
    tracker_store_url: str | None = Field(None, env="TRACKER_STORE_URL")
    redis_url: str | None = Field(None, env="REDIS_URL")
    # personal data: days tracker events and other conversation data are kept (docs/privacy.md)
    retention_days: int = Field(30, env="BOSAI_RETENTION_DAYS", ge=1, le=3650)
    # services
    host: str = Field("127.0.0.1", env="BOSAI_HOST")
    rasa_port: int = Field(5005, env="BOSAI_RASA_PORT", ge=1, le=65535)
    action_port: int = Field(5055, env="BOSAI_ACTION_PORT", ge=1, le=65535)
    officials_port: int = Field(8000, env="BOSAI_OFFICIALS_PORT", ge=1, le=65535)
    rasa_url: str = Field(None, env="BOSAI_RASA_URL")  # default: http://host:rasa_port
    rasa_api_token: SecretStr | None = Field(None, env="RASA_API_TOKEN")
    credentials_file: Path = Field(REPO_ROOT / "credentials.yml", env="BOSAI_CREDENTIALS")
    #: ``production`` refuses settings that are only safe on a developer's machine (``*`` origins)
    env: Literal["development", "production"] = Field("development", env="BOSAI_ENV")
    allowed_origins: tuple[str, ...] = Field(("*",), env="BOSAI_ALLOWED_ORIGINS")
    tiles_url: str = Field(
        "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png", env="BOSAI_TILES_URL"
    )
    tiles_attribution: str = Field(
        '<a href="https://maps.gsi.go.jp/development/ichiran.html">国土地理院</a>',
        env="BOSAI_TILES_ATTRIBUTION",
    )
    # durable intake of the LINE / Telegram webhooks (bot/channels/intake.py)
    intake_workers: int = Field(4, env="BOSAI_INTAKE_WORKERS", ge=1, le=64)
    intake_give_up_seconds: float = Field(
        900.0, env="BOSAI_INTAKE_GIVE_UP_SECONDS", ge=10, le=86_400
    )
    intake_drain_seconds: float = Field(10.0, env="BOSAI_INTAKE_DRAIN_SECONDS", ge=0, le=600)
    # channels
    line_channel_secret: SecretStr | None = Field(None, env="LINE_CHANNEL_SECRET")
    line_channel_access_token: SecretStr | None = Field(None, env="LINE_CHANNEL_ACCESS_TOKEN")
    line_api_base: str = Field(LINE_API_BASE, env="LINE_API_BASE")
    line_data_api_base: str = Field(LINE_DATA_API_BASE, env="LINE_DATA_API_BASE")
    telegram_bot_token: SecretStr | None = Field(None, env="TELEGRAM_BOT_TOKEN")
    telegram_secret_token: SecretStr | None = Field(None, env="TELEGRAM_SECRET_TOKEN")
    telegram_webhook_url: str | None = Field(None, env="TELEGRAM_WEBHOOK_URL")
    telegram_api_base: str = Field(TELEGRAM_API_BASE, env="TELEGRAM_API_BASE")
    telegram_notice_chat_id: str | None = Field(None, env="TELEGRAM_NOTICE_CHAT_ID")
    rest_token: SecretStr | None = Field(None, env="BOSAI_REST_TOKEN")
    rate_limit_per_minute: int = Field(20, env="BOSAI_RATE_LIMIT_PER_MINUTE", ge=0, le=100_000)
    widget_sessions_per_minute: int = Field(
        30, env="BOSAI_WIDGET_SESSIONS_PER_MINUTE", ge=0, le=100_000
    )

    class Config:
        frozen = True

        @classmethod
        def parse_env_var(cls, field_name: str, raw_val: str) -> Any:
            if field_name == "allowed_origins":  # comma-separated, not JSON
                return raw_val
            return BaseSettings.Config.parse_env_var(field_name, raw_val)

        @classmethod
        def customise_sources(
            cls, init_settings: Any, env_settings: Any, file_secret_settings: Any
        ) -> Any:
            def environment(settings: BaseSettings) -> dict[str, Any]:
                return {k: v for k, v in env_settings(settings).items() if v not in ("", None)}

            return init_settings, environment

    @validator("allowed_origins", pre=True)
    def _split_origins(cls, value: Any) -> Any:  # noqa: N805 - pydantic validator
        if isinstance(value, str):
            value = tuple(o.strip() for o in value.split(",") if o.strip())
        return value or ("*",)

    @validator("allowed_origins", always=True)
    def _no_wildcard_in_production(cls, value: Any, values: dict[str, Any]) -> Any:  # noqa: N805
        if values.get("env") == "production" and "*" in value:
            raise ValueError(
                "'*' (any web site) is refused when BOSAI_ENV=production: list the sites that "
                "embed the widget, e.g. https://www.city.example.lg.jp"
            )
        return value

    @root_validator(skip_on_failure=True)
    def _derived(cls, values: dict[str, Any]) -> dict[str, Any]:  # noqa: N805
        var_dir = Path(values["var_dir"]).resolve()
        values["var_dir"] = var_dir
        values["gis_cache_dir"] = Path(values.get("gis_cache_dir") or var_dir / "gis").resolve()
        values["database_url"] = values.get("database_url") or f"sqlite:///{var_dir / 'bosai.db'}"
        values["rasa_url"] = (
            values.get("rasa_url") or f"http://{values['host']}:{values['rasa_port']}"
        )
        return values

    @property
    def repo_root(self) -> Path:
        return REPO_ROOT

    @property
    def models_dir(self) -> Path:
        return REPO_ROOT / "models"

    @classmethod
    def environment_variables(cls) -> list[str]:
        """Every environment variable the settings read, in declaration order."""
        return [str(f.field_info.extra["env"]) for f in cls.__fields__.values()]

    def channel_environment(self) -> dict[str, str]:
        """The variables ``credentials.yml`` refers to, with "" for the unset ones."""
        values = {
            "LINE_CHANNEL_SECRET": _secret(self.line_channel_secret),
            "LINE_CHANNEL_ACCESS_TOKEN": _secret(self.line_channel_access_token),
            "LINE_API_BASE": self.line_api_base,
            "LINE_DATA_API_BASE": self.line_data_api_base,
            "TELEGRAM_BOT_TOKEN": _secret(self.telegram_bot_token),
            "TELEGRAM_SECRET_TOKEN": _secret(self.telegram_secret_token),
            "TELEGRAM_WEBHOOK_URL": self.telegram_webhook_url or "",
            "TELEGRAM_API_BASE": self.telegram_api_base,
            "BOSAI_REST_TOKEN": _secret(self.rest_token),
        }
        assert tuple(values) == CHANNEL_VARIABLES
        return values


class ConfigurationError(ValueError):
    """An environment variable has a value the settings cannot use (named in the message)."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read from the environment on the first call.

    Tests that change the environment call ``get_settings.cache_clear()`` afterwards.

    Raises
    ------
    ConfigurationError
        Naming each variable with an unusable value (``BOSAI_RASA_PORT: value is not a valid
        integer``).
    """
    try:
        return Settings()  # type: ignore[call-arg]  # every field has a default (env or Field)
    except ValidationError as exc:
        fields = Settings.__fields__
        lines = []
        for err in exc.errors():
            name = str(err["loc"][0])
            env = fields[name].field_info.extra["env"] if name in fields else name
            lines.append(f"{env}: {err['msg']}")
        raise ConfigurationError("; ".join(lines)) from None


def resident_secret(settings: Settings | None = None) -> bytes:
    """Key for hashing residents' channel user ids (``BOSAI_RESIDENT_SECRET``).

    When unset, a random key is created once in ``var/resident_secret`` (mode 0600) so hashes stay
    stable across restarts of one installation.
    """
    settings = settings or get_settings()
    if settings.resident_secret is not None:
        return settings.resident_secret.get_secret_value().encode("utf-8")
    path = settings.var_dir / "resident_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")
