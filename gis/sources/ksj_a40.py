"""国土数値情報 A40 津波浸水想定 (tsunami inundation): ``A40_003`` is a free-text depth band."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from gis.codelists import rank_for_depth
from gis.sources.base import FeatureProblem, text_value
from gis.sources.zones import dataset_source
from gis.text import depth_label, parse_depth_band

__all__ = ["detect", "normalise"]

SOURCE = "国土数値情報 津波浸水想定 (A40)"


def detect(columns: Collection[str]) -> bool:
    return "A40_003" in columns


def normalise(rec: dict[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """One A40 feature as a ``tsunami`` zone row.

    The band text (full-width digits, 〜 ～ - から, 以上/未満/以下/超, cm) becomes metres; the level
    is the standard depth rank of its lower bound (:func:`gis.codelists.rank_for_depth`).

    Examples
    --------
    >>> row = normalise({"A40_003": "１ｍ以上〜２ｍ未満"}, ["A40_003"])
    >>> row["depth_min_m"], row["depth_max_m"], row["level"]
    (1.0, 2.0, 2)
    """
    text = text_value(rec.get("A40_003"))
    lo, hi = parse_depth_band(text)
    if lo is None and hi is None:
        raise FeatureProblem(f"A40_003 depth band {text!r} not understood")
    return {
        "kind": "tsunami",
        "depth_min_m": lo,
        "depth_max_m": hi,
        "label": depth_label(lo, hi),
        "level": rank_for_depth(lo),
        "source": dataset_source(rec, SOURCE),
    }
