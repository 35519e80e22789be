"""The widget in real headless Chromium (Playwright).

``test_widget_conversation`` runs against our socket.io channel with a scripted bot
(``tests/widget/botserver.py``); ``test_widget_with_rasa_stack`` runs the same flow against the
real bot stack (``rasa_stack`` fixture: trained model, action server, officials' app).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.channels.helpers import free_port, jpeg_with_exif, sanic_app, serve
from tests.widget.botserver import SHELTER_ANSWER, make_bot

pytestmark = [pytest.mark.anyio, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SAPPORO = {"latitude": 43.0621, "longitude": 141.3544}


@asynccontextmanager
async def page_server(widget_src: str, rasa_url: str, port: int = 0) -> AsyncIterator[str]:
    """A municipal page on its own origin embedding the widget tag."""
    html = f"""<!doctype html><html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>○○市 防災</title></head>
<body><h1>○○市 防災情報</h1><p>市からのお知らせ</p>
<script src="{widget_src}" data-server="{rasa_url}" data-title="防災チャット"></script>
</body></html>"""
    app = web.Application()

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app.router.add_get("/", index)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = port or free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def officials_app() -> AsyncIterator[str]:
    from sanic import Sanic

    from bot.officials.app import create_app
    from bot.settings import get_settings

    Sanic.test_mode = True
    app = create_app(get_settings(), name=f"off_{uuid.uuid4().hex[:8]}")
    async with serve(app) as base:
        yield base


@asynccontextmanager
async def browser_page(page_url: str, init_script: str | None = None) -> AsyncIterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian chromium at /usr/bin/chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
        )
        context = await browser.new_context(
            locale="ja-JP",
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            geolocation=SAPPORO,
        )
        await context.grant_permissions(["geolocation"], origin=page_url)
        page = await context.new_page()
        if init_script:
            await page.add_init_script(init_script)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            yield page, context, errors
        finally:
            await browser.close()


async def run_flow(page: Any, context: Any, page_url: str, shelter_check: Any) -> None:
    """Open, ask, click a quick reply, share the (fake) location, see the nearest shelter."""
    from playwright.async_api import expect

    await page.goto(page_url)
    launcher = page.get_by_role("button", name="防災チャット")
    await launcher.click()
    dialog = page.get_by_role("dialog", name="防災チャット")
    await expect(dialog).to_be_visible()
    box = page.get_by_label("メッセージ")
    await expect(box).to_be_focused()
    await box.fill("近くの避難所を教えて")
    await box.press("Enter")
    log = page.get_by_role("log")
    await expect(log).to_contain_text("近くの避難所を教えて")
    flood = page.get_by_role("group", name="返信の候補").get_by_role("button", name="洪水")
    await expect(flood).to_be_visible(timeout=60_000)
    await flood.click()
    location = page.get_by_role("group", name="返信の候補").get_by_role(
        "button", name="現在地を送る"
    )
    await expect(location).to_be_visible(timeout=60_000)
    await context.set_geolocation(SAPPORO)
    await location.click()
    await expect(log).to_contain_text("現在地を送りました")
    await shelter_check(log)


async def test_widget_conversation(widget_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from playwright.async_api import expect

    from bot.settings import get_settings
    from bot.store import get_store

    page_port = free_port()
    monkeypatch.setenv("BOSAI_ALLOWED_ORIGINS", f"http://127.0.0.1:{page_port}")
    get_settings.cache_clear()
    channel, bot = make_bot()
    ARTIFACTS.mkdir(exist_ok=True)
    async with officials_app() as officials, sanic_app(channel, bot) as rasa_url:
        async with page_server(f"{officials}/widget.js", rasa_url, page_port) as page_url:
            async with browser_page(page_url) as (page, context, errors):

                async def shelter(log: Any) -> None:
                    await expect(log).to_contain_text(SHELTER_ANSWER)

                await run_flow(page, context, page_url, shelter)
                texts = bot.texts
                assert texts[0] == "近くの避難所を教えて"
                assert texts[1] == '/ask_shelter{"hazard": "flood"}'
                assert texts[2].startswith("/share_location")
                assert json.loads(texts[2][len("/share_location") :]) == SAPPORO
                session = bot.messages[0].sender_id
                assert {m.sender_id for m in bot.messages} == {session}
                await page.screenshot(path=str(ARTIFACTS / "widget-conversation.png"))

                # bot text is rendered as text, never as HTML
                box = page.get_by_label("メッセージ")
                await box.fill("html")
                await box.press("Enter")
                log = page.get_by_role("log")
                await expect(log).to_contain_text('<b id="injected">太字</b>')
                assert await page.locator("#injected").count() == 0
                assert await page.evaluate("window.pwned === undefined")

                # photo: upload to the officials' app, EXIF stripped, ref sent to the bot
                await page.locator("input[type=file]").set_input_files(
                    {"name": "p.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_exif()}
                )
                await expect(log).to_contain_text("写真を受け取りました。")
                photo_text = bot.texts[-1]
                ref = json.loads(photo_text[len("/share_photo") :])["photo_ref"]
                saved = get_store().photo_path(ref).read_bytes()
                assert b"SecretCam" not in saved

                # the session and the visible history survive a reload
                count = len(bot.messages)
                await page.reload()
                await expect(page.get_by_role("dialog", name="防災チャット")).to_be_visible()
                await expect(page.get_by_role("log")).to_contain_text(SHELTER_ANSWER)
                box = page.get_by_label("メッセージ")
                await box.fill("ありがとう")
                await box.press("Enter")
                await expect(page.get_by_role("log")).to_contain_text("もう一度お願いします")
                assert len(bot.messages) == count + 1
                assert bot.messages[-1].sender_id == session

                # keyboard: Escape closes the panel and focus returns to the launcher
                await page.keyboard.press("Escape")
                await expect(page.get_by_role("dialog")).to_be_hidden()
                await expect(page.get_by_role("button", name="防災チャット")).to_be_focused()
                await page.screenshot(path=str(ARTIFACTS / "widget-closed.png"))
                assert errors == []


async def test_widget_without_websocket(widget_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A municipal proxy that lets no WebSocket through: the widget talks over long-polling, and
    its own code leaves the page's globals alone."""
    from playwright.async_api import expect

    from bot.settings import get_settings

    page_port = free_port()
    monkeypatch.setenv("BOSAI_ALLOWED_ORIGINS", f"http://127.0.0.1:{page_port}")
    get_settings.cache_clear()
    channel, bot = make_bot()
    no_websocket = 'window.WebSocket = undefined; window.io = "the page io";'
    async with officials_app() as officials, sanic_app(channel, bot) as rasa_url:
        async with page_server(f"{officials}/widget.js", rasa_url, page_port) as page_url:
            async with browser_page(page_url, no_websocket) as (page, context, errors):

                async def shelter(log: Any) -> None:
                    await expect(log).to_contain_text(SHELTER_ANSWER)

                await run_flow(page, context, page_url, shelter)
                assert bot.texts[:2] == ["近くの避難所を教えて", '/ask_shelter{"hazard": "flood"}']
                assert await page.evaluate("[typeof window.WebSocket, window.io]") == [
                    "undefined",
                    "the page io",
                ]
                assert errors == []


@pytest.mark.rasa
async def test_widget_with_rasa_stack(rasa_stack: Any) -> None:
    """Same flow against the trained bot: the answer names a real nearby site."""
    from playwright.async_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    async with page_server(f"{rasa_stack.officials_url}/widget.js", rasa_stack.rasa_url) as url:
        async with browser_page(url) as (page, context, errors):

            async def shelter(log: Any) -> None:
                # the answer gives a distance in metres or kilometres
                await expect(log).to_contain_text("m", timeout=60_000)
                text = await log.inner_text()
                assert "避難" in text.split("現在地を送りました")[-1]

            await run_flow(page, context, url, shelter)
            await page.screenshot(path=str(ARTIFACTS / "widget-rasa.png"))
            assert errors == []
