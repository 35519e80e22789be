"""Fixtures of the fuzz tests: the officials' app fixtures are shared with tests/officials."""

from tests.officials.conftest import api, make_api, sanic_test_mode, settings_env  # noqa: F401
