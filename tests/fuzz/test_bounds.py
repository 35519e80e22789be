"""Request-size bounds of every Sanic app, and the action server on loopback (bot/limits.py).

A body over the bound is refused with 413 as it arrives (before it is read, parsed or stored):
1 MiB for every route, 12 MiB for the two photo uploads of the officials' app. The
declared-length cases talk HTTP over a raw socket: the server answers from the headers alone, so
the client need not push megabytes into a socket the server is about to close.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from bot.limits import PHOTO_REQUEST_MAX_BYTES, REQUEST_MAX_BYTES
from bot.settings import REPO_ROOT
from tests.officials.conftest import Api, free_port

BOSAI = str(Path(sys.executable).with_name("bosai"))


def declared(url: str, path: str, length: int, content_type: str, extra: str = "") -> int:
    """Status of a POST that declares ``length`` bytes and sends a few of them."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\n{extra}Connection: close\r\n\r\n"
        )
        sock.sendall(head.encode("ascii") + b"x" * 100)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def noise_png(min_bytes: int) -> bytes:
    """A PNG of random pixels (does not compress) of at least ``min_bytes``."""
    from PIL import Image

    side = int((min_bytes / 3) ** 0.5) + 16
    buf = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buf, "PNG")
    assert len(buf.getvalue()) >= min_bytes
    return buf.getvalue()


def photo_files(api: Api) -> list[Path]:
    folder = api.store.photo_dir
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_officials_app_refuses_any_body_over_1_mib(api: Api) -> None:
    auth = {"Authorization": f"Bearer {api.tokens['operator']}"}
    text = "あ" * (REQUEST_MAX_BYTES // 3 + 10)  # a valid JSON report body just over 1 MiB
    resp = requests.post(
        f"{api.url}/api/v1/reports",
        json={"category": "other", "text": text, "lat": 43.0, "lon": 141.3},
        headers=auth,
        timeout=30,
    )
    assert resp.status_code == 413, resp.text
    assert resp.json()["error"]["code"] == "payload_too_large"  # the API's one error shape
    for path in (
        "/api/v1/reports",
        "/api/v1/notices",
        "/api/v1/messages/1/report",
        "/api/v1/officials",
    ):
        assert declared(api.url, path, 2 * REQUEST_MAX_BYTES, "application/json") == 413
    assert api.store.count_reports() == 0
    # a body under the bound still works
    ok = api.request(
        "POST", "/api/v1/reports", role="operator",
        json={"category": "other", "text": "短い", "lat": 43.0, "lon": 141.3},
    )  # fmt: skip
    assert ok.status_code == 201, ok.text
    assert api.store.count_reports() == 1


def test_photo_uploads_take_a_photo_over_1_mib_and_nothing_over_their_bound(api: Api) -> None:
    png = noise_png(REQUEST_MAX_BYTES + 200_000)  # a real photo above the app-wide bound
    report = api.store.create_report(
        category="other", text="x", lat=43.0, lon=141.3, channel="staff"
    )
    url = f"/api/v1/reports/{report.id}/photos"
    resp = api.request(
        "POST", url, role="operator", data=png, headers={"Content-Type": "image/png"}
    )
    assert resp.status_code == 201, resp.text
    widget = requests.post(
        f"{api.url}/widget/photo",
        files={"photo": ("p.png", noise_png(REQUEST_MAX_BYTES + 200_000), "image/png")},
        timeout=30,
    )
    assert widget.status_code == 201, widget.text
    stored = photo_files(api)
    assert len(stored) == 2

    too_big = PHOTO_REQUEST_MAX_BYTES + 1
    auth = f"Authorization: Bearer {api.tokens['operator']}\r\n"
    assert declared(api.url, url, too_big, "image/png", auth) == 413
    multipart = "multipart/form-data; boundary=b0undary"
    assert declared(api.url, "/widget/photo", too_big, multipart) == 413
    assert photo_files(api) == stored
    assert len(api.get(f"/api/v1/reports/{report.id}", role="operator").json()["report"]["photos"]) == 1


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of the sockets listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            address, hexport = fields[1].split(":")
            if fields[3] == "0A" and int(hexport, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
@pytest.mark.rasa  # the action server answers with the trained model's domain (bot/action_domain.py)
def test_action_server_listens_on_loopback_whatever_bosai_host_says(tmp_path: Path) -> None:
    port = free_port()
    env = dict(
        os.environ,
        BOSAI_HOST="0.0.0.0",
        BOSAI_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'bosai.db'}",
        BOSAI_GIS_CACHE=str(tmp_path / "no-gis"),
        BOSAI_RESIDENT_SECRET="test-secret",
    )
    proc = subprocess.Popen(
        [BOSAI, "actions", "--port", str(port)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.communicate()[0][-3000:]) from None
                time.sleep(0.3)
        assert _listening(port) == ["0100007F"]  # 127.0.0.1 and nothing else
        # Rasa sends its calls deflated (COMPRESS_ACTION_SERVER_REQUEST): a 3 MB tracker fits
        action_call = {
            "next_action": "action_no_such_action",
            "sender_id": "fuzz",
            "version": "3.6.21",
            "tracker": {"sender_id": "fuzz", "events": [{"event": "bot", "text": "x" * 3_000_000}]},
            "domain": {},
        }
        from rasa.utils.endpoints import ClientResponseError, EndpointConfig

        async def call_as_rasa_does() -> None:  # rasa/core/actions/action.py, compress=True
            endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
            await endpoint.request(json=action_call, method="post", compress=True)

        with pytest.raises(ClientResponseError) as refused:
            asyncio.run(call_as_rasa_does())
        assert refused.value.status == 404  # read in full and decompressed: no such action
        assert declared(f"http://127.0.0.1:{port}", "/webhook", 2 * REQUEST_MAX_BYTES,
                        "application/json") == 413  # fmt: skip
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.rasa
def test_rasa_server_refuses_bodies_over_1_mib(rasa_stack) -> None:
    """Every channel of the running Rasa server (bosai run) answers 413 over the bound."""
    for path in (
        "/webhooks/rest/webhook",
        "/webhooks/line/webhook",
        "/webhooks/telegram/webhook",
        "/socket.io/?EIO=4&transport=polling",
        "/model/parse",
    ):
        assert declared(rasa_stack.rasa_url, path, 2 * REQUEST_MAX_BYTES, "application/json") == 413
    port = int(urlsplit(rasa_stack.action_url).port or 0)
    assert _listening(port) == ["0100007F"]
    assert declared(rasa_stack.action_url, "/webhook", 2 * REQUEST_MAX_BYTES,
                    "application/json") == 413  # fmt: skip


@pytest.mark.anyio
async def test_rasa_app_takes_the_bound_from_the_environment_bosai_run_gives_it(
    monkeypatch: pytest.MonkeyPatch, store: Any
) -> None:
    """Rasa builds its own Sanic app; the bound reaches it through ``SANIC_REQUEST_MAX_SIZE``
    (``bot.limits.service_environment``, exported by ``bosai run``). No model needed."""
    from rasa.core.run import configure_app
    from sanic import Sanic

    from bot.channels.line import LineInput
    from bot.limits import service_environment
    from tests.channels.helpers import serve

    for name, value in service_environment().items():
        monkeypatch.setenv(name, value)
    Sanic.test_mode = True
    app = configure_app(
        [
            LineInput(
                "s", "t", "http://127.0.0.1:9", "http://127.0.0.1:9", store_factory=lambda: store
            )
        ],
        enable_api=True,
        auth_token="t",
    )
    assert app.config.REQUEST_MAX_SIZE == REQUEST_MAX_BYTES
    async with serve(app) as base:
        for path in ("/webhooks/line/webhook", "/model/parse", "/conversations/x/messages"):
            status = await asyncio.to_thread(
                declared, base, path, REQUEST_MAX_BYTES + 1, "application/json"
            )
            assert status == 413, path
        small = await asyncio.to_thread(declared, base, "/model/parse", 10, "application/json")
        assert small != 413


def test_bosai_run_gives_its_services_the_bound_and_calls_actions_on_loopback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    from bot.settings import get_settings
    from bot.supervisor import Service, Supervisor

    monkeypatch.setenv("BOSAI_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("BOSAI_HOST", "0.0.0.0")
    get_settings.cache_clear()
    try:
        sup = Supervisor(get_settings(), tmp_path / "model.tar.gz")
        actions = next(s for s in sup.services if s.name == "actions")
        assert actions.health_url.startswith("http://127.0.0.1:")
        endpoints = yaml.safe_load((tmp_path / "endpoints.yml").read_text())
        assert endpoints["action_endpoint"]["url"].startswith("http://127.0.0.1:")
        out = tmp_path / "env.txt"
        probe = (
            "import os, sys; open(sys.argv[1], 'w').write(os.environ['SANIC_REQUEST_MAX_SIZE']"
            " + ',' + os.environ['COMPRESS_ACTION_SERVER_REQUEST'])"
        )
        cmd = [sys.executable, "-c", probe, str(out)]
        sup.services = [Service(name="probe", label="Probe", cmd=cmd, port=0, health_url="")]
        sup.start()
        sup.purge = None
        process = sup.services[0].process
        assert process is not None
        process.wait(30)
        sup.stop()
    finally:
        get_settings.cache_clear()
    assert out.read_text() == f"{REQUEST_MAX_BYTES},true"


def test_the_photo_bound_is_the_stores() -> None:
    from bot import limits
    from bot.store import validation

    assert limits.MAX_PHOTO_BYTES == validation.MAX_PHOTO_BYTES
    assert limits.PHOTO_REQUEST_MAX_BYTES > validation.MAX_PHOTO_BYTES + 64 * 1024
