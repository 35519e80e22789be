"""Pure parsing helpers for residents' answers (no Rasa imports).

Residents type under stress: full-width digits, kanji numerals, kana, casual words. These helpers
turn such answers into the fixed values of ARCHITECTURE.md. Every function returns ``None`` when
it cannot tell, so the caller asks again instead of guessing.

Examples
--------
>>> parse_count("三人です")
3
>>> parse_count("大人2人と子ども１人")
3
>>> parse_yes_no("いいえ")
False
>>> parse_hazard("津波")
'tsunami'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

_KANJI_DIGITS = {
    "〇": 0, "零": 0, "一": 1, "壱": 1, "二": 2, "弐": 2, "三": 3, "参": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANA_COUNTS = {
    "ひとり": 1, "ふたり": 2, "一人": 1, "二人": 2, "独り": 1, "1人": 1,
    "さんにん": 3, "よにん": 4, "ごにん": 5, "ろくにん": 6, "しちにん": 7, "ななにん": 7,
    "はちにん": 8, "きゅうにん": 9, "じゅうにん": 10,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "alone": 1, "myself": 1,
}  # fmt: skip
_NUM_TOKEN = re.compile(r"[0-9]+|[〇零一壱二弐三参四五六七八九十百千]+")
_COUNTER = re.compile(
    r"([0-9]+|[〇零一壱二弐三参四五六七八九十百千]+)\s*(人|名|にん|people|persons?)",
)


def normalize(text: str) -> str:
    """NFKC (full-width digits and letters to half-width), trimmed, lower-case."""
    return unicodedata.normalize("NFKC", text or "").strip().lower()


def kanji_to_int(token: str) -> int | None:
    """Convert a kanji numeral (``十二``, ``二十三``, ``百五``) or digits to an int."""
    token = normalize(token)
    if not token:
        return None
    if token.isdigit():
        return int(token)
    total, current = 0, 0
    for ch in token:
        if ch in _KANJI_DIGITS:
            current = current * 10 + _KANJI_DIGITS[ch] if current else _KANJI_DIGITS[ch]
        elif ch in _KANJI_UNITS:
            total += (current or 1) * _KANJI_UNITS[ch]
            current = 0
        else:
            return None
    return total + current


def parse_count(text: str | int | float | None) -> int | None:
    """Headcount from an answer: ``3``, ``３人``, ``三人``, ``二名``, ``十二``, ``ふたり``.

    Several counted groups (``大人2人、子ども1人``) are summed. Returns None when no number is found
    or the number is implausible (0 or above 10,000).
    """
    if text is None:
        return None
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        number = int(text)
        return number if 0 < number <= 10000 else None
    norm = normalize(str(text))
    groups = [kanji_to_int(m.group(1)) for m in _COUNTER.finditer(norm)]
    groups_ok = [g for g in groups if g is not None]
    value: int | None = None
    if groups_ok:
        value = sum(groups_ok)
    else:
        for word, count in _KANA_COUNTS.items():
            if word in norm:
                value = count
                break
        if value is None:
            match = _NUM_TOKEN.search(norm)
            if match:
                value = kanji_to_int(match.group(0))
    if value is None or not 0 < value <= 10000:
        return None
    return value


def parse_stated_count(text: str | None) -> int | None:
    """A headcount only when it is clearly said (``4人``, ``ふたり``, a bare ``4``).

    Stricter than :func:`parse_count` for text that may hold other words (a correction such as
    ``一つ前に戻りたい`` must not become 1).
    """
    norm = normalize(text or "")
    if not norm:
        return None
    words = set(re.findall(r"[a-z]+", norm))
    if _COUNTER.search(norm) or any(
        (w in words) if w.isascii() else (w in norm) for w in _KANA_COUNTS
    ):
        return parse_count(norm)
    bare = re.fullmatch(r"(?:[0-9]+|[〇零一壱二弐三参四五六七八九十百千]+)(?:です|でした|だ|だった|に|へ)?", norm)
    return parse_count(norm) if bare else None


# What a correction says besides its new value: "間違えた、4人" → "4人".
_CORRECTION_WORDS = (
    "間違えました", "間違えた", "間違えて", "まちがえました", "まちがえた", "間違い", "まちがい",
    "間違ってます", "間違ってる", "ごめんなさい", "ごめん", "すみません", "すいません", "訂正します",
    "訂正したい", "訂正", "修正", "ミスった", "ミスです", "ミス", "違った", "違いました", "ちがった",
    "本当は", "ほんとうは", "ほんとは", "やっぱり", "やっぱ", "正しくは", "sorry", "wrong", "correction", "actually",
    "i meant", "i mean", "mistake", "it's", "it is",
)  # fmt: skip
_CORRECTION_SPLIT = re.compile(r"じゃなくて|ではなくて|ではなく|じゃなく|でなくて|でなく|\bbut\b")


def correction_text(text: str | None) -> str:
    """The new value a correction carries (``3人じゃなくて4人`` → ``4人``); "" when none.

    The part after "じゃなくて / ではなく / but" is the new value; "4 instead of 3" keeps the part
    before "instead of". Correction words and punctuation are removed.
    """
    norm = normalize(text or "")
    if "instead of" in norm:
        norm = norm.split("instead of", 1)[0]
    parts = _CORRECTION_SPLIT.split(norm)
    norm = parts[-1]
    for word in _CORRECTION_WORDS:
        norm = norm.replace(word, " ")
    norm = re.sub(r"^(?:は|を|の|、|,)+", "", norm.strip(" 、。,.!！?？:："))
    return re.sub(r"[\s、。,.!！?？:：]+", " ", norm).strip()


_NO_WORDS = (
    "いいえ", "いや", "じゃない", "ではない", "ちがう", "違う", "違います", "ちがいます", "だめ", "ダメ", "不要", "いらない",
    "要らない", "しない", "しません", "結構", "けっこう", "no", "nope", "don't", "dont", "not",
    "ないです", "ノー", "拒否", "同意しない", "やめ",
)  # fmt: skip
_YES_WORDS = (
    "はい", "うん", "ええ", "そう", "お願い", "おねがい", "ok", "okay", "yes", "yeah", "sure",
    "いいよ", "いいです", "大丈夫", "だいじょうぶ", "同意", "よろしく", "合って", "あって", "正しい",
    "オッケー", "おっけー", "了解", "りょうかい", "y",
)  # fmt: skip


def parse_yes_no(text: str | None) -> bool | None:
    """True for yes-like answers, False for no-like answers, None when unclear."""
    norm = normalize(text or "")
    if not norm:
        return None
    words = set(re.findall(r"[a-z']+", norm))
    for w in _NO_WORDS:
        if (w.isascii() and w in words) or (not w.isascii() and w in norm):
            return False
    for w in _YES_WORDS:
        if (w.isascii() and w in words) or (not w.isascii() and w in norm):
            return True
    return None


_NONE_WORDS = (
    "なし", "無し", "ない", "ありません", "いない", "いません", "特にない", "とくにない", "特になし",
    "大丈夫", "だいじょうぶ", "不要", "いらない", "none", "nothing", "no", "nobody", "skip",
    "スキップ", "ゼロ", "0",
)  # fmt: skip


def is_none_answer(text: str | None) -> bool:
    """True for 'none / nothing / skip' answers (なし, 特にない, 0, none)."""
    norm = normalize(text or "")
    if not norm:
        return False
    words = set(re.findall(r"[a-z0-9]+", norm))
    for w in _NONE_WORDS:
        if w.isascii():
            if w in words:
                return True
        elif w in norm:
            return True
    return False


_HAZARD_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("inland_flood", ("内水", "下水", "マンホール", "inland")),
    ("storm_surge", ("高潮", "たかしお", "storm surge", "surge")),
    ("tsunami", ("津波", "つなみ", "ツナミ", "tsunami")),
    ("landslide", ("土砂", "どしゃ", "崖", "がけ", "がけ崩れ", "土石流", "地滑り", "地すべり", "山崩れ", "landslide", "mudslide")),
    ("flood", ("洪水", "こうずい", "浸水", "氾濫", "はんらん", "大雨", "冠水", "川", "flood")),
    ("earthquake", ("地震", "じしん", "揺れ", "earthquake", "quake")),
    ("large_fire", ("火事", "火災", "かじ", "fire")),
    ("volcano", ("火山", "噴火", "かざん", "volcano", "eruption")),
]  # fmt: skip
_ALL_WORDS = ("すべて", "全て", "全部", "ぜんぶ", "なんでも", "何でも", "わからない", "分からない", "わかんない", "all", "any", "don't know", "not sure")  # fmt: skip
HAZARDS = ("flood", "landslide", "storm_surge", "earthquake", "tsunami", "large_fire", "inland_flood", "volcano")  # fmt: skip


def match_code(
    norm: str, codes: Collection[str], table: list[tuple[str, tuple[str, ...]]]
) -> str | None:
    """The fixed code itself, else the first code of ``table`` one of whose words is in ``norm``."""
    if norm in codes:
        return norm
    for code, words in table:
        if any(w in norm for w in words):
            return code
    return None


def parse_hazard(text: str | None) -> str | None:
    """Hazard kind (``tsunami`` …) from text; ``all`` for 'all / don't know'; None if unclear."""
    norm = normalize(text or "")
    if not norm:
        return None
    kind = match_code(norm, (*HAZARDS, "all"), _HAZARD_WORDS)
    if kind:
        return kind
    if any(w in norm for w in _ALL_WORDS):
        return "all"
    return None


_PLACE_TYPE_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("car", ("車", "くるま", "クルマ", "車中", "しゃちゅう", "car", "vehicle")),
    ("relatives", ("親戚", "しんせき", "親類", "知人", "知り合い", "友人", "友達", "ともだち", "実家", "家族の家", "relative", "friend")),
    ("hotel", ("ホテル", "旅館", "宿", "ほてる", "hotel", "inn")),
    ("shelter", ("避難所", "ひなんじょ", "体育館", "公民館", "学校", "shelter", "gym")),
    ("home", ("自宅", "家", "いえ", "うち", "じたく", "在宅", "2階", "二階", "home", "house")),
    ("other", ("その他", "そのた", "ほか", "other")),
]  # fmt: skip
PLACE_TYPES = ("home", "car", "relatives", "hotel", "shelter", "other")


def parse_place_type(text: str | None) -> str | None:
    """Evacuation place type (home|car|relatives|hotel|shelter|other) from text."""
    return match_code(normalize(text or ""), PLACE_TYPES, _PLACE_TYPE_WORDS)


_CONGESTION_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("closed", ("閉鎖", "閉まって", "しまって", "開いていない", "あいてない", "開いてない", "closed")),
    ("full", ("満員", "満杯", "いっぱい", "入れない", "はいれない", "full")),
    ("moderate", ("やや", "少し混", "すこし混", "ちょっと混", "まあまあ", "moderate", "somewhat")),
    ("crowded", ("混雑", "混んで", "こんで", "混み", "crowded", "busy")),
    ("vacant", ("空いて", "すいて", "余裕", "ガラガラ", "がらがら", "空き", "vacant", "empty", "space")),
]  # fmt: skip
CONGESTION = ("vacant", "moderate", "crowded", "full", "closed")


def parse_congestion(text: str | None) -> str | None:
    """Congestion level (vacant|moderate|crowded|full|closed) from text."""
    return match_code(normalize(text or ""), CONGESTION, _CONGESTION_WORDS)


_SUPPLY_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("baby_formula", ("ミルク", "粉ミルク", "みるく", "formula")),
    ("diapers", ("おむつ", "オムツ", "紙おむつ", "diaper", "nappy")),
    ("water", ("水", "みず", "飲み物", "water")),
    ("food", ("食料", "食べ物", "たべもの", "食事", "ごはん", "ご飯", "おにぎり", "パン", "弁当", "food")),
    ("medicine", ("薬", "くすり", "医薬", "常備薬", "medicine", "drug")),
    ("blankets", ("毛布", "もうふ", "布団", "ふとん", "寝袋", "blanket")),
    ("fuel", ("燃料", "灯油", "ガソリン", "とうゆ", "fuel", "kerosene", "gas")),
    ("toilet", ("トイレ", "といれ", "簡易トイレ", "toilet")),
    ("power", ("電気", "電源", "充電", "発電", "バッテリー", "power", "charger", "electricity")),
    ("clothing", ("服", "衣類", "着替え", "下着", "clothes", "clothing")),
    ("hygiene", ("生理用品", "マスク", "消毒", "衛生", "歯ブラシ", "hygiene", "sanitary", "mask")),
]  # fmt: skip
SUPPLIES = ("water", "food", "medicine", "baby_formula", "diapers", "blankets", "fuel", "toilet", "power", "clothing", "hygiene", "other")  # fmt: skip


def parse_supplies(text: str | list | None) -> list[str]:
    """List of supply kinds mentioned (``水と毛布`` → ``['water', 'blankets']``), in a fixed order."""
    if text is None:
        return []
    if isinstance(text, list):
        out: list[str] = []
        for item in text:
            for s in parse_supplies(str(item)):
                if s not in out:
                    out.append(s)
        return out
    norm = normalize(text)
    if norm in SUPPLIES:
        return [norm]
    found = [kind for kind, words in _SUPPLY_WORDS if any(w in norm for w in words)]
    return found


_DAMAGE_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("injured_person", ("けが", "ケガ", "怪我", "負傷", "救助", "閉じ込め", "取り残", "動けない", "injur", "trapped", "rescue")),
    ("fire", ("火事", "火災", "燃えて", "煙", "かじ", "fire", "smoke")),
    ("landslide", ("土砂", "崖崩れ", "がけ崩れ", "土石流", "地滑り", "地すべり", "どしゃ", "landslide", "mudslide")),
    ("river_rising", ("川", "河川", "増水", "氾濫", "はんらん", "堤防", "river")),
    ("road_flooded", ("冠水", "浸水", "水没", "水浸し", "かんすい", "flooded", "flood")),
    ("road_blocked", ("通行止め", "寸断", "陥没", "倒木", "通れない", "とおれない", "blocked", "road closed")),
    ("building_damage", ("倒壊", "建物", "家が", "屋根", "壁", "崩れ", "損壊", "building", "collapsed", "roof")),
    ("power_outage", ("停電", "電気が", "ていでん", "power outage", "blackout", "no power")),
    ("water_outage", ("断水", "水が出", "だんすい", "no water", "water outage")),
    ("other", ("その他", "そのた", "other")),
]  # fmt: skip
DAMAGE_TYPES = (
    "road_flooded", "building_damage", "landslide", "fire", "road_blocked", "river_rising",
    "power_outage", "water_outage", "injured_person", "other",
)  # fmt: skip


def parse_damage_type(text: str | None) -> str | None:
    """Report category from text (``道路が冠水`` → ``road_flooded``)."""
    return match_code(normalize(text or ""), DAMAGE_TYPES, _DAMAGE_WORDS)


_URGENCY_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("critical", ("命", "いのち", "今すぐ", "いますぐ", "至急", "大至急", "critical", "life")),
    ("high", ("急ぎ", "いそぎ", "急いで", "早く", "はやく", "すぐ", "高", "urgent", "high", "asap")),
    ("low", ("急がない", "いそがない", "低", "あとで", "後で", "ゆっくり", "low", "not urgent")),
    ("normal", ("普通", "ふつう", "中", "そこそこ", "normal", "medium")),
]  # fmt: skip
URGENCIES = ("low", "normal", "high", "critical")


def parse_urgency(text: str | None) -> str | None:
    """Urgency (low|normal|high|critical) from text."""
    return match_code(normalize(text or ""), URGENCIES, _URGENCY_WORDS)


_VULNERABLE_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("elderly", ("高齢", "お年寄り", "おとしより", "老人", "年寄", "祖父", "祖母", "じいちゃん", "ばあちゃん", "elderly", "senior")),
    ("infants", ("乳幼児", "乳児", "赤ちゃん", "あかちゃん", "赤ん坊", "幼児", "小さい子", "baby", "infant", "toddler")),
    ("pregnancy", ("妊婦", "妊娠", "にんぷ", "産後", "pregnan")),
    ("disabilities", ("障害", "障がい", "しょうがい", "車いす", "車椅子", "disab", "wheelchair")),
    ("medical", ("透析", "酸素", "人工呼吸", "持病", "介護", "寝たきり", "病気", "病人", "dialysis", "oxygen", "medical", "sick")),
]  # fmt: skip


def parse_vulnerable(text: str | None) -> dict[str, int] | None:
    """People who need care, as ``{kind: count}`` (count 1 when not said); ``{}`` for 'none'.

    Returns None when the answer is neither 'none' nor names any group.
    """
    norm = normalize(text or "")
    if not norm:
        return None
    found: dict[str, int] = {}
    for kind, words in _VULNERABLE_WORDS:
        for w in words:
            idx = norm.find(w)
            if idx >= 0:
                tail = norm[idx + len(w) : idx + len(w) + 6]
                found[kind] = parse_count(tail) or 1
                break
    if found:
        return found
    if is_none_answer(norm):
        return {}
    return None


_PLACE_SUFFIXES = (
    "の近くです", "のあたりです", "の辺りです", "のあたり", "の辺り", "の近く", "付近です", "付近",
    "にいます", "にいる", "です", "だよ", "だ", "あたり", "周辺",
)  # fmt: skip
_PLACE_PREFIXES = ("場所は", "住所は", "いまは", "今は", "ここは", "現在地は")


def clean_place_text(text: str | None) -> str:
    """Strip polite endings and fillers from a place answer (``函館駅の近くです`` → ``函館駅``)."""
    out = unicodedata.normalize("NFKC", text or "").strip().strip("。.!！?？、, ")
    for prefix in _PLACE_PREFIXES:
        if out.startswith(prefix):
            out = out[len(prefix) :].strip()
    changed = True
    while changed and out:
        changed = False
        for suffix in _PLACE_SUFFIXES:
            if out.endswith(suffix) and len(out) > len(suffix):
                out = out[: -len(suffix)].strip().strip("。.!！、, ")
                changed = True
    return out


_JA_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_LANG_CMD = re.compile(r"^\s*/\s*lang(?:uage)?\s+([a-z]{2})\b", re.IGNORECASE)


def language_command(text: str | None) -> str | None:
    """``/lang en`` → ``en``; ``/lang ja`` → ``ja``; otherwise None."""
    m = _LANG_CMD.match(text or "")
    if m and m.group(1).lower() in ("en", "ja"):
        return m.group(1).lower()
    return None


def looks_english(text: str | None) -> bool:
    """True for a message of at least two English words and no Japanese characters."""
    raw = (text or "").strip()
    if not raw or raw.startswith("/") or _JA_CHARS.search(raw):
        return False
    return len(re.findall(r"[A-Za-z]{2,}", raw)) >= 2


def looks_japanese(text: str | None) -> bool:
    """True when the message contains kana or kanji."""
    return bool(_JA_CHARS.search(text or ""))


def format_distance(meters: float | None, language: str = "ja") -> str:
    """``350m`` below 1 km, ``1.2km`` above; walking minutes are not guessed."""
    if meters is None:
        return "?"
    if meters < 1000:
        return f"{int(round(meters / 10.0) * 10)}m"
    return f"{meters / 1000:.1f}km"


def map_link(lat: float, lon: float) -> str:
    """GSI map link centred on the point at zoom 17."""
    return f"https://maps.gsi.go.jp/#17/{lat:.6f}/{lon:.6f}/"
