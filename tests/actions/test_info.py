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


def test_an_uncertain_reading_is_answered_and_kept_for_a_person(env, domain) -> None:
    """「なんか外がへん」 read as a question about disaster news at 0.57: the resident gets the
    answer, and the message reaches the inbox (it may be a report nobody else would see)."""
    tracker = make_tracker(
        text="なんか外がへん、におう", intent="ask_disaster_info", confidence=0.57
    )
    events, messages = run(ActionAnswerDisasterInfo(), tracker, domain)
    assert events == []
    assert responses(messages) == ["utter_no_notices", "utter_message_kept"]
    (row,) = env.list_inbox(handled=False).items
    assert row.text == "なんか外がへん、におう"
    assert row.reason == "uncertain" and row.intent == "ask_disaster_info"
    assert row.confidence is not None and abs(row.confidence - 0.57) < 1e-6


def test_a_clear_question_is_answered_without_the_inbox(env, domain) -> None:
    for confidence in (0.95, 0.70):
        tracker = make_tracker(
            text="避難指示は出ていますか", intent="ask_disaster_info", confidence=confidence
        )
        _, messages = run(ActionAnswerDisasterInfo(), tracker, domain)
        assert responses(messages) == ["utter_no_notices"]
    assert env.list_inbox(handled=None).items == []


def test_an_uncertain_button_payload_is_not_kept(env, domain) -> None:
    tracker = make_tracker(text="/ask_disaster_info", intent="ask_disaster_info", confidence=0.6)
    _, messages = run(ActionAnswerDisasterInfo(), tracker, domain)
    assert responses(messages) == ["utter_no_notices"]
    assert env.list_inbox(handled=None).items == []


def test_a_statement_read_as_a_question_about_the_news_is_kept_for_a_person(env, domain) -> None:
    """「ｑｗｅｒｔｙ ｚｘｃｖ なんか外がへん」 read as ask_disaster_info at 0.86 (1 Dec model) asks
    nothing: answered, and kept (reason ``statement``); so is a complaint that carries a need."""
    for text in ["ｑｗｅｒｔｙ ｚｘｃｖ なんか外がへん", "防災メールが届かない"]:
        tracker = make_tracker(text=text, intent="ask_disaster_info", confidence=0.86)
        events, messages = run(ActionAnswerDisasterInfo(), tracker, domain)
        assert events == []
        assert responses(messages) == ["utter_no_notices", "utter_message_kept"], text
    rows = env.list_inbox(handled=False).items
    assert {r.text for r in rows} == {"ｑｗｅｒｔｙ ｚｘｃｖ なんか外がへん", "防災メールが届かない"}
    assert {r.reason for r in rows} == {"statement"}


def test_questions_about_the_news_in_many_forms_stay_out_of_the_inbox(env, domain) -> None:
    questions = [
        "避難指示出てるの", "停電いつ直る", "今の警戒レベルは", "地震速報", "台風の進路",
        "さっきのお知らせもう一回", "うちの地区、避難指示出たのかわからない", "道路の通行止め情報ほしい",
        "has the evacuation order been lifted", "電気は戻ったんでしょうか。ニュースに出てこなくて",
    ]
    for text in questions:
        tracker = make_tracker(text=text, intent="ask_disaster_info", confidence=0.9)
        _, messages = run(ActionAnswerDisasterInfo(), tracker, domain)
        assert responses(messages) == ["utter_no_notices"], text
    assert env.list_inbox(handled=None).items == []
