"""The danger layer: threats to life are found whatever the NLU says; look-alikes are not.

Examples here are our own, in the patterns of real residents' messages; the held-out measure
is bench/danger_eval.py (its test half is never used to write patterns).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.nlu.danger import assess, load_lexicon, normalize

THREATS = [
    # from the issue: danger to someone else, injuries, people who cannot get away
    "隣のおばあちゃんが家から出てこない、水が玄関まで来てる",
    "母が二階から降りられない、水が来てる",
    "地震で家具が倒れて足をけがしました",
    "助けて、閉じ込められた",
    # numbers and floors instead of verbs
    "2階に大人3 子ども1 水きてる",
    "事務所の屋上 5名",
    "倉庫の屋根に作業員4名",
    # kana, typos, dialect, hashtags, addresses
    "きゅうじょまってます",
    "たすけてけれ 水なまらきてる",
    "#救助 #〇〇町 #大雨 〇〇町3丁目12-4 祖母が取り残されています【拡散希望】",
    "とじこめられた",
    "ケガ人います、血がとまらない",
    # water levels, fire, medical
    "水が胸まで来てる",
    "近所で火事です",
    "父が倒れて意識がない",
    "赤ちゃんが息してない",
    "車ごと流されそう",
    "3時間たっても誰も来ない、屋根の上にいます",
    # English
    "help! we are trapped on the roof",
    "My grandmother is stuck in the house and the water is up to her chest",
]

NOT_THREATS = [
    "けがはありません",
    "けが人なし、家が傾いた",
    "閉じ込められてはいない",
    "誰もけがしていません",
    "もし流されたらどうすればいい？",
    "津波が来たらどこに逃げる？",
    "昨日は閉じ込められたけど今は救出されました",
    "道路が冠水してる、人はいない",
    "祖母と連絡が取れない",
    "腹が減って死にそう",
    "死ぬほど疲れた",
    "停電してます",
    "毛布足りない、トイレ使えない、高齢者多い",
    "2階に上がってる、家族4人無事",
    "火事の避難場所はどこ",
    "助けてくれてありがとう",
    "避難しないといけない？",
    "救助は必要ありません",
    "nobody is injured",
    "The fire at the school is out, nobody was inside",
]


@pytest.mark.parametrize("text", THREATS)
def test_threat_to_life_is_marked(text: str) -> None:
    found = assess(text)
    assert found.threat, text
    assert found.kinds, "a threat names its kind"
    for m in found.matches:
        assert 0 <= m.start < m.end <= len(text)


@pytest.mark.parametrize("text", NOT_THREATS)
def test_look_alike_is_not_marked(text: str) -> None:
    assert not assess(text).threat, text


@pytest.mark.parametrize(
    "text",
    [
        "足が悪いので避難所まで行けません",
        "寝たきりの祖母がいて避難できない",
        "人工透析の母がいる、一人では避難できない",
        "車いすで一人暮らし、避難所まで行けない",
    ],
)
def test_person_who_cannot_evacuate_needs_assistance(text: str) -> None:
    found = assess(text)
    assert found.assistance and not found.threat


def test_accessibility_question_is_not_an_assistance_case() -> None:
    assert not assess("車いすで入れる避難所はありますか").assistance


def test_spans_index_the_original_text() -> None:
    text = "#救助 祖母が取り残されています"
    (m,) = [m for m in assess(text).matches if m.kind == "stranded"]
    assert text[m.start : m.end] == "取り残"


def test_normalize_makes_katakana_hiragana_and_width_ascii() -> None:
    assert normalize("ケガ　２階 HELP") == "けが 2階 help"


def test_empty_and_payload_like_text_is_no_threat() -> None:
    assert not assess("").threat
    assert not assess("   ").threat


def test_bad_lexicon_is_refused_with_the_file_named(tmp_path: Path) -> None:
    bad = tmp_path / "lexicon.yml"
    bad.write_text("threats: {x: ['(unclosed']}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lexicon.yml"):
        load_lexicon(str(bad))


def test_long_hostile_message_is_fast() -> None:
    import time

    text = "水" * 20000 + "1" * 40000 + "、" * 5000
    start = time.perf_counter()
    assess(text)
    assert time.perf_counter() - start < 2.0


def _parsed(text: str, intent: str, ranking: list[tuple[str, float]]) -> Any:
    from rasa.shared.nlu.training_data.message import Message

    return Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": ranking[0][1]},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        }
    )


def test_component_makes_a_threat_an_emergency_whatever_the_model_said() -> None:
    from bot.nlu.components import DangerDetector

    msg = _parsed("母が二階から降りられない、水が来てる", "report_damage", [("report_damage", 0.8)])
    DangerDetector({}).process([msg])
    assert msg.get("intent") == {"name": "emergency", "confidence": 1.0}
    assert msg.get("intent_ranking")[1]["name"] == "report_damage"
    assert [e["entity"] for e in msg.get("entities")] == ["life_threat"]


def test_component_vetoes_an_emergency_whose_danger_is_denied() -> None:
    from bot.nlu.components import DangerDetector

    msg = _parsed(
        "閉じ込められてはいない、玄関から出られた",
        "emergency",
        [("emergency", 0.9), ("register_evacuation", 0.07)],
    )
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] == "nlu_fallback"  # weak next guess: the fallback (119)
    msg = _parsed("救助は必要ありません", "emergency", [("emergency", 0.3), ("deny", 0.65)])
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] == "deny"


def test_component_keeps_the_model_emergency_when_no_danger_word_is_denied() -> None:
    from bot.nlu.components import DangerDetector

    msg = _parsed("ボートまだですか、祖母が弱ってきた", "emergency", [("emergency", 0.8)])
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] == "emergency"


def test_component_turns_a_person_who_cannot_evacuate_into_needs_assistance() -> None:
    from bot.nlu.components import DangerDetector

    msg = _parsed("足が悪いので避難所まで行けません", "find_shelter", [("find_shelter", 0.7)])
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] == "needs_assistance"


def test_component_does_not_trust_a_wordless_greeting() -> None:
    from bot.nlu.components import DangerDetector

    msg = _parsed("(^_^;)", "greet", [("greet", 0.57)])
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] == "nlu_fallback"
    msg = _parsed("👍", "affirm", [("affirm", 0.98)])
    DangerDetector({}).process([msg])
    assert msg.get("intent")["name"] == "affirm"


def test_component_reads_a_bare_list_of_things_as_an_answer_not_the_bring_question() -> None:
    from bot.nlu.components import DangerDetector

    msg = _parsed("単3電池と懐中電灯", "ask_what_to_bring", [("ask_what_to_bring", 0.91)])
    DangerDetector({}).process([msg])
    assert msg.get("intent") == {"name": "inform", "confidence": 0.91}
    for question in ("避難所に何持っていけばいい", "避難 持ち物", "what should I bring"):
        msg = _parsed(question, "ask_what_to_bring", [("ask_what_to_bring", 0.9)])
        DangerDetector({}).process([msg])
        assert msg.get("intent")["name"] == "ask_what_to_bring", question
