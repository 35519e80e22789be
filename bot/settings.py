"""Configuration from the environment, with defaults that run on one machine.

Every setting is read when asked for (no work at import time). Paths default to folders inside
the repository checkout; the open data defaults to ``../shared/data`` beside the checkout when it
exists.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """Resolved settings. Build with :func:`get_settings`."""

    repo_root: Path
    var_dir: Path
    data_source: str | None
    gis_cache_dir: Path
    database_url: str
    rasa_port: int
    action_port: int
    officials_port: int
    host: str
    rasa_url: str
    public_base_url: str
    tiles_url: str
    tiles_attribution: str
    allowed_origins: tuple[str, ...]

    @property
    def models_dir(self) -> Path:
        return self.repo_root / "models"


def default_data_source() -> str | None:
    """``../shared/data`` beside the checkout when present, else None."""
    candidate = REPO_ROOT.parent / "shared" / "data"
    return str(candidate) if candidate.is_dir() else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    var_dir = Path(_env("BOSAI_VAR_DIR", str(REPO_ROOT / "var")) or "var").resolve()
    host = _env("BOSAI_HOST", "127.0.0.1") or "127.0.0.1"
    rasa_port = int(_env("BOSAI_RASA_PORT", "5005") or 5005)
    action_port = int(_env("BOSAI_ACTION_PORT", "5055") or 5055)
    officials_port = int(_env("BOSAI_OFFICIALS_PORT", "8000") or 8000)
    origins = _env("BOSAI_ALLOWED_ORIGINS", "*") or "*"
    return Settings(
        repo_root=REPO_ROOT,
        var_dir=var_dir,
        data_source=_env("BOSAI_DATA_SOURCE", default_data_source()),
        gis_cache_dir=Path(_env("BOSAI_GIS_CACHE", str(var_dir / "gis")) or "").resolve(),
        database_url=_env("DATABASE_URL", f"sqlite:///{var_dir / 'bosai.db'}") or "",
        rasa_port=rasa_port,
        action_port=action_port,
        officials_port=officials_port,
        host=host,
        rasa_url=_env("BOSAI_RASA_URL", f"http://{host}:{rasa_port}") or "",
        public_base_url=_env("BOSAI_PUBLIC_BASE_URL", f"http://{host}:{officials_port}") or "",
        tiles_url=_env(
            "BOSAI_TILES_URL", "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png"
        )
        or "",
        tiles_attribution=_env(
            "BOSAI_TILES_ATTRIBUTION",
            '<a href="https://maps.gsi.go.jp/development/ichiran.html">国土地理院</a>',
        )
        or "",
        allowed_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
    )


def resident_secret() -> bytes:
    """Key for hashing residents' channel user ids (``BOSAI_RESIDENT_SECRET``).

    When unset, a random key is created once in ``var/resident_secret`` (mode 0600) so hashes stay
    stable across restarts of one installation.
    """
    value = _env("BOSAI_RESIDENT_SECRET")
    if value:
        return value.encode("utf-8")
    path = get_settings().var_dir / "resident_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")
