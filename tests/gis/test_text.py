"""Text normalisation: A40 depth bands, facility-name keys, flag values."""

from __future__ import annotations

import json

import pytest

from gis.text import depth_label, is_truthy_flag, normalise_name, parse_depth_band
from tests.gis.conftest import FIXTURES


@pytest.mark.parametrize(
    "text,lo,hi",
    [tuple(row) for row in json.loads((FIXTURES / "a40_bands.json").read_text("utf-8"))],
)
def test_fixture_bands(text, lo, hi):
    assert parse_depth_band(text) == (lo, hi)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("０．０１ｍ以上０．３ｍ未満", (0.01, 0.3)),
        ("0.3m以下", (0.0, 0.3)),
        ("～0.3m", (0.0, 0.3)),
        ("0.3〜1m", (0.3, 1.0)),
        ("1m～2m", (1.0, 2.0)),
        ("１ｍ－２ｍ", (1.0, 2.0)),
        ("2.0ｍから5.0ｍ", (2.0, 5.0)),
        ("10m超", (10.0, None)),
        ("5.0m -", (5.0, None)),
        ("50cm以上1m未満", (0.5, 1.0)),
        ("3", (3.0, 3.0)),
        ("", (None, None)),
        (None, (None, None)),
        ("不明", (None, None)),
        ("ランク3", (None, None)),
        ("5.0～2.0m", (2.0, 5.0)),
    ],
)
def test_depth_spellings(text, expected):
    assert parse_depth_band(text) == expected


def test_depth_labels():
    assert depth_label(0.5, 3.0) == "0.5〜3.0m"
    assert depth_label(0.0, 0.3) == "0.3m未満"
    assert depth_label(20.0, None) == "20.0m以上"
    assert depth_label(0.01, 0.3) == "0.01〜0.3m"
    assert depth_label(None, None) is None


@pytest.mark.parametrize(
    "a,b",
    [
        ("もみじ台中学校", "もみじ台中"),
        ("もみじ台　中学校", "ﾓﾐｼﾞ台中学校"),
        ("札幌市立資生館小学校", "資生館小"),
        ("ＡＢＣ体育館", "abc体"),
        ("北海道札幌市中央区南三条西７丁目１番１号", "北海道札幌市中央区南三条西7-1-1"),
    ],
)
def test_name_keys_meet(a, b):
    assert normalise_name(a) == normalise_name(b)


def test_flags():
    assert all(is_truthy_flag(v) for v in ("1", "○", "◯", "TRUE", 1, 1.0, True, "１"))
    assert not any(is_truthy_flag(v) for v in ("", "0", None, 0, float("nan"), "×", False))
