"""Hostile input to the website widget: its socket.io channel and its photo upload.

socket.io: events of every wrong type, raw engine.io / socket.io packets that do not parse, text
with NUL and bidi characters: the server never answers 500, Rasa sees nothing invalid, and odd
but valid text reaches Rasa as typed. Photo upload: broken multipart, wrong types, truncated and
bit-flipped images, decompression bombs: never a 500, no file for a refused upload, and every
accepted upload is a re-encoded image without EXIF.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
from typing import Any

import aiohttp
import pytest
import requests
from PIL import Image

from bot.channels.core import strip_controls
from bot.store import Store
from tests.channels.helpers import Collector, jpeg_with_exif, sanic_app
from tests.channels.test_webchat import ORIGIN, channel_for, connect, wait
from tests.fuzz.test_hostile_webhooks import ODD_TEXTS
from tests.officials.conftest import Api

BAD_EVENTS: list[Any] = [
    None,
    12,
    "text",
    [],
    ["user_uttered", "x"],
    {},
    {"message": None},
    {"message": 12},
    {"message": ["a"]},
    {"message": {"text": "a"}},
    {"message": ""},
    {"message": "   \t\n"},
    {"message": "x", "session_id": 12},
    {"message": "x", "session_id": ["a"]},
    {"message": "x", "session_id": {"a": 1}},
    {"message": "x", "session_id": "../../etc/passwd"},
    {"message": "x", "session_id": "a" * 10_000},
    {"message": "x", "session_id": "\x00\u202e"},
    {"message": "\ud800\x00\x1b", "session_id": "SESSION"},  # nothing left when cleaned
    {"message": "/share_location{" + "[" * 900 + "]" * 900 + "}", "session_id": "SESSION"},
    {"message": '/share_location{"latitude": NaN, "longitude": 1e999}', "session_id": "SESSION"},
    {"message": '/share_location{"latitude": "35", "longitude": []}', "session_id": "SESSION"},
]


@pytest.mark.anyio
async def test_socketio_refuses_wrong_types_and_forwards_odd_text_as_typed(store: Store) -> None:
    collector = Collector()
    async with sanic_app(channel_for(store), collector) as base:
        client, received = await connect(base)
        for bad in (
            None,
            12,
            "x",
            [],
            ("a", "b"),
            {"session_id": {"a": 1}},
            {"session_id": "\x00" * 5000},
        ):
            await client.emit("session_request", bad)
            await asyncio.sleep(0.05)  # one packet per poll (engine.io caps a batch)
        await client.emit("session_request", {"session_id": None})
        await wait(lambda: len([r for r in received if r[0] == "session"]) == 8)
        session = [r[1] for r in received if r[0] == "session"][-1]
        assert isinstance(session, str)
        for data in BAD_EVENTS:
            if isinstance(data, dict) and data.get("session_id") == "SESSION":
                data = {**data, "session_id": session}
            await client.emit("user_uttered", data)
            await asyncio.sleep(0.05)
        await client.emit("no_such_event", {"message": "x", "session_id": session})
        await asyncio.sleep(1.0)
        # wrong shapes are dropped; the long or broken location payloads get a reply, no turn
        assert collector.texts == []
        for text in ODD_TEXTS:
            await client.emit("user_uttered", {"message": text, "session_id": session})
            await asyncio.sleep(0.05)
        await wait(lambda: len(collector.messages) == len(ODD_TEXTS) - 1)
        await client.disconnect()
    # as typed, control characters removed (the widget's buttons send /payloads: no ／ here);
    # the location look-alike is refused with a reply
    expected = [strip_controls(t).strip() for t in ODD_TEXTS if not t.startswith("/share_loc")]
    assert sorted(t.strip() for t in collector.texts) == sorted(expected)


async def _polling_sid(s: aiohttp.ClientSession, base: str) -> str:
    async with s.get(f"{base}/socket.io/?EIO=4&transport=polling", headers={"Origin": ORIGIN}) as r:
        assert r.status == 200
        text = await r.text()
    return str(json.loads(text[1:])["sid"])


@pytest.mark.anyio
async def test_raw_socketio_packets_that_do_not_parse_are_no_500(store: Store) -> None:
    collector = Collector()
    packets = [
        b"",
        b"\x00\xff\xfe",
        b"9",
        b"4",
        b"40{",
        b"42[",
        b'42["user_uttered"' + b",[" * 5_000 + b"]" * 5_000 + b"]",
        b'42["user_uttered",{"message":"x"}' + b"}" * 100,
        b"451-" + b'["user_uttered",{"_placeholder":true,"num":99}]',
        b'42["user_uttered",{"message":"\xff\xfe"}]',
        b"\x1e" * 1000,
        b"4" * 100_000,
    ]
    async with sanic_app(channel_for(store), collector) as base:
        async with aiohttp.ClientSession() as s:
            for packet in packets:
                sid = await _polling_sid(s, base)
                url = f"{base}/socket.io/?EIO=4&transport=polling&sid={sid}"
                headers = {"Origin": ORIGIN, "Content-Type": "text/plain;charset=UTF-8"}
                async with s.post(url, data=b"40", headers=headers) as r:
                    assert r.status == 200
                async with s.post(url, data=packet, headers=headers) as r:
                    assert r.status < 500, (packet[:40], r.status)
            # the server still works afterwards
            client, received = await connect(base)
            await client.emit("session_request", {"session_id": None})
            await wait(lambda: received)
            await client.disconnect()
    assert collector.messages == []


def _jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def _png_bomb() -> bytes:
    """A PNG whose header says 30,000 x 30,000 pixels (900 million) in a few kilobytes."""
    out = io.BytesIO()
    Image.new("1", (30_000, 30_000)).save(out, format="PNG")
    return out.getvalue()


def _mutations(data: bytes, count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        b = bytearray(data)
        for _ in range(rng.randint(1, 12)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        if rng.random() < 0.3:
            b = b[: rng.randrange(1, len(b))]
        out.append(bytes(b))
    return out


def _files(api: Api) -> set[str]:
    folder = api.store.photo_dir
    return {p.name for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def test_photo_upload_refuses_broken_uploads_and_stores_only_clean_images(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.widget.routes.UPLOADS_PER_WINDOW", 10_000)  # fuzz past the limit
    url = f"{api.url}/widget/photo"
    origin = {"Origin": ORIGIN}
    raw_cases: list[tuple[bytes, str]] = [
        (b"", "multipart/form-data; boundary=x"),
        (
            b"--x\r\nContent-Disposition: form-data; name=photo\r\n\r\n",
            "multipart/form-data; boundary=x",
        ),
        (b"--x--", "multipart/form-data"),
        (b"\x00" * 1000, "multipart/form-data; boundary=\x00"),
        (_jpeg(), "image/jpeg"),
        (b'{"photo": "x"}', "application/json"),
        (b"photo=abc", "application/x-www-form-urlencoded"),
    ]
    for body, ctype in raw_cases:
        r = requests.post(url, data=body, headers={**origin, "Content-Type": ctype}, timeout=30)
        assert r.status_code in (400, 415), (body[:30], ctype, r.status_code, r.text)
    before = _files(api)
    assert before == set()
    jpeg, png = jpeg_with_exif(), _png_bomb()
    uploads: list[tuple[str, bytes, str]] = [
        ("no-photo-field", jpeg, "image/jpeg"),
        ("p.jpg", b"", "image/jpeg"),
        ("p.jpg", b"not an image at all", "image/jpeg"),
        ("p.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        ("p.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
        ("p.png", png, "image/png"),
        ("p.jpg", jpeg[: len(jpeg) // 2], "image/jpeg"),
        ("\u202egpj.exe", _jpeg(), 'image/jpeg; name="\x00"'),
        ("../../../etc/passwd", _jpeg((8, 8)), "image/jpeg"),
    ]
    uploads += [("m.jpg", m, "image/jpeg") for m in _mutations(jpeg, 60, seed=11)]
    uploads += [("m.png", m, "image/png") for m in _mutations(_png((32, 32)), 40, seed=12)]
    accepted = 0
    for name, data, ctype in uploads:
        field = "photo" if name != "no-photo-field" else "picture"
        r = requests.post(url, files={field: (name, data, ctype)}, headers=origin, timeout=30)
        assert r.status_code in (201, 400, 413, 415), (name, r.status_code, r.text)
        if r.status_code == 201:
            accepted += 1
            ref = r.json()["photo_ref"]
            stored = api.store.photo_path(ref).read_bytes()
            with Image.open(io.BytesIO(stored)) as img:
                img.load()
                assert not img.getexif(), "EXIF kept"
    # refused uploads left no file; every accepted one is a file (equal photos share one)
    files = _files(api)
    assert 1 <= len(files) <= accepted
    assert accepted < len(uploads)


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (0, 200, 0)).save(out, format="PNG")
    return out.getvalue()
