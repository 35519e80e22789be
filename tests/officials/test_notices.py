"""Officials' notices over HTTP: stored, listed, and broadcast to fake LINE / Telegram on loopback."""

from __future__ import annotations

import re
import uuid

import pytest

from bot.officials.notices import EMERGENCY_NUMBERS, notice_text
from tests.officials.conftest import Api
from tests.officials.fakes import (  # noqa: F401  (fixtures)
    LINE_TOKEN,
    NOTICE_CHAT,
    TELEGRAM_TOKEN,
    FakeLine,
    FakeTelegram,
    channels,
    fakes,
)
from tests.officials.test_api import assert_error

ORDER = {
    "title": "避難指示（警戒レベル4）",
    "body": "○○川の水位が上がっています。\n○○地区の方は直ちに○○小学校へ避難してください。",
    "severity": "emergency",
}


def post(api: Api, role: str = "operator", **body):
    return api.request("POST", "/api/v1/notices", role=role, json=body)


def test_broadcast_sends_exactly_the_notice_on_line_and_telegram(make_api, channels) -> None:  # noqa: F811
    line, telegram = channels
    api = make_api()
    resp = post(api, **ORDER, broadcast=True)
    assert resp.status_code == 201, resp.text
    notice = resp.json()["notice"]
    assert {k: notice[k] for k in ("title", "body", "severity", "created_by")} == {
        **ORDER,
        "created_by": "operator-user",
    }
    assert notice["broadcast"]["line"]["status"] == "sent"
    assert notice["broadcast"]["telegram"]["status"] == "sent"
    assert NOTICE_CHAT in notice["broadcast"]["telegram"]["detail"]

    stored = api.store.get_notice(notice["id"])
    text = notice_text(stored)
    assert text.startswith("【緊急】避難指示（警戒レベル4）\n○○川の水位が上がっています。\n")
    assert re.search(r"\n（\d+月\d+日 \d\d:\d\d 発表）\n", text)
    assert text.endswith("\n" + EMERGENCY_NUMBERS)
    assert "119" in EMERGENCY_NUMBERS and "110" in EMERGENCY_NUMBERS

    # LINE: one broadcast call, bearer token, a retry key, exactly one text message
    assert [r.path for r in line.requests] == ["/v2/bot/message/broadcast"]
    call = line.requests[0]
    assert call.headers["Authorization"] == f"Bearer {LINE_TOKEN}"
    uuid.UUID(call.headers["X-Line-Retry-Key"])
    assert call.json() == {"messages": [{"type": "text", "text": text}]}

    # Telegram: one sendMessage to the notice channel with the same text, nothing else
    assert telegram.methods() == ["sendMessage"]
    assert all(f"/bot{TELEGRAM_TOKEN}/" in r.path for r in telegram.requests)
    sent = telegram.params("sendMessage")
    assert [(p["chat_id"], p["text"]) for p in sent] == [(NOTICE_CHAT, text)]

    # the outcome is stored and listed
    assert {ch: o["status"] for ch, o in stored.broadcast.items()} == {
        "line": "sent",
        "telegram": "sent",
    }
    listed = api.get("/api/v1/notices").json()
    assert listed["count"] == 1 and listed["notices"][0] == notice


def test_without_broadcast_nothing_is_sent(make_api, channels) -> None:  # noqa: F811
    line, telegram = channels
    api = make_api()
    resp = post(api, title="給水所の開設", body="○○公園で給水を行っています。", severity="info")
    assert resp.status_code == 201, resp.text
    assert resp.json()["notice"]["broadcast"] == {}
    resp = post(api, title="停電情報", body="○○町で停電。", severity="warning", broadcast=False)
    assert resp.status_code == 201 and resp.json()["notice"]["broadcast"] == {}
    assert line.requests == [] and telegram.requests == []
    assert [n["title"] for n in api.get("/api/v1/notices").json()["notices"]] == [
        "停電情報",
        "給水所の開設",
    ]


def test_unconfigured_channels_are_skipped(api: Api) -> None:
    resp = post(api, **ORDER, broadcast=True)
    assert resp.status_code == 201, resp.text
    outcome = resp.json()["notice"]["broadcast"]
    assert outcome["line"]["status"] == "skipped"
    assert "LINE_CHANNEL_ACCESS_TOKEN" in outcome["line"]["detail"]
    assert outcome["telegram"]["status"] == "skipped"
    assert "TELEGRAM_BOT_TOKEN" in outcome["telegram"]["detail"]
    assert api.store.latest_notices()[0].broadcast == outcome


def test_telegram_without_notice_chat_is_skipped(
    make_api,
    channels,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    line, telegram = channels
    monkeypatch.delenv("TELEGRAM_NOTICE_CHAT_ID")
    api = make_api()
    outcome = post(api, **ORDER, broadcast=True).json()["notice"]["broadcast"]
    assert outcome["line"]["status"] == "sent"
    assert outcome["telegram"]["status"] == "skipped"
    assert "TELEGRAM_NOTICE_CHAT_ID" in outcome["telegram"]["detail"]
    assert telegram.requests == [] and len(line.requests) == 1


def test_failing_channels_are_failed_and_the_notice_is_kept(make_api, channels) -> None:  # noqa: F811
    line, telegram = channels
    line.status, line.answer = 429, {"message": "You have reached your monthly limit."}
    telegram.error = (400, "Bad Request: chat not found")
    api = make_api()
    resp = post(api, **ORDER, broadcast=True)
    assert resp.status_code == 201, resp.text
    notice = resp.json()["notice"]
    line_out, tg_out = notice["broadcast"]["line"], notice["broadcast"]["telegram"]
    assert line_out["status"] == "failed"
    assert "429" in line_out["detail"] and "monthly limit" in line_out["detail"]
    assert tg_out["status"] == "failed" and "BadRequest: Chat not found" in tg_out["detail"]
    assert LINE_TOKEN not in resp.text and TELEGRAM_TOKEN not in resp.text
    assert len(line.requests) == 1 and telegram.methods() == ["sendMessage"]
    assert api.store.get_notice(notice["id"]).title == ORDER["title"]


def test_unreachable_line_is_failed(make_api, channels, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    from tests.officials.conftest import free_port

    monkeypatch.setenv("LINE_API_BASE", f"http://127.0.0.1:{free_port()}")
    api = make_api()
    outcome = post(api, **ORDER, broadcast=True).json()["notice"]["broadcast"]
    assert outcome["line"]["status"] == "failed"
    assert "not reachable" in outcome["line"]["detail"]
    assert outcome["telegram"]["status"] == "sent"


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"body": "本文", "severity": "info"}, "title is required"),
        ({"title": "件名", "severity": "info"}, "body is required"),
        ({"title": "件名", "body": "本文"}, "severity is required"),
        ({"title": 1, "body": "本文", "severity": "info"}, "title is required"),
        ({"title": "a" * 101, "body": "本文", "severity": "info"}, "at most 100"),
        ({"title": "  ", "body": "本文", "severity": "info"}, "title is required"),
        ({"title": "件名", "body": "b" * 1001, "severity": "info"}, "at most 1000"),
        ({"title": "件名", "body": "本文", "severity": "critical"}, "severity must be one of"),
        ({"title": "件名", "body": "本文", "severity": "info", "broadcast": "yes"}, "broadcast"),
        ({"title": "件名", "body": "本文", "severity": "info", "to": "all"}, "unknown field"),
    ],
)
def test_bad_notice_is_400_and_not_stored(api: Api, body: dict, fragment: str) -> None:
    assert_error(api.request("POST", "/api/v1/notices", role="operator", json=body), 400, fragment)
    assert api.store.latest_notices(limit=100) == []


def test_body_must_be_a_json_object(api: Api) -> None:
    assert_error(api.request("POST", "/api/v1/notices", role="operator", data="x"), 400, "JSON")
    assert_error(api.request("POST", "/api/v1/notices", role="operator", json=[1]), 400, "object")


def test_list_limit_is_bounded(api: Api) -> None:
    for i in range(25):
        api.store.create_notice(f"お知らせ{i}", "本文", "info", "sato")
    assert api.get("/api/v1/notices").json()["count"] == 20
    body = api.get("/api/v1/notices", params={"limit": 2}).json()
    assert [n["title"] for n in body["notices"]] == ["お知らせ24", "お知らせ23"]
    assert api.get("/api/v1/notices", params={"limit": 100}).json()["count"] == 25
    for bad in ("0", "101", "x", "-1"):
        assert_error(api.get("/api/v1/notices", params={"limit": bad}), 400, "limit")
    assert_error(api.get("/api/v1/notices", params={"since": "2025"}), 400, "unknown parameter")


def test_roles_for_notices(api: Api) -> None:
    assert_error(post(api, role="viewer", **ORDER), 403, "operator")
    assert api.get("/api/v1/notices", role="viewer").status_code == 200
    assert post(api, role="admin", **ORDER).status_code == 201
    assert_error(api.get("/api/v1/notices", role=None), 401)


def test_meta_has_notice_labels(api: Api) -> None:
    meta = api.get("/api/v1/meta", role=None).json()
    assert meta["notice_severities"]["emergency"] == "緊急"
    assert set(meta["broadcast_statuses"]) == {"sent", "failed", "skipped"}
