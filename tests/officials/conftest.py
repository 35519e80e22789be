"""Fixtures for the officials' app: fresh settings + database per test, the app served live.

sanic-testing is not installed in the project venv, so the real app is served on a free loopback
port from a background thread (``app.create_server``) and exercised with ``requests``. Every
answer of ``/api/v1`` is checked against the OpenAPI document (``tests/officials/contract.py``).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.settings import REPO_ROOT, get_settings
from bot.store import Store, clear_stores, get_store
from tests.officials.contract import check as check_against_openapi

GSI = Path(REPO_ROOT).parent / "shared" / "data" / "gsi"
#: a small slice of the open data (Numazu's sites and shelters) for tests with a real GIS index
NUMAZU = [
    GSI / "emergency_sites_222038_numazu.geojson",
    GSI / "designated_shelters_222038_numazu.geojson",
]
NUMAZU_BBOX = "138.7,35.0,139.0,35.2"

NOTICE_ENV_VARS = (
    "LINE_CHANNEL_ACCESS_TOKEN",
    "LINE_API_BASE",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE",
    "TELEGRAM_NOTICE_CHAT_ID",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """Serve a Sanic app on 127.0.0.1:<free port> in a background thread."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._server: Any = None
        self._thread = threading.Thread(target=self._run, name="live-sanic", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await server.startup()
        await server.before_start()
        await server.after_start()
        self._server = server

    async def _stop(self) -> None:
        server = self._server
        await server.before_stop()
        server.close()
        await server.wait_closed()
        # graceful shutdown as Sanic's own runner does: close idle keep-alive connections
        for conn in list(server.connections):
            conn.close_if_idle()
        for _ in range(40):
            if not server.connections:
                break
            await asyncio.sleep(0.05)
        for conn in list(server.connections):
            conn.abort()
        await server.after_stop()
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def start(self) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the app did not start within 30 s")
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop.is_closed():
            return
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()


@dataclass
class Api:
    """A live officials' app with a store and one token per role."""

    url: str
    store: Store
    tokens: dict[str, str]
    server: LiveServer
    tmp_path: Path

    def request(
        self, method: str, path: str, role: str | None = "viewer", **kw: Any
    ) -> requests.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        response = requests.request(method, self.url + path, headers=headers, timeout=30, **kw)
        check_against_openapi(response)  # every answer a test sees matches the document
        return response

    def get(self, path: str, role: str | None = "viewer", **kw: Any) -> requests.Response:
        return self.request("GET", path, role, **kw)

    def upload_photo(
        self, report_id: int, body: bytes, content_type: str, role: str = "operator"
    ) -> requests.Response:
        """``POST /api/v1/reports/{id}/photos`` with the bytes as the body."""
        return self.request(
            "POST",
            f"/api/v1/reports/{report_id}/photos",
            role=role,
            data=body,
            headers={"Content-Type": content_type},
        )


@pytest.fixture(scope="session", autouse=True)
def sanic_test_mode() -> Iterator[None]:
    """Several apps start in one process: keep Sanic's touch-ups re-runnable (as sanic-testing does)."""
    from sanic import Sanic

    previous = Sanic.test_mode
    Sanic.test_mode = True
    yield
    Sanic.test_mode = previous


@pytest.fixture
def settings_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Fresh var dir and SQLite database; map tiles from a dead loopback port (never internet)."""
    var = tmp_path / "var"
    monkeypatch.setenv("BOSAI_VAR_DIR", str(var))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'reports.db'}")
    monkeypatch.setenv("BOSAI_RESIDENT_SECRET", "test-resident-secret")
    monkeypatch.setenv("BOSAI_GIS_CACHE", str(tmp_path / "no-gis-cache"))
    monkeypatch.setenv("BOSAI_TILES_URL", "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png")
    # notices are broadcast only where a test says so (never with a developer's real tokens)
    for name in NOTICE_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    clear_stores()
    yield tmp_path
    clear_stores()
    get_settings.cache_clear()


@pytest.fixture
def make_api(settings_env: Path) -> Iterator[Callable[..., Api]]:
    servers: list[LiveServer] = []

    def make(gis_loader: Callable[[Path], Any] | None = None) -> Api:
        from bot.officials.app import create_app

        app = create_app(name=f"officials_test_{uuid.uuid4().hex[:12]}")
        if gis_loader is not None:
            app.ctx.gis_loader = gis_loader
        store = get_store()
        store.upgrade()
        tokens = {
            role: store.add_official(f"{role}-user", role)[1]
            for role in ("viewer", "operator", "admin")
        }
        server = LiveServer(app).start()
        servers.append(server)
        return Api(server.url, store, tokens, server, settings_env)

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


def numazu_cache(settings_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Import the Numazu slice into a fresh GIS cache and point BOSAI_GIS_CACHE at it (the test is
    skipped with the reason when the open data is not there)."""
    if not all(p.exists() for p in NUMAZU):
        pytest.skip(f"open data slice not found under {GSI}")
    from gis.importer import import_data

    cache = settings_env / "gis"
    import_data([str(p) for p in NUMAZU], cache)
    monkeypatch.setenv("BOSAI_GIS_CACHE", str(cache))
    get_settings.cache_clear()
    return cache


@pytest.fixture
def gis_api(
    make_api: Callable[..., Api], settings_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Api:
    """The app with the GIS index of the Numazu slice (loaded in the background: wait_for_gis)."""
    numazu_cache(settings_env, monkeypatch)
    return make_api()


def wait_for_gis(api: Api, timeout: float = 60.0) -> requests.Response:
    """The first answer of /api/v1/shelters that is not 503 gis_loading."""
    deadline = time.monotonic() + timeout
    while True:
        resp = api.get("/api/v1/shelters", params={"bbox": NUMAZU_BBOX, "limit": 5000})
        if resp.status_code != 503 or resp.json()["error"]["code"] != "gis_loading":
            return resp
        if time.monotonic() > deadline:
            raise AssertionError("GIS index did not load in time")
        time.sleep(0.2)
