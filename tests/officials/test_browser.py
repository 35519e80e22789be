"""The dashboard in real headless Chromium (Debian's /usr/bin/chromium; no browser download).

Signs in, sees a seeded report on the map and in the list, filters it out and back, opens the
detail with its photo, changes the status, exports CSV, and checks that a report text made of
HTML shows as text. Map tiles point at a dead loopback port; any non-loopback request fails the
test. A screenshot goes to test-artifacts/.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.officials import build_assets
from bot.settings import REPO_ROOT
from tests.officials.conftest import Api, numazu_cache
from tests.officials.fakes import fakes  # noqa: F401  (fixture)
from tests.store.helpers import add_report

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(REPO_ROOT) / "test-artifacts"
XSS = "<img src=x onerror=alert(1)>"


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 8 for _ in range(8))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        yield b
        b.close()


def test_dashboard_end_to_end(api: Api, browser) -> None:
    if build_assets.missing_assets():
        build_assets.build()
    store = api.store
    flood = add_report(
        store, "road_flooded", "駅前の道路が冠水しています", (43.068, 141.350), "line",
        place_text="札幌駅前", headcount=2,
    )
    store.attach_photo(flood.id, store.save_photo(tiny_png(), "image/png"))
    xss = store.create_report(category="other", text=XSS, lat=41.77, lon=140.73, channel="telegram")

    context = browser.new_context(
        accept_downloads=True, locale="ja-JP", viewport={"width": 1400, "height": 900}
    )
    outside: list[str] = []

    def guard(route):
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("blob:", "data:")) or host == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(api.url + "/")
    page.fill("#token", "bosai_not_a_token")
    page.click("#signin-button")
    page.wait_for_selector("#signin-error:has-text('正しくありません')")
    page.fill("#token", api.tokens["operator"])
    page.click("#signin-button")
    page.wait_for_selector("#user-name:has-text('operator-user')")

    row = page.locator(f"#report-list tr[data-report-id='{flood.id}']")
    pin = page.locator(f"#map .report-pin[data-report-id='{flood.id}']")
    row.wait_for()
    pin.wait_for()
    assert "駅前の道路が冠水しています" in row.inner_text()
    assert page.locator(f"#map .report-pin[data-report-id='{xss.id}']").count() == 1

    # user text is text: the HTML shows literally, no element is created, no script ran
    xss_cell = page.locator(f"#report-list tr[data-report-id='{xss.id}'] td.text")
    assert xss_cell.inner_text() == XSS
    assert page.locator("#report-list img, #map img[src='x']").count() == 0

    # filter out by category, then back
    page.click("#f-categories-box summary")
    page.uncheck("#f-cat-road_flooded")
    row.wait_for(state="detached")
    pin.wait_for(state="detached")
    assert page.locator(f"#report-list tr[data-report-id='{xss.id}']").count() == 1
    page.check("#f-cat-road_flooded")
    row.wait_for()
    pin.wait_for()
    page.click("#f-categories-box summary")
    # and by text
    page.fill("#f-q", "冠水")
    page.click("#f-apply")
    page.locator(f"#report-list tr[data-report-id='{xss.id}']").wait_for(state="detached")
    assert row.count() == 1
    page.click("#f-reset")
    page.locator(f"#report-list tr[data-report-id='{xss.id}']").wait_for()

    # detail with photo, then status change
    row.click()
    page.wait_for_selector(f"#d-id:has-text('{flood.id}')")
    img = page.locator("#d-photos img")
    img.wait_for()
    assert img.get_attribute("src").startswith("blob:")
    page.wait_for_function("document.querySelector('#d-photos img').naturalWidth === 8")
    page.select_option("#d-status", "confirmed")
    page.fill("#d-note", "現地で確認")
    page.click("#d-apply")
    page.wait_for_selector(
        f"#report-list tr[data-report-id='{flood.id}'] .badge:has-text('確認済み')"
    )
    assert store.get_report(flood.id).status == "confirmed"
    last = store.report_history(flood.id)[-1]
    assert (last.old_status, last.new_status, last.by, last.note) == (
        "new",
        "confirmed",
        "operator-user",
        "現地で確認",
    )
    assert "現地で確認" in page.locator("#d-history").inner_text()

    # detail of the HTML report: still text
    page.locator(f"#report-list tr[data-report-id='{xss.id}']").click()
    page.wait_for_selector(f"#d-id:has-text('{xss.id}')")
    assert XSS in page.locator("#d-fields").inner_text()
    assert page.locator("#d-fields img").count() == 0

    # export CSV
    with page.expect_download() as info:
        page.click("#export-csv")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "駅前の道路が冠水しています" in text and "確認済み" in text and XSS in text

    # evacuee summary and attribution are on the page
    assert "登録 0件" in page.locator("#ev-total").inner_text()
    assert "国土地理院" in page.locator("#attribution-lines").inner_text()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # a viewer reads the detail but is not offered the status form
    page.click("#signout")
    page.fill("#token", api.tokens["viewer"])
    page.click("#signin-button")
    page.wait_for_selector("#user-name:has-text('viewer-user')")
    page.locator(f"#report-list tr[data-report-id='{flood.id}']").click()
    page.wait_for_selector(f"#d-id:has-text('{flood.id}')")
    assert page.locator("#d-form").is_hidden()
    # nor the residents' words, nor a search in them (docs/privacy.md)
    assert "駅前の道路が冠水しています" not in page.locator("#d-fields").inner_text()
    assert page.locator("#f-q").is_disabled()
    # nor the photo (a face or a house number), only how many there are
    page.wait_for_selector("#d-photos p:has-text('写真 1 枚')")
    assert page.locator("#d-photos img").count() == 0
    context.close()

    assert dialogs == [], f"a script ran: {dialogs}"
    assert errors == [], errors
    assert outside == [], f"requests left the machine: {outside}"


def test_dashboard_shelter_status(
    make_api, settings_env: Path, monkeypatch: pytest.MonkeyPatch, browser
) -> None:
    """Designated sites from the real GIS index appear when zoomed in; an operator sets one's status."""
    cache = numazu_cache(settings_env, monkeypatch)
    if build_assets.missing_assets():
        build_assets.build()
    from gis.service import load_index

    site = load_index(cache).get_site("E2220300003111")  # 門池中学校, a designated shelter
    assert site is not None
    api = make_api()
    point = (site.lat + 0.002, site.lon + 0.002)
    add_report(api.store, "road_flooded", "門池付近で冠水", point, "line")

    context = browser.new_context(locale="ja-JP", viewport={"width": 1400, "height": 900})
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if urlsplit(route.request.url).hostname == "127.0.0.1"
            else route.abort()
        ),
    )
    page = context.new_page()
    page.goto(api.url + "/")
    page.fill("#token", api.tokens["operator"])
    page.click("#signin-button")
    marker = page.locator(f"path.shelter-{site.id}")
    marker.wait_for(timeout=30000)
    assert "避難所" in page.locator("#shelter-note").inner_text()
    marker.dispatch_event("click")
    popup = page.locator(f".shelter-popup[data-shelter-id='{site.id}']")
    popup.wait_for()
    assert site.name in popup.inner_text() and "情報なし" in popup.inner_text()
    popup.locator(".sh-status").select_option("open")
    popup.locator(".sh-congestion").select_option("crowded")
    popup.locator(".sh-shortages").select_option(["water", "blankets"])
    popup.locator(".sh-save").click()
    page.wait_for_selector("#status-line:has-text('門池中学校')")
    latest = api.store.latest_shelter_status([site.id])[site.id]
    assert (latest.status, latest.congestion, latest.shortages, latest.by) == (
        "open",
        "crowded",
        ["water", "blankets"],
        "operator-user",
    )
    # the reloaded marker is coloured by congestion (crowded = orange)
    page.wait_for_function(
        "id => { const p = document.querySelector('path.shelter-' + id);"
        " return p && p.getAttribute('fill') === '#fb8c00'; }",
        arg=site.id,
    )
    marker.dispatch_event("click")
    page.wait_for_selector(
        f".shelter-popup[data-shelter-id='{site.id}'] .shelter-state:has-text('混雑')"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-shelters.png"))
    context.close()


def test_dashboard_notices(make_api, fakes, monkeypatch: pytest.MonkeyPatch, browser) -> None:  # noqa: F811
    """An operator sends a notice: LINE (fake, on loopback) gets it, Telegram is not configured;
    the list shows it with each channel's outcome, its HTML title as text. A viewer only reads."""
    from tests.officials.fakes import LINE_TOKEN, FakeLine

    if build_assets.missing_assets():
        build_assets.build()
    line = FakeLine()
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", LINE_TOKEN)
    monkeypatch.setenv("LINE_API_BASE", fakes.start(line))
    api = make_api()
    old = api.store.create_notice("給水所の開設", "○○公園で給水中です。", "info", "sato")

    context = browser.new_context(locale="ja-JP", viewport={"width": 1400, "height": 900})
    outside: list[str] = []

    def guard(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(api.url + "/")
    page.fill("#token", api.tokens["operator"])
    page.click("#signin-button")
    page.locator(f"#n-list li[data-notice-id='{old.id}']").wait_for()
    assert "配信なし" in page.locator(f"#n-list li[data-notice-id='{old.id}']").inner_text()

    title = "避難指示 " + XSS
    page.fill("#n-title", title)
    page.fill("#n-body", "○○地区の方は\n○○小学校へ避難してください。")
    page.select_option("#n-severity", "emergency")
    assert page.is_checked("#n-broadcast")
    page.click("#n-send")
    item = page.locator("#n-list li").first
    item.locator(".n-title", has_text="避難指示").wait_for()
    notice = api.store.latest_notices(limit=1)[0]
    assert notice.title == title and notice.severity == "emergency"
    assert notice.created_by == "operator-user"
    assert dialogs and "住民に配信します" in dialogs[0]

    # the list: severity, title and body as text, per-channel outcome
    assert item.get_attribute("data-notice-id") == str(notice.id)
    assert item.locator(".n-title").inner_text() == title
    assert item.locator(".badge.sev-emergency").inner_text() == "緊急"
    assert "○○小学校へ避難してください。" in item.locator(".n-body").inner_text()
    assert item.locator("[data-channel=line]").inner_text() == "LINE: 配信済み"
    assert item.locator("[data-channel=telegram]").inner_text() == "Telegram: 未設定"
    assert page.locator("#n-list img").count() == 0
    assert "配信しました" in page.locator("#status-line").inner_text()

    # exactly what LINE received
    from bot.officials.notices import notice_text

    assert [r.json() for r in line.calls("/broadcast")] == [
        {"messages": [{"type": "text", "text": notice_text(notice)}]}
    ]

    # a notice without broadcast: stored only, nothing more sent
    page.fill("#n-title", "停電情報")
    page.fill("#n-body", "○○町で停電しています。")
    page.uncheck("#n-broadcast")
    page.click("#n-send")
    page.locator("#n-list li").first.locator(".n-title", has_text="停電情報").wait_for()
    assert "配信なし" in page.locator("#n-list li").first.inner_text()
    assert api.store.latest_notices(limit=1)[0].severity == "info"  # the form was reset
    assert len(line.requests) == 1 and len(dialogs) == 1

    # a viewer sees the list but no form
    page.click("#signout")
    page.fill("#token", api.tokens["viewer"])
    page.click("#signin-button")
    page.wait_for_selector("#user-name:has-text('viewer-user')")
    page.locator(f"#n-list li[data-notice-id='{notice.id}']").wait_for()
    assert page.locator("#n-form").is_hidden() and page.locator("#n-readonly").is_visible()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-notices.png"), full_page=True)
    context.close()
    assert errors == [], errors
    assert outside == [], f"requests left the machine: {outside}"


def test_dashboard_inbox(api: Api, browser) -> None:
    """An unplaceable message appears in the 未対応メッセージ inbox (danger first, text as text), an
    operator turns it into a report with a place clicked on the map, the report shows on the map
    and in the list; another message is marked handled; a viewer does not see the inbox."""
    if build_assets.missing_assets():
        build_assets.build()
    store = api.store
    lost = store.add_inbox_message(
        channel="line",
        user_id="U-relative",
        text="実家の祖母と朝から連絡が取れません",
        reason="fallback",
        intent="nlu_fallback",
        confidence=0.31,
    )
    danger = store.add_inbox_message(
        channel="telegram",
        user_id="T-1",
        text="川があふれそう " + XSS,
        reason="out_of_scope",
        danger_terms=["あふれそう"],
    )
    chat = store.add_inbox_message(
        channel="line", user_id="U-2", text="ありがとう、また連絡します", reason="cancelled_form"
    )

    context = browser.new_context(locale="ja-JP", viewport={"width": 1400, "height": 900})
    outside: list[str] = []
    inbox_requests: list[str] = []

    def guard(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            if "/api/v1/messages" in route.request.url:
                inbox_requests.append(route.request.url)
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(api.url + "/")
    page.fill("#token", api.tokens["operator"])
    page.click("#signin-button")

    item = page.locator(f"#inbox-list li[data-message-id='{lost.id}']")
    item.wait_for()
    assert page.locator("#inbox-count").inner_text() == "3"
    order = page.locator("#inbox-list li").evaluate_all(
        "els => els.map(e => Number(e.getAttribute('data-message-id')))"
    )
    assert order[0] == danger.id  # danger first
    first = page.locator("#inbox-list li").first
    assert "危険" in first.locator(".i-head").inner_text()
    assert first.locator(".i-text").inner_text() == "川があふれそう " + XSS
    assert page.locator("#inbox-list img").count() == 0
    assert "実家の祖母と朝から連絡が取れません" in item.locator(".i-text").inner_text()
    assert item.locator(".i-where").count() == 0  # nowhere to place it yet

    # 報告にする: category, then a place clicked on the map
    item.locator(".i-report").click()
    form = item.locator("form.inbox-form")
    form.wait_for()
    form.locator(".i-category").select_option("missing_contact")
    assert form.locator(".i-urgency").input_value() == "high"
    form.locator(".i-pick").click()
    page.wait_for_selector("#map.picking")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)
    page.locator("#map .inbox-pick-pin").wait_for()
    lat, lon = (
        float(form.locator(".i-lat").input_value()),
        float(form.locator(".i-lon").input_value()),
    )
    assert 20 < lat < 50 and 120 < lon < 155, (lat, lon)  # somewhere over Japan at zoom 5
    assert not page.locator("#map.picking").count()
    form.locator(".i-place").fill("〇〇町の実家")
    form.locator(".i-submit").click()
    item.wait_for(state="detached")
    page.wait_for_selector("#status-line:has-text('報告 #')")
    assert page.locator("#inbox-count").inner_text() == "2"

    # the stored rows: one report from the message, the message handled and linked, both audited
    msg = store.get_inbox_message(lost.id)
    assert msg.handled is True and msg.report_id is not None and msg.handled_by == "operator-user"
    report = store.get_report(msg.report_id)
    assert report.category == "missing_contact" and report.urgency == "high"
    assert report.text == "実家の祖母と朝から連絡が取れません"
    assert report.place_text == "〇〇町の実家"
    assert (report.lat, report.lon) == (lat, lon)
    assert report.resident == store.resident_id("line", "U-relative")
    assert [(h.new_status, h.by) for h in store.report_history(report.id)] == [
        ("new", "operator-user")
    ]
    assert [h.action for h in store.message_history(lost.id)] == ["received", "reported"]

    # ... and it is on the map and in the list like any report, its detail open
    page.locator(f"#map .report-pin[data-report-id='{report.id}']").wait_for()
    row = page.locator(f"#report-list tr[data-report-id='{report.id}']")
    row.wait_for()
    assert "安否不明" in row.inner_text()
    page.wait_for_selector(f"#d-id:has-text('{report.id}')")
    assert "実家の祖母と朝から連絡が取れません" in page.locator("#d-fields").inner_text()
    colour = page.locator(f"#map .report-pin[data-report-id='{report.id}']").evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert colour == "rgb(0, 137, 123)"  # missing_contact's own colour

    # 対応済みにする
    page.locator(f"#inbox-list li[data-message-id='{chat.id}'] .i-handled").click()
    page.locator(f"#inbox-list li[data-message-id='{chat.id}']").wait_for(state="detached")
    handled = store.get_inbox_message(chat.id)
    assert handled.handled is True and handled.handled_by == "operator-user"
    assert handled.report_id is None
    assert page.locator("#inbox-count").inner_text() == "1"
    assert store.count_reports() == 1

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-inbox.png"), full_page=True)

    # a viewer: no inbox panel, and the page does not ask for it
    page.click("#signout")
    inbox_requests.clear()
    page.fill("#token", api.tokens["viewer"])
    page.click("#signin-button")
    page.wait_for_selector("#user-name:has-text('viewer-user')")
    page.locator(f"#report-list tr[data-report-id='{report.id}']").wait_for()
    assert page.locator("#inbox").is_hidden()
    assert inbox_requests == []
    context.close()
    assert dialogs == [], f"a script ran: {dialogs}"
    assert errors == [], errors
    assert outside == [], f"requests left the machine: {outside}"
