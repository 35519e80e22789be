"""Pure parsing helpers."""

from __future__ import annotations

import pytest

from actions import parsing as p


@pytest.mark.parametrize(("text", "expected"), [
    ("三人", 3), ("３人", 3), ("二名", 2), ("十二", 12), ("二十三人です", 23), ("ふたり", 2),
    ("大人2人と子ども１人", 3), ("5", 5), (4, 4), ("百人", 100), ("なし", None), ("0人", None),
    # head-counts written as residents write them; floors, ages and addresses are no count
    ("2階に大人3 子ども1", 4), ("大人３　子ども１", 4), ("2階に5名", 5), ("事務所の屋上 5名", 5),
    ("家族4人", 4), ("高齢者2 子ども2", 4), ("88歳の祖父、寝たきり", None), ("3丁目12-4", None),
    ("someone", None), ("二人とも", 2),
])
def test_parse_count(text, expected):
    assert p.parse_count(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("はい", True), ("うん、お願い", True), ("yes", True), ("いいえ", False), ("違います", False),
    ("no", False), ("そうじゃない", False), ("うーん", None),
])
def test_yes_no(text, expected):
    assert p.parse_yes_no(text) is expected


def test_vocabularies():
    assert p.parse_hazard("つなみ") == "tsunami"
    assert p.parse_hazard("わからない") == "all"
    assert p.parse_place_type("車中泊しています") == "car"
    assert p.parse_place_type("実家") == "relatives"
    assert p.parse_congestion("少し混んでる") == "moderate"
    assert p.parse_congestion("満員です") == "full"
    assert p.parse_supplies("水と毛布、おむつ") == ["water", "diapers", "blankets"]
    assert p.parse_damage_type("道路が冠水") == "road_flooded"
    assert p.parse_urgency("至急") == "critical"
    assert p.parse_vulnerable("特にない") == {}
    assert p.parse_vulnerable("赤ちゃんが1人") == {"infants": 1}


def test_place_text_and_links():
    assert p.clean_place_text("函館駅の近くです。") == "函館駅"
    assert p.clean_place_text("場所は五稜郭公園あたり") == "五稜郭公園"
    assert p.map_link(41.7687, 140.7288) == "https://maps.gsi.go.jp/#17/41.768700/140.728800/"
    assert p.format_distance(349) == "350m" and p.format_distance(1234) == "1.2km"
    assert p.language_command("/lang en") == "en" and p.language_command("/lang xx") is None
    assert p.looks_english("where is the shelter") and not p.looks_english("函館 shelter")


def test_correction_text_and_stated_count():
    from actions.parsing import correction_text, parse_stated_count

    assert correction_text("間違えた、4人") == "4人"
    assert correction_text("3人じゃなくて4人でした") == "4人でした"
    assert correction_text("4 instead of 3") == "4"
    assert correction_text("間違えた") == ""
    assert parse_stated_count(correction_text("人数は7人に訂正")) == 7
    assert parse_stated_count("一つ前に戻りたい") is None
    assert parse_stated_count("5") == 5 and parse_stated_count("ふたり") == 2
    assert parse_stated_count("さっきの") is None


def test_parse_count_is_linear_on_huge_numbers():
    # 40,000 digits: no quadratic backtracking, no int() of a 40,000-digit string
    assert p.parse_count("1" * 40_000) is None
    assert p.parse_stated_count("1" * 40_000) is None
    assert p.head_count("1" * 40_000 + "人") is None
    assert p.parse_count("一" * 40_000) is None
    assert p.place_text_span("1" * 40_000) is None


def test_head_count_span():
    text = "2階に大人3 子ども1、水がきてる"
    count, start, end = p.head_count(text)
    assert (count, text[start:end]) == (4, "大人3 子ども1")
    assert p.head_count("3丁目の交差点") is None
    assert p.head_count("屋根の上に５名") == (5, 5, 7)


@pytest.mark.parametrize(("text", "place"), [
    ("〇〇町3丁目12-4の青い屋根の家に祖母が一人です", "〇〇町3丁目12-4の青い屋根の家"),
    ("#救助 札幌市北区〇〇2条5丁目 2階に4人", "札幌市北区〇〇2条5丁目"),
    ("函館市本町２２番５号の前が冠水", "函館市本町２２番５号の前"),
    ("〇〇町3丁目の交差点が冠水", "〇〇町3丁目の交差点"),
])
def test_place_text_span(text, place):
    start, end = p.place_text_span(text)
    assert text[start:end] == place


@pytest.mark.parametrize("text", ["3人です", "12-4", "2階に5名", "震度5強", "10時に"])
def test_no_place_text(text):
    assert p.place_text_span(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("急ぎではありません", "low"), ("急ぎじゃないです", "low"), ("至急", "critical"),
    ("急ぎ", "high"), ("ふつう", "normal"), ("高です", "high"),
    ("交差点が膝まで水につかっています", None), ("うーん", None),
])
def test_parse_urgency_with_negation(text, expected):
    assert p.parse_urgency(text) == expected


def test_paraphrases_and_negation():
    assert p.parse_hazard("川があふれそう") == "flood"
    assert p.parse_hazard("火事") == "large_fire"
    assert p.parse_damage_type("家が傾いた") == "building_damage"
    assert p.parse_damage_type("電気つかない") == "power_outage"
    assert p.parse_damage_type("蛇口ひねっても何も出ない") == "water_outage"
    assert p.parse_damage_type("けがはない") is None
    assert p.parse_damage_type("停電していない") is None
    assert p.parse_damage_type("水は出ます") is None
    assert p.parse_place_type("車で様子見てる") == "car"
    assert p.parse_place_type("いいえ") is None
    assert p.parse_supplies("カイロと電池") == ["power", "other"]
    assert p.parse_supplies("水は足りてる、毛布がほしい") == ["blankets"]
    assert p.parse_supplies(["水", "blankets"]) == ["water", "blankets"]


def test_parse_vulnerable_reads_ages_and_denials():
    assert p.parse_vulnerable("88歳の祖父") == {"elderly": 1}
    assert p.parse_vulnerable("高齢者2名と2歳の子") == {"elderly": 2, "infants": 1}
    assert p.parse_vulnerable("高齢者はいません") == {}
    assert p.parse_vulnerable("うーん") is None


def test_code_lists_follow_the_vocabulary():
    assert "flood" in p.HAZARDS and "all" not in p.HAZARDS and len(p.HAZARDS) == 8
    assert list(p.PLACE_TYPES) == ["home", "car", "relatives", "hotel", "shelter", "other"]
    assert "needs_assistance" in p.DAMAGE_TYPES and "evacuee" not in p.DAMAGE_TYPES


def test_asks_something_tells_questions_from_statements() -> None:
    from actions.parsing import asks_something

    for text in ["避難所どこ", "停電いつ直る？", "今の警戒レベルは", "これ大丈夫なのかな", "教えてください",
                 "避難指示出とるんかいな", "What's happening?", "latest news please", "断水の復旧見込みは"]:
        assert asks_something(text), text
    for text in ["なんか外がへん", "サイレン鳴ってる", "防災メールが届かない", "川の音がすごい、濁ってる",
                 "something weird outside", "何もない", "", None]:
        assert not asks_something(text), text
