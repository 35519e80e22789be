"""The one vocabulary: labels, the matcher (negation, longest match) and the generated files."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from bot import vocabulary as v
from bot import vocabulary_files as gen
from bot.settings import REPO_ROOT


def test_committed_generated_files_match_the_vocabulary():
    diffs = gen.check()
    assert diffs == [], "run `make vocab`:\n" + "\n".join(diffs)


def test_check_command_reports_a_difference(tmp_path: Path):
    for rel, content in gen.generated_files().items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content, encoding="utf-8")
    assert gen.check(tmp_path) == []
    labels = tmp_path / gen.LABELS_FILE
    labels.write_text(labels.read_text(encoding="utf-8").replace("津波", "つなみ"), encoding="utf-8")
    diffs = gen.check(tmp_path)
    assert len(diffs) == 1 and "-  - text: つなみ" in diffs[0] and "+  - text: 津波" in diffs[0]
    assert gen.write(tmp_path) == [gen.LABELS_FILE] and gen.check(tmp_path) == []


def test_check_cli_exits_zero_on_the_committed_tree():
    done = subprocess.run(
        [sys.executable, "-m", "bot.vocabulary", "generate", "--check"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_generated_files_are_valid_rasa_yaml():
    labels = yaml.safe_load(gen.labels_yaml())
    flood = labels["responses"]["utter_label_hazard_flood"]
    assert flood == [
        {"condition": [{"type": "slot", "name": "language", "value": "en"}], "text": "flood"},
        {"text": "洪水"},
    ]
    assert labels["responses"]["utter_label_urgency_high"][1] == {"text": "高（急ぎ）"}
    assert labels["responses"]["utter_label_people"][1] == {"text": "{count}人"}
    assert "utter_label_category_needs_assistance" in labels["responses"]
    synonyms = yaml.safe_load(gen.synonyms_yaml())["nlu"]
    by_code = {s["synonym"]: s["examples"] for s in synonyms}
    assert "- 冠水\n" in by_code["road_flooded"] and "- 火事\n" in by_code["fire"]
    assert "- 火事\n" not in by_code["large_fire"]  # one surface, one code (docs/nlu.md)
    lookups = {t["lookup"]: t["examples"] for t in yaml.safe_load(gen.lookups_yaml())["nlu"]}
    assert set(lookups) == {"hazard", "damage_type", "place_type", "congestion", "supply"}
    assert "- 毛布\n" in lookups["supply"]


def test_rasa_reads_the_generated_synonyms_and_lookups(tmp_path: Path):
    from rasa.shared.nlu.training_data.loading import load_data

    (tmp_path / "synonyms.yml").write_text(gen.synonyms_yaml(), encoding="utf-8")
    (tmp_path / "lookups.yml").write_text(gen.lookups_yaml(), encoding="utf-8")
    data = load_data(str(tmp_path))
    assert data.entity_synonyms["冠水"] == "road_flooded"
    assert data.entity_synonyms["カイロ"] == "other"
    assert {t["name"] for t in data.lookup_tables} >= {"hazard", "supply"}


def _vocab_file(tmp_path: Path, groups: dict) -> str:
    path = tmp_path / "vocabulary.yml"
    path.write_text(yaml.safe_dump({"groups": groups}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


def test_generator_refuses_one_surface_for_two_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = _vocab_file(tmp_path, {
        "hazard": {"entity": "hazard", "codes": {
            "large_fire": {"ja": "大規模な火事", "en": "large fire", "words": ["火事"]}}},
        "category": {"entity": "damage_type", "codes": {
            "fire": {"ja": "火災", "en": "fire", "words": ["火事"]}}},
    })
    raw = v.load.__wrapped__
    monkeypatch.setattr(v, "load", lambda path_=None: raw(path))
    with pytest.raises(v.VocabularyError) as err:
        gen.synonyms_yaml()
    message = str(err.value)
    assert "'火事' is a word of hazard.large_fire and of category.fire" in message
    assert "phrases" in message and "docs/nlu.md" in message


def test_generator_refuses_a_surface_that_is_another_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = _vocab_file(tmp_path, {
        "hazard": {"entity": "hazard", "codes": {
            "large_fire": {"ja": "大規模な火事", "en": "large fire", "words": ["fire"]}}},
        "category": {"entity": "damage_type", "codes": {"fire": {"ja": "火災", "en": "fire"}}},
    })
    raw = v.load.__wrapped__
    monkeypatch.setattr(v, "load", lambda path_=None: raw(path))
    with pytest.raises(v.VocabularyError, match="also the code category.fire"):
        gen.lookups_yaml()


def test_loader_refuses_a_word_of_two_codes_in_one_group(tmp_path: Path):
    path = _vocab_file(tmp_path, {"supply": {"codes": {
        "water": {"ja": "水", "en": "water", "words": ["水"]},
        "food": {"ja": "食料", "en": "food", "phrases": ["水"]}}}})
    with pytest.raises(v.VocabularyError, match="'水' is a word of both 'water' and 'food'"):
        v.load.__wrapped__(path)


def test_loader_refuses_unknown_keys_and_missing_labels(tmp_path: Path):
    with pytest.raises(v.VocabularyError, match="unknown keys"):
        v.load.__wrapped__(_vocab_file(tmp_path, {"g": {"codez": {}}}))
    with pytest.raises(v.VocabularyError, match="labels ja and en"):
        v.load.__wrapped__(_vocab_file(tmp_path, {"g": {"codes": {"a": {"ja": "あ"}}}}))


def test_labels_per_group_and_language():
    assert v.labels("place_type")["car"] == "車中泊"
    assert v.labels("place_type", "en")["car"] == "in a car"
    assert v.labels("urgency")["low"] == "低"
    assert v.labels("urgency", bot=True)["low"] == "低（急がない）"
    assert v.label("hazard", "tsunami", "en") == "tsunami"
    assert v.label("hazard", "unknown-code") == "unknown-code"
    assert v.codes("congestion") == ("vacant", "moderate", "crowded", "full", "closed")
    assert v.entity_group("damage_type") == "category"
    assert v.template("people", "en") == "{count} people"


def test_every_code_of_the_architecture_is_there():
    assert set(v.codes("hazard")) >= {
        "flood", "landslide", "storm_surge", "earthquake", "tsunami", "large_fire", "inland_flood",
        "volcano"}
    assert set(v.codes("category")) == {
        "road_flooded", "building_damage", "landslide", "fire", "road_blocked", "river_rising",
        "power_outage", "water_outage", "injured_person", "needs_assistance", "missing_contact",
        "shelter_status", "evacuee", "supply_request", "other"}
    assert v.codes("place_type") == ("home", "car", "relatives", "hotel", "shelter", "other")
    assert v.codes("site_kind") == ("emergency_site", "shelter", "welfare_shelter")


@pytest.mark.parametrize(("group", "text", "code"), [
    ("hazard", "川があふれそう", "flood"),
    ("hazard", "つなみ", "tsunami"),
    ("hazard", "火事", "large_fire"),
    ("hazard", "マンホールから水があふれてる", "inland_flood"),
    ("hazard", "わからない", "all"),
    ("category", "家が傾いた", "building_damage"),
    ("category", "電気つかない", "power_outage"),
    ("category", "蛇口ひねっても何も出ない", "water_outage"),
    ("category", "交差点が膝まで水につかっています", "road_flooded"),
    ("category", "祖母と連絡が取れない", "missing_contact"),
    ("category", "車いすで一人暮らし、避難できない", "needs_assistance"),
    ("category", "停電ではなく断水です", "water_outage"),
    ("category", "停電は復旧していない", "power_outage"),
    ("category", "断水、復旧の見込みなし", "water_outage"),
    ("congestion", "空きがないです", "full"),
    ("congestion", "座る場所もない", "crowded"),
    ("congestion", "少し混んでる", "moderate"),
    ("congestion", "混雑", "crowded"),
    ("congestion", "混雑していません", "vacant"),
    ("place_type", "車で様子見てる", "car"),
    ("place_type", "うちです", "home"),
    ("urgency", "至急", "critical"),
    ("urgency", "高です", "high"),
    ("urgency", "命に別状はないです", "normal"),
    ("report_field", "場所じゃなくて人数", "affected"),
])
def test_match(group, text, code):
    assert v.match(group, text) == code


@pytest.mark.parametrize("text", ["急ぎではありません", "急ぎじゃないです", "急いでいません", "not urgent"])
def test_denied_urgency_is_low(text):
    assert v.match("urgency", text) == "low"


@pytest.mark.parametrize(("group", "text"), [
    ("category", "けがはない"),
    ("category", "けが人はいません"),
    ("category", "水は出ます"),
    ("category", "停電していない"),
    ("category", "停電はしてません"),
    ("category", "no power outage here"),
    ("category", "nobody injured"),
    ("place_type", "いいえ"),  # いえ only as the whole answer
    ("category", "停電は復旧しました"),
    ("category", "冠水はもう引いた"),
    ("urgency", "交差点が膝まで水につかっています"),
    ("vulnerable", "高齢者はいません"),
])
def test_denied_or_absent_words_give_no_code(group, text):
    assert v.match(group, text) is None


def test_longest_match_wins_where_words_overlap():
    hits = v.scan("congestion", "ちょっと混んでる")
    assert [(h.code, h.surface) for h in hits] == [("moderate", "ちょっと混んでる")]
    assert v.match("category", "土砂崩れ") == "landslide"  # not 崩れ (building_damage)
    assert v.match_all("supply", "トイレットペーパー") == ["hygiene"]  # not トイレ


def test_supplies_are_needs_unless_satisfied():
    assert v.match_all("supply", "水と毛布、おむつ") == ["water", "diapers", "blankets"]
    assert v.match_all("supply", "水はあるけど毛布とカイロが足りない") == ["blankets", "other"]
    assert v.match_all("supply", "水がない、食べ物もない") == ["water", "food"]
    assert v.match_all("supply", "毛布は足りています") == []
    assert v.match_all("supply", "電池と薬") == ["medicine", "power"]
    assert v.match_all("supply", "I need water and food") == ["water", "food"]
    assert v.denied("supply", "水はいらない") == {"water"}


def test_hits_index_the_original_text():
    text = "ＡＢＣ　停電しています"
    (hit,) = v.find("category", text)
    assert (hit.code, text[hit.start:hit.end], hit.surface) == ("power_outage", "停電", "停電")
    assert v.fold(text) == "abc 停電しています" and len(v.fold(text)) == len(text)


def test_extract_reads_free_text_only():
    # 家 / 車 are answers, not statements of where someone stays
    assert v.extract("place_type", "家が傾いた") == []
    assert v.extract("place_type", "車が流された") == []
    assert [h.code for h in v.extract("place_type", "実家に来てる")] == ["relatives"]
    # 水 of a water level is no supply; 水がない is
    assert v.extract("supply", "交差点が膝まで水につかっています") == []
    assert [h.code for h in v.extract("supply", "毛布足りない、トイレ使えない")] == ["blankets", "toilet"]
    assert v.extract("urgency", "至急") == []


def test_matching_is_linear_on_long_messages():
    text = "水" * 40_000 + "停電" + "1" * 40_000
    started = time.perf_counter()
    assert v.match("category", text) == "power_outage"
    v.match_all("supply", text)
    assert time.perf_counter() - started < 5.0  # quadratic matching would take minutes
