"""Pure parsing helpers for residents' answers (no Rasa imports).

Residents type under stress: full-width digits, kanji numerals, kana, casual words. These helpers
turn such answers into the fixed values of ARCHITECTURE.md. Every function returns ``None`` when
it cannot tell, so the caller asks again instead of guessing.

The fixed codes and the words for them live in ``bot/vocabulary.yml`` (:mod:`bot.vocabulary`);
this module keeps what is no vocabulary: numerals and head-counts, corrections, yes / no, place
text.

Why one module of about 440 lines: it is a flat set of small, independent, pure functions that
share one normalisation (:func:`normalize`) and the numeral patterns, each tested on its own in
``tests/actions/test_parsing.py``; the actions and the vocabulary extractor import them from this
one place. The last few helpers (language detection, distance and map-link formatting) are text
helpers of the same kind kept with them.

Examples
--------
>>> parse_count("三人です")
3
>>> parse_count("大人2人と子ども１人")
3
>>> parse_count("2階に大人3 子ども1")
4
>>> parse_yes_no("いいえ")
False
>>> parse_hazard("津波")
'tsunami'
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from bot import vocabulary

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
# Numbers are bounded (5 digits, 6 kanji) and never start or end inside a longer run, so every
# pattern below runs in linear time (a message of 40,000 digits takes milliseconds).
_KANJI_NUM = "〇零一壱二弐三参四五六七八九十百千"
_NUM = rf"(?:(?<![0-9])[0-9]{{1,5}}(?![0-9])|(?<![{_KANJI_NUM}])[{_KANJI_NUM}]{{1,6}}(?![{_KANJI_NUM}]))"
_COUNTER = re.compile(rf"({_NUM})\s?(人|名|にん|people|persons?|ppl)")
# 「大人3 子ども1」「高齢者2」: a group of people followed by a bare number.
_MEMBER = re.compile(
    rf"(?:大人|おとな|子ども|子供|こども|小学生|中学生|高校生|高齢者|老人|お年寄り|赤ちゃん|乳児|幼児"
    rf"|男性|女性|男|女|家族|adults?|kids?|children|child)\s?(?:が|は|:)?\s?({_NUM})"
    rf"(?!\s?(?:歳|才|さい|階|段|時|分|日|月|年|丁目|番|号|条|m\b|cm|%|km|度|か月|ヶ月|ヵ月))"
)
# A bare number that is no count: ages, floors, times, addresses, measures.
_BARE = re.compile(
    rf"(?<![-−‐])({_NUM})(?!\s?(?:歳|才|さい|階|段|時|分|秒|日|月|年|丁目|番|号|条|線|m\b|cm|mm|%|km|度"
    rf"|か月|ヶ月|ヵ月|センチ|メートル|ミリ|[-−‐][0-9]))"
)


def normalize(text: str) -> str:
    """NFKC (full-width digits and letters to half-width), trimmed, lower-case."""
    return unicodedata.normalize("NFKC", text or "").strip().lower()


def kanji_to_int(token: str) -> int | None:
    """Convert a kanji numeral (``十二``, ``二十三``, ``百五``) or digits to an int."""
    token = normalize(token)
    if not token or len(token) > 12:
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


def _groups(folded: str) -> list[tuple[int, int, int]]:
    """Counted groups ``(count, start, end)``: 「3人」「二名」 and 「大人3」「子ども1」."""
    found: list[tuple[int, int, int]] = []
    taken: list[tuple[int, int]] = []
    for m in _COUNTER.finditer(folded):
        n = kanji_to_int(m.group(1))
        if n is not None:
            found.append((n, m.start(), m.end()))
            taken.append((m.start(1), m.end(1)))
    for m in _MEMBER.finditer(folded):
        if any(s < m.end(1) and m.start(1) < e for s, e in taken):
            continue  # 「大人2人」 is counted once
        n = kanji_to_int(m.group(1))
        if n is not None:
            found.append((n, m.start(), m.end()))
    return sorted(found, key=lambda g: g[1])


def head_count(text: str | None) -> tuple[int, int, int] | None:
    """A head-count said in a sentence, as ``(count, start, end)`` of its span in ``text``.

    Only counted groups (「5名」「大人3 子ども1」), never a bare number (「3丁目」). None when there
    is none or the sum is implausible.

    >>> head_count("2階に大人3 子ども1、水がきてる")
    (4, 3, 11)
    """
    groups = _groups(vocabulary.fold(text or ""))
    if not groups:
        return None
    total = sum(g[0] for g in groups)
    if not 0 < total <= 10000:
        return None
    return total, groups[0][1], groups[-1][2]


def _kana_count(norm: str) -> int | None:
    words = set(re.findall(r"[a-z]+", norm))
    for word, count in _KANA_COUNTS.items():
        if (word in words) if word.isascii() else (word in norm):
            return count
    return None


def parse_count(text: str | int | float | None) -> int | None:
    """Headcount from an answer: ``3``, ``３人``, ``三人``, ``二名``, ``十二``, ``ふたり``.

    Several counted groups (``大人2人、子ども1人``, ``大人3 子ども1``) are summed; floors, ages and
    addresses are no count (``2階に5名`` is 5). Returns None when no number is found or the number
    is implausible (0 or above 10,000).
    """
    if text is None:
        return None
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        number = int(text)
        return number if 0 < number <= 10000 else None
    norm = vocabulary.fold(str(text))
    groups = _groups(norm)
    value: int | None
    if groups:
        value = sum(g[0] for g in groups)
    else:
        value = _kana_count(norm)
        if value is None:
            match = _BARE.search(norm)
            value = kanji_to_int(match.group(1)) if match else None
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
    if _groups(norm) or _kana_count(norm) is not None:
        return parse_count(norm)
    bare = re.fullmatch(rf"{_NUM}(?:です|でした|だ|だった|に|へ)?", norm)
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


class _Codes(Sequence[str]):
    """The codes of a vocabulary group, read on first use (no file read at import time)."""

    def __init__(self, group: str, *, only_entities: bool = False) -> None:
        self._group, self._only_entities = group, only_entities

    @functools.cached_property
    def _codes(self) -> tuple[str, ...]:
        g = vocabulary.group(self._group)
        return tuple(k for k, c in g.codes.items() if c.entity or not self._only_entities)

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        return self._codes[index]

    def __len__(self) -> int:
        return len(self._codes)

    def __contains__(self, value: object) -> bool:
        return value in self._codes

    def __repr__(self) -> str:
        return repr(self._codes)


HAZARDS = _Codes("hazard", only_entities=True)  # the eight GSI hazard kinds (without "all")
PLACE_TYPES = _Codes("place_type")
CONGESTION = _Codes("congestion")
SUPPLIES = _Codes("supply")
# Report categories a resident can name (not the flows' own: shelter_status, evacuee, supply_request).
DAMAGE_TYPES = _Codes("category", only_entities=True)
URGENCIES = _Codes("urgency")


def parse_hazard(text: str | None) -> str | None:
    """Hazard kind (``tsunami`` …) from text; ``all`` for 'all / don't know'; None if unclear."""
    return vocabulary.match("hazard", text)


def parse_place_type(text: str | None) -> str | None:
    """Evacuation place type (home|car|relatives|hotel|shelter|other) from text."""
    return vocabulary.match("place_type", text)


def parse_congestion(text: str | None) -> str | None:
    """Congestion level (vacant|moderate|crowded|full|closed) from text."""
    return vocabulary.match("congestion", text)


def parse_supplies(text: str | list | None) -> list[str]:
    """Supply kinds needed (``水と毛布`` → ``['water', 'blankets']``), in the vocabulary's order.

    「水は足りてる」「毛布はいらない」 are no need; 「水がない」 is.
    """
    if text is None:
        return []
    items = [str(t) for t in text] if isinstance(text, list) else [text]
    found = {code for item in items for code in vocabulary.match_all("supply", item)}
    return [code for code in SUPPLIES if code in found]


def parse_damage_type(text: str | None) -> str | None:
    """Report category from text (``道路が冠水`` → ``road_flooded``; 「家が傾いた」 → building_damage)."""
    code = vocabulary.match("category", text)
    return code if code in DAMAGE_TYPES else None


def parse_urgency(text: str | None) -> str | None:
    """Urgency (low|normal|high|critical) from text; 「急ぎではありません」 is low."""
    return vocabulary.match("urgency", text)


_AGE = re.compile(r"(?<![0-9])([0-9]{1,3})\s?(?:歳|才|さい)")


def parse_vulnerable(text: str | None) -> dict[str, int] | None:
    """People who need care, as ``{kind: count}`` (count 1 when not said); ``{}`` for 'none'.

    Ages count too: 「88歳の祖父」 is elderly, 「2歳の子」 an infant. Returns None when the answer
    is neither 'none' nor names any group.
    """
    raw = text or ""
    norm = vocabulary.fold(raw)
    if not norm.strip():
        return None
    found: dict[str, int] = {}
    for hit in vocabulary.find("vulnerable", raw):
        if hit.code not in found:
            found[hit.code] = parse_count(norm[hit.end : hit.end + 6]) or 1
    for m in _AGE.finditer(norm):
        age = int(m.group(1))
        kind = "elderly" if age >= 65 else "infants" if age <= 5 else None
        if kind and kind not in found:
            found[kind] = 1
    if found:
        return {k: found[k] for k in vocabulary.codes("vulnerable") if k in found}
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


# An address written in a message: 「〇〇町3丁目12-4」「札幌市北区〇〇2条5丁目」, with what follows it
# when it says which building (「…の青い屋根の家」). Bounded repetitions: linear time.
_PLACE_NAME = "[\u3005\u4e00-\u9fff\u30a1-\u30fa\u30fc〇○◯]"
_ADDR_NUM = "(?:[0-9]{1,5}|[一二三四五六七八九十]{1,3})"
_ADDR_UNIT = rf"(?:丁目|条|線|番地|番|号|地割|[-−‐ー]{_ADDR_NUM})"
_ADDRESS = re.compile(
    rf"({_PLACE_NAME}{{1,16}})?{_ADDR_NUM}{_ADDR_UNIT}(?:{_ADDR_NUM}?{_ADDR_UNIT}){{0,4}}"
    rf"(?:の[^\s、。,.!?！？#＃]{{0,16}}?"
    rf"(?:屋根の家|家|宅|建物|アパート|マンション|ビル|店|前|横|裏|隣|近く|付近|あたり|辺り|交差点|橋|公園|駅))?"
)
_ADDRESS_MARK = re.compile(r"丁目|条|番地|番|号|地割|[都道府県市区町村郡]")


def place_text_span(text: str | None) -> tuple[int, int] | None:
    """Span of an address written in ``text`` (the first), or None.

    Kept for officials as the report's place text; never echo it to others, never log it.

    >>> t = "〇〇町3丁目12-4の青い屋根の家に祖母が一人"
    >>> s, e = place_text_span(t)
    >>> t[s:e]
    '〇〇町3丁目12-4の青い屋根の家'
    """
    folded = vocabulary.fold(text or "")
    for m in _ADDRESS.finditer(folded):
        if _ADDRESS_MARK.search(m.group(0)):
            return m.start(), m.end()
    return None


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


_EN = ("en", "english", "英語", "えいご", "エイゴ", "eng")
_JA = ("ja", "japanese", "日本語", "にほんご", "ニホンゴ", "jp", "nihongo")
_HIRAGANA = "\u3041-\u309f"


def language_value(value: Any) -> str | None:
    norm = normalize(str(value or ""))
    if any(w in norm for w in _JA):
        return "ja"
    if any(w in norm for w in _EN):
        return "en"
    return None


def detect_language(intent: str | None, text: str, entities: list[Any], current: str | None) -> str | None:
    """The language to switch to, or None to keep the current one."""
    command = language_command(text)
    if command:
        return command
    if intent == "set_language":
        for value in entities:
            lang = language_value(value)
            if lang:
                return lang
        return language_value(text) or ("en" if looks_english(text) else None)
    if current != "en" and looks_english(text):
        return "en"
    if current == "en" and len(re.findall(f"[{_HIRAGANA}]", text)) >= 3:
        return "ja"
    return None


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


# A question or a request for information, as residents write one: a question mark or ending,
# an interrogative, 「わからない」, a topic left open (「今の警戒レベルは」), a request (「もう一回」
# 「教えて」), or a bare information noun (「地震速報」「台風の進路」). What is none of these is a
# statement (「なんか外がへん」「防災メールが届かない」): read as a question about disaster news, it is
# also kept for a person (actions/intake.py).
_QUESTION = re.compile(
    r"[?？]"
    r"|(か|かな|かね|かい|かいな|かしら|のん|っけ|でしょう|だろう|やろ|べか|ですか|ますか)[ぁあー〜。!！…\s]*$"
    r"|(?<!な)の[。!！…\s]*$"
    r"|(ですか|ますか|でしょうか|でしょか|のか|かな|かいな|んやろ|だべか)(?=[、,。!！…\s]|$)"
    r"|(は|って|とか)[。\s]*$"
    r"|いつ|どこ|何(?!も)|なに(?!も)|なんで|なんて|なんぼ|どう|どない|誰|だれ|どれ|どの|どっち|なぜ|いくら|いくつ"
    r"|教え|おしえ|知りた|しりた|わから|分から|わかん|分かん|わかる|分かる|確認したい|聞きたい|調べ"
    r"|もう一回|もう一度|もういっかい|ください|下さい|ちょうだい|お願い|おねがい|ほしい|欲しい"
    r"|(情報|速報|お知らせ|おしらせ|レベル|状況|見込み|予定|予想|予報|進路|一覧|まとめ)[。\s]*$"
    r"|\b(what|when|where|which|who|whom|whose|why|how|is|are|was|were|do|does|did|can|could|will"
    r"|would|should|has|have|any|tell|show|please)\b"
    r"|\b(news|info|information|update|updates|status)\b",
    re.IGNORECASE,
)


def asks_something(text: str | None) -> bool:
    """Whether ``text`` asks a question or for information (see :data:`_QUESTION`)."""
    return bool(text) and _QUESTION.search(normalize(str(text))) is not None
