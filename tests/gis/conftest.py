"""Fixtures of the GIS tests: the real shared data imported once per session into a tmp cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "data" / "fixtures" / "gis"


def shared_data() -> Path | None:
    """The shared open data folder (BOSAI_DATA_SOURCE or ../shared/data), when present."""
    env = os.environ.get("BOSAI_DATA_SOURCE")
    path = Path(env) if env else REPO.parent / "shared" / "data"
    return path if (path / "gsi" / "emergency_sites_hokkaido.geojson").is_file() else None


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = shared_data()
    if root is None:
        pytest.skip("shared open data (../shared/data) not available")
    return root


@pytest.fixture(scope="session")
def real_cache(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> Path:
    """The default data set imported once into a session tmp cache."""
    from gis.importer import import_data

    cache = tmp_path_factory.mktemp("gis-real")
    import_data([str(data_root)], cache)
    return cache


@pytest.fixture(scope="session")
def real_index(real_cache: Path):
    from gis.service import load_index

    return load_index(real_cache)
