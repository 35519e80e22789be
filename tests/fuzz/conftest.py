"""Fixtures of the fuzz tests, shared with the officials' and the channels' tests."""

from tests.channels.conftest import anyio_backend, store  # noqa: F401
from tests.officials.conftest import (  # noqa: F401
    api,
    gis_api,
    make_api,
    sanic_test_mode,
    settings_env,
)
