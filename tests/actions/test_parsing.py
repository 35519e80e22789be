"""Pure parsing helpers."""

from __future__ import annotations

import pytest

from actions import parsing as p


@pytest.mark.parametrize(("text", "expected"), [
    ("三人", 3), ("３人", 3), ("二名", 2), ("十二", 12), ("二十三人です", 23), ("ふたり", 2),
    ("大人2人と子ども１人", 3), ("5", 5), (4, 4), ("百人", 100), ("なし", None), ("0人", None),
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
    assert p.parse_supplies("水と毛布、おむつ") == ["diapers", "water", "blankets"]
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
