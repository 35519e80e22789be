"""Text normalisation for Japanese open data: widths, spaces, depth bands, facility names.

Pure functions, no I/O. Used by the sources (depth-band texts of the national land numerical
information A40 tsunami layers, flag values) and by the fuzzy site search.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "nfkc",
    "normalise_key",
    "parse_depth_band",
    "depth_label",
    "normalise_name",
    "is_truthy_flag",
]

_DASHES = "〜～~－−‐‑‒–—―ｰー-"
_SPACES_RE = re.compile(r"[\s\u3000]+")


def nfkc(text: object) -> str:
    """NFKC-normalise ``text`` (full-width digits and letters become ASCII) and strip it.

    Parameters
    ----------
    text : object
        Any value; None and NaN give "".

    Returns
    -------
    str

    Examples
    --------
    >>> nfkc("１．５ｍ")
    '1.5m'
    """
    if text is None:
        return ""
    if isinstance(text, float) and text != text:  # NaN
        return ""
    return unicodedata.normalize("NFKC", str(text)).strip()


def normalise_key(text: object) -> str:
    """A comparison key for column names: NFKC, no spaces or punctuation, lower case.

    Examples
    --------
    >>> normalise_key("崖崩れ、土石流及び地滑り") == normalise_key("崖崩れ・土石流及び地滑り")
    True
    """
    s = nfkc(text).lower()
    return re.sub(r"[\s、,・･/／_\-()（）「」\[\]]+", "", s)


# --------------------------------------------------------------------------- depth bands

_NUM_UNIT_RE = re.compile(
    r"(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>cm|センチメートル|センチ|m|メートル|ｍ)?", re.IGNORECASE
)
_LOWER_WORDS = ("以上", "超", "より深", "を超え", "over", "+", "≧", "≥", ">")
_UPPER_WORDS = ("未満", "以下", "まで", "under", "≦", "≤", "<")


def _to_metres(value: float, unit: str | None) -> float:
    if unit and unit.lower().startswith(("cm", "セ")):
        return round(value / 100.0, 4)
    return value


def parse_depth_band(text: object) -> tuple[float | None, float | None]:
    """Parse a depth band written as free text into (min, max) metres.

    Handles full-width digits and units (NFKC), the many range separators (``〜 ～ ~ - －``),
    ``以上/未満/以下/超`` qualifiers, centimetres, and open ranges. Unknown text gives
    ``(None, None)``; an open upper end gives ``max = None``.

    Parameters
    ----------
    text : object
        The band text, e.g. ``"０．３ｍ以上１．０ｍ未満"``, ``"1.0～2.0m"``, ``"5m以上"``.

    Returns
    -------
    tuple of (float or None, float or None)

    Examples
    --------
    >>> parse_depth_band("０．３ｍ以上１．０ｍ未満")
    (0.3, 1.0)
    >>> parse_depth_band("0.3m未満")
    (0.0, 0.3)
    >>> parse_depth_band("20m以上")
    (20.0, None)
    """
    s = nfkc(text)
    if not s:
        return (None, None)
    s = s.replace(",", ".").replace("．", ".")
    s = re.sub(r"(?<=[\dm])\s*(?:[" + re.escape(_DASHES) + r"]|から)\s*", "~", s)
    s = re.sub(r"^\s*[" + re.escape(_DASHES) + r"]\s*(?=\d)", "~", s)
    matches = list(_NUM_UNIT_RE.finditer(s))
    # ignore rank numbers such as "ランク3" or "3:" with no unit when other numbers carry units
    if not matches:
        return (None, None)
    units = [m.group("unit") for m in matches]
    if not any(units) and re.search(r"ランク|rank|区分|level", s, re.IGNORECASE):
        return (None, None)
    default_unit = next((u for u in reversed(units) if u), None)
    values = [_to_metres(float(m.group("num")), m.group("unit") or default_unit) for m in matches]
    if len(values) >= 2:
        lo, hi = values[0], values[1]
        if lo > hi:
            lo, hi = hi, lo
        return (lo, hi)
    value = values[0]
    before = s[: matches[0].start()]
    after = s[matches[0].end() :]
    if (
        any(w in after for w in _UPPER_WORDS)
        or before.endswith("~")
        or any(w in before for w in ("<", "≦", "≤"))
    ):
        return (0.0, value)
    if any(w in after for w in _LOWER_WORDS) or after.startswith("~"):
        return (value, None)
    return (value, value)


def _fmt_m(value: float) -> str:
    text = f"{value:.2f}".rstrip("0")
    if text.endswith("."):
        text += "0"
    return text


def depth_label(lo: float | None, hi: float | None) -> str | None:
    """Plain Japanese label for a depth range.

    Examples
    --------
    >>> depth_label(0.5, 3.0)
    '0.5〜3.0m'
    >>> depth_label(0.0, 0.5)
    '0.5m未満'
    >>> depth_label(5.0, None)
    '5.0m以上'
    """
    if lo is None and hi is None:
        return None
    if hi is None:
        return f"{_fmt_m(lo or 0.0)}m以上"
    if not lo:
        return f"{_fmt_m(hi)}m未満"
    if lo == hi:
        return f"{_fmt_m(lo)}m"
    return f"{_fmt_m(lo)}〜{_fmt_m(hi)}m"


# --------------------------------------------------------------------------- names

_KATA_TO_HIRA = {c: c - 0x60 for c in range(ord("ァ"), ord("ヶ") + 1)}
_ABBREVIATIONS = (
    ("高等学校", "高"),
    ("高校", "高"),
    ("中等教育学校", "中"),
    ("中学校", "中"),
    ("小学校", "小"),
    ("義務教育学校", "学"),
    ("コミュニティセンター", "コミセン"),
    ("こみゅにてぃせんたー", "こみせん"),
    ("コミュニティーセンター", "コミセン"),
    ("こみゅにてぃーせんたー", "こみせん"),
    ("体育館", "体"),
    ("旧", ""),
)


def normalise_name(text: object) -> str:
    """A search key for facility names and addresses.

    NFKC (full/half width), lower case, katakana to hiragana, no spaces or punctuation,
    common suffixes shortened (小学校→小, 中学校→中, 高等学校/高校→高, 体育館→体) and 丁目/番地
    forms of addresses unified, so "もみじ台小学校", "もみじ台 小" and "モミジ台小" meet.

    Examples
    --------
    >>> normalise_name("もみじの森　小学校") == normalise_name("もみじの森小")
    True
    """
    s = nfkc(text).lower()
    s = _SPACES_RE.sub("", s)
    s = re.sub(r"^[^\s]{0,8}?[市町村区道県府都]立", "", s)  # 札幌市立/道立... prefixes
    for long, short in _ABBREVIATIONS:
        s = s.replace(long, short)
    s = s.translate(_KATA_TO_HIRA)
    s = re.sub(r"(\d+)丁目", r"\1-", s)
    s = re.sub(r"(\d+)番地?", r"\1-", s)
    s = re.sub(r"(\d+)号", r"\1", s)
    s = re.sub(r"[‐‑‒–—―－−ー]+(?=\d)", "-", s)
    s = re.sub(r"[、。・,.()（）「」『』\[\]【】]", "", s)
    return s.strip("-")


_TRUE_FLAGS = {"1", "1.0", "○", "◯", "〇", "●", "true", "yes", "y", "t", "有", "可", "該当", "◎"}


def is_truthy_flag(value: object) -> bool:
    """True for the values that mark a GSI hazard flag as set ("1", "○", "TRUE" ...)."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == value and value != 0
    return nfkc(value).lower() in _TRUE_FLAGS
