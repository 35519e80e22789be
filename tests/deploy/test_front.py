"""The scale-out stack of bench/scale_stack.py, built from deploy/: two Rasa + two action servers
on PostgreSQL + Redis and one officials' app, behind nginx with the rendered site.

One resident's conversation through the front is served by the two instances in turn and still
completes; the widget's socket.io is upgraded to a WebSocket through the front; the body limits
answer 413 at the front; Rasa's HTTP API is not reachable there. Runs with ``make test`` (which
installs nginx); skipped with the reason when nginx, redis-server or PostgreSQL is missing.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.training import latest_model
from tests.store.conftest import PG_HOST, PG_PORT, PG_USER, _pg_admin

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from scale_stack import ScaleStack  # noqa: E402  (bench/scale_stack.py)

pytestmark = [
    pytest.mark.rasa,
    pytest.mark.postgres,
    pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (make nginx)"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]

LOCATION = '/share_location{"latitude": 41.7687, "longitude": 140.7288}'


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


@pytest.fixture(scope="module")
def stack() -> Iterator[ScaleStack]:
    try:
        _pg_admin().close()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL not reachable on {PG_HOST}:{PG_PORT} as {PG_USER}: {exc}")
    if latest_model(Path(__file__).resolve().parents[2]) is None:
        pytest.fail("no trained model in models/: run `make train` (make test does it)")
    with ScaleStack() as running:
        yield running


def _status(url: str, data: bytes | None = None, headers: dict | None = None) -> int:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_conversation_alternates_instances_and_completes(stack: ScaleStack) -> None:
    before = len(stack.upstreams())
    sender = "front-1"
    register = '/register_evacuation{"place_type": "car", "number": "3"}'
    assert "場所" in texts(stack.rest(sender, register))
    assert "高齢の方" in texts(stack.rest(sender, LOCATION))
    assert "必要な物" in texts(stack.rest(sender, "/deny"))
    assert "連絡" in texts(stack.rest(sender, "水と毛布"))
    assert "3人" in texts(stack.rest(sender, "/affirm"))

    served = stack.upstreams()[before:]
    for _ in range(50):  # nginx logs a request just after its response went out
        if len(served) >= 5:
            break
        time.sleep(0.1)
        served = stack.upstreams()[before:]
    assert len(served) == 5
    assert set(served) == set(stack.rasa_ports)  # both instances took turns ...
    assert all(served[i] != served[i + 1] for i in range(4))  # ... one after the other

    import psycopg2

    conn = psycopg2.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=stack.databases["reports"]
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT place_type, headcount, needs FROM evacuees")
            assert cur.fetchall() == [("car", 3, ["water", "blankets"])]  # stored once
    finally:
        conn.close()


def test_widget_socketio_upgrades_to_websocket_through_the_front(stack: ScaleStack) -> None:
    # engine.io's first transport (long-polling) ...
    url = f"{stack.front_url}/socket.io/?EIO=4&transport=polling"
    with urllib.request.urlopen(url, timeout=30) as resp:
        body = resp.read().decode()
    assert body.startswith("0{") and '"sid"' in body
    # ... and the WebSocket it upgrades to: nginx must pass Upgrade / Connection on
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{stack.front_port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", stack.front_port), timeout=30) as sock:
        sock.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(4096)
        head, _, rest = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        while len(rest) < 2 or len(rest) < 2 + (rest[1] & 0x7F):
            rest += sock.recv(4096)
        length = rest[1] & 0x7F
        frame = rest[2 : 2 + length].decode()
    assert frame.startswith("0{") and json.loads(frame[1:])["sid"]  # engine.io open packet


def test_front_limits_and_routes(stack: ScaleStack) -> None:
    served = len(stack.upstreams())
    too_big = b"{" + b" " * (1024 * 1024 + 10) + b"}"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {stack.token}"}
    assert _status(stack.rest_url, too_big, headers) == 413
    assert len(stack.upstreams()) == served  # refused at the front, no instance saw it
    # the officials' app answers everything else; Rasa's own API is not routed
    assert _status(f"{stack.front_url}/health") == 200
    parse = json.dumps({"text": "こんにちは"}).encode()
    assert _status(f"{stack.front_url}/model/parse", parse, headers) == 404
    # a photo-sized body passes the front and reaches the photo upload, which answers for
    # itself (400 missing_photo: not multipart), not the front's 413
    photo = b"x" * (3 * 1024 * 1024)
    status = _status(
        f"{stack.front_url}/widget/photo", photo, {"Content-Type": "application/octet-stream"}
    )
    assert status == 400
