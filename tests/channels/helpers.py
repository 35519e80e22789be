"""Loopback servers for connector tests: the connector in a real Sanic app, fake platform APIs.

The connector runs inside a Sanic app with its real Rasa ``InputChannel`` blueprint; Rasa's
``on_new_message`` is a :class:`Collector` that records each ``UserMessage`` and answers through
the message's own output channel (Rasa's ``OutputChannel.send_response`` interface) with scripted
bot responses. Fake platform APIs are aiohttp servers that record every request.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic

from bot.channels.intake import IntakeConfig
from bot.channels.webhook import WebhookInput


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


REPO = Path(__file__).resolve().parents[2]


def action_server_env(var: Path) -> dict[str, str]:
    """The environment of a private action server: its own runtime folder and SQLite store, the
    prepared GIS cache, a fixed resident secret."""
    return {
        **os.environ,
        "BOSAI_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{var / 'bosai.db'}",
        "BOSAI_GIS_CACHE": os.environ.get("BOSAI_GIS_CACHE", str(REPO / "var" / "gis")),
        "BOSAI_RESIDENT_SECRET": "k",
    }


@contextmanager
def served_actions(var: Path, timeout: float = 120.0) -> Iterator[int]:
    """``bosai actions`` on a free loopback port, healthy before the port is given; stopped after."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "actions", "--port", str(port)],
        cwd=REPO, env=action_server_env(var), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
                break
            except OSError:
                assert server.poll() is None, "the action server did not start"
                assert time.monotonic() < deadline, "the action server was not healthy in time"
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=20)


@dataclass
class Collector:
    """Rasa's ``on_new_message``: records messages and answers with scripted responses."""

    responses: Callable[[UserMessage], list[dict[str, Any]]] = lambda m: [
        {"text": "了解しました。"}
    ]
    messages: list[UserMessage] = field(default_factory=list)
    delay: float = 0.0

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        for response in self.responses(message):
            await message.output_channel.send_response(message.sender_id, dict(response))

    @property
    def texts(self) -> list[str]:
        return [m.text or "" for m in self.messages]


@asynccontextmanager
async def serve(app: Sanic) -> AsyncIterator[str]:
    """Run a Sanic app on a free loopback port (listeners included); yields its base URL."""
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


#: the durable intake in tests: quick polls and backoffs, a short lease
FAST_INTAKE = IntakeConfig(
    workers=4,
    lease_seconds=2.0,
    give_up_seconds=30.0,
    drain_seconds=5.0,
    max_attempts=3,
    backoff_base=0.05,
    backoff_cap=0.5,
    poll_seconds=0.05,
)


async def settle(channel: Any, timeout: float = 8.0) -> None:
    """Wait until the webhook channel's intake has nothing pending and its workers are idle."""
    worker = channel.worker
    assert worker is not None, "the channel's blueprint was not built"
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        counts = await asyncio.to_thread(
            lambda: worker.store_factory().intake_counts(channel.name())
        )
        if counts["pending"] == 0 and worker.idle:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"intake did not settle: {counts}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def sanic_app(channel: InputChannel, collector: Collector) -> AsyncIterator[str]:
    """Serve ``channel``'s blueprint under ``/webhooks/<name>`` on a free port; yields base URL.

    A webhook channel without its own intake settings gets :data:`FAST_INTAKE`."""
    Sanic.test_mode = True
    if isinstance(channel, WebhookInput) and channel.intake_config is None:
        channel.intake_config = FAST_INTAKE
    app = Sanic(f"test_{channel.name()}_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(collector), url_prefix=f"/webhooks/{channel.url_prefix()}")
    async with serve(app) as base:
        yield base


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class FakeApi:
    """An aiohttp server on loopback whose routes record requests and answer scripted replies."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.app = web.Application()
        self.base = ""
        self._runner: web.AppRunner | None = None

    def route(self, method: str, path: str, handler: Callable[[web.Request, bytes], Any]) -> None:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            self.requests.append(
                Recorded(request.method, request.path, dict(request.headers), body)
            )
            result = handler(request, body)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        self.app.router.add_route(method, path, wrapped)

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        port = free_port()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def calls(self, path_suffix: str) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith(path_suffix)]

    async def wait_for(
        self, path_suffix: str, count: int = 1, timeout: float = 5.0
    ) -> list[Recorded]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.calls(path_suffix)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"expected {count} call(s) to {path_suffix}, got {len(self.calls(path_suffix))}"
                )
            await asyncio.sleep(0.02)
        return self.calls(path_suffix)


def jpeg_with_exif() -> bytes:
    """A small JPEG carrying EXIF with GPS coordinates and a camera model."""
    import io

    from PIL import Image

    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0110] = "SecretCam 3000"  # Model
    exif[0x8825] = {1: "N", 2: (43.0, 3.0, 0.0), 3: "E", 4: (141.0, 21.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


@dataclass
class Scripted:
    """One scripted answer of a fake platform call: the HTTP status, an optional
    ``Retry-After``, and whether the call took effect anyway (a response lost on the way back)."""

    status: int
    retry_after: int | None = None
    took_effect: bool = False


class FakeLine(FakeApi):
    """Fake LINE Messaging API with what the intake depends on.

    ``reply_script`` / ``push_script`` answer the next calls (then 200). A push whose
    ``X-Line-Retry-Key`` was already accepted gets 409, as LINE does. ``delivered`` lists the
    messages the resident really received, in order: ``(user or "reply", text)``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.reply_script: list[Scripted] = []
        self.push_script: list[Scripted] = []
        self.accepted_keys: set[str] = set()
        self.delivered: list[tuple[str, str]] = []
        self.route("POST", "/v2/bot/message/reply", self._reply)
        self.route("POST", "/v2/bot/message/push", self._push)

    @staticmethod
    def _answer(step: Scripted) -> web.Response:
        headers = {"Retry-After": str(step.retry_after)} if step.retry_after is not None else {}
        return web.json_response(
            {"message": f"scripted {step.status}"}, status=step.status, headers=headers
        )

    def _reply(self, _: web.Request, body: bytes) -> web.Response:
        step = self.reply_script.pop(0) if self.reply_script else Scripted(200)
        if step.status == 200 or step.took_effect:
            data = json.loads(body)
            self.delivered.extend(("reply", m.get("text", "")) for m in data["messages"])
        if step.status == 200:
            return web.json_response({"sentMessages": []})
        return self._answer(step)

    def _push(self, request: web.Request, body: bytes) -> web.Response:
        key = request.headers.get("X-Line-Retry-Key")
        if key and key in self.accepted_keys:
            return web.json_response({"message": "The retry key is already accepted"}, status=409)
        step = self.push_script.pop(0) if self.push_script else Scripted(200)
        if step.status == 200 or step.took_effect:
            data = json.loads(body)
            self.delivered.extend((data["to"], m.get("text", "")) for m in data["messages"])
            if key:
                self.accepted_keys.add(key)
        if step.status == 200:
            return web.json_response({"sentMessages": []})
        return self._answer(step)

    @property
    def texts(self) -> list[str]:
        return [text for _, text in self.delivered]


class ServedLine:
    """A LINE connector served on loopback (``async with`` starts and stops it); :meth:`post`
    sends webhook calls signed with ``sign`` (the test's channel secret)."""

    def __init__(self, channel: Any, served: Any, sign: Callable[[bytes], str]) -> None:
        self.channel = channel
        self._ctx = served
        self._sign = sign
        self.base = ""

    async def __aenter__(self) -> Any:
        self.base = await self._ctx.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._ctx.__aexit__(None, None, None)

    async def post(self, *events: dict) -> int:
        body = json.dumps({"destination": "Ubot", "events": list(events)}).encode()
        headers = {"Content-Type": "application/json", "X-Line-Signature": self._sign(body)}
        async with aiohttp.ClientSession() as s:
            async with s.post(
                f"{self.base}/webhooks/line/webhook", data=body, headers=headers
            ) as r:
                return r.status
