"""``action_answer_disaster_info`` reads the officials' notices from the real store."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import update

from actions.info import ActionAnswerDisasterInfo
from bot.store.models import Notice
from tests.actions.conftest import make_tracker, responses, run


def _at(store, notice_id: int, when: datetime) -> None:
    with store.session() as s:
        s.execute(update(Notice).where(Notice.id == notice_id).values(created_at=when))
        s.commit()


def test_latest_three_notices_newest_first_in_japan_time(env, domain) -> None:
    store = env
    titles = ["給水所の開設", "停電のお知らせ", "避難指示（警戒レベル4）", "避難所の追加開設"]
    severities = ["info", "warning", "emergency", "info"]
    for i, (title, sev) in enumerate(zip(titles, severities, strict=True)):
        n = store.create_notice(title, "本文", sev, "sato")
        _at(store, n.id, datetime(2025, 11, 26, 23, 10 + i, tzinfo=timezone.utc))
    events, messages = run(
        ActionAnswerDisasterInfo(), make_tracker(intent="ask_disaster_info"), domain
    )
    assert events == [] and responses(messages) == ["utter_disaster_notices"]
    # 23:1x UTC on 26 Nov is 08:1x JST on 27 Nov
    assert messages[0]["notices"] == "\n".join(
        [
            "・11/27 08:13 避難所の追加開設",
            "・11/27 08:12 避難指示（警戒レベル4）",
            "・11/27 08:11 停電のお知らせ",
        ]
    )


def test_notices_in_english(env, domain) -> None:
    n = env.create_notice("Water station open", "本文", "info", "sato")
    _at(env, n.id, datetime(2025, 11, 27, 0, 5, tzinfo=timezone.utc))
    _, messages = run(
        ActionAnswerDisasterInfo(),
        make_tracker(slots={"language": "en"}, intent="ask_disaster_info"),
        domain,
    )
    assert responses(messages) == ["utter_disaster_notices"]
    assert messages[0]["notices"] == "• 11/27 09:05 Water station open"
