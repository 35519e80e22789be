"""Hazard GeoJSON derived from 3D都市モデル (Project PLATEAU) ``fld`` / ``tnm`` / ``htd`` / ``ifld``.

Two attribute layouts: ``uro:rank`` (+ ``uro:rank_codeSpace`` naming the hazard, ``uro:rank_label``
when decoded) and ``gen:…/浸水ランク`` (+ ``…_label``, ``…/規模`` L1/L2). The hazard kind comes
from the code-space or column name and the title (``gml:name``); the river from the title.
Without a decoded label (e.g. Numazu's tsunami ranks) only the rank is kept: no metres invented.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from gis.sources.base import FeatureProblem, int_or_none, text_value
from gis.sources.zones import dataset_source, depth_fields
from gis.text import parse_depth_band

__all__ = ["detect", "normalise"]

SOURCE = "3D都市モデル（Project PLATEAU）"
_SCALES = {"L2": "想定最大規模", "L1": "計画規模"}
# names are bounded (a river or a river system is a few characters): linear time on any title
_RIVER_RE = re.compile(
    r"(?:(?P<system>[^\s]{1,30}?)水系)?(?P<river>[^\s（(]{1,30}?[川江])(?:洪水|浸水|水系)"
)


def _rank_column(columns: Collection[str]) -> str | None:
    return next((c for c in columns if str(c).endswith("浸水ランク")), None)


def detect(columns: Collection[str]) -> bool:
    return "uro:rank" in columns or _rank_column(columns) is not None


def kind_from_words(text: str) -> str | None:
    """The hazard kind named in a code-space, column name or title.

    Examples
    --------
    >>> kind_from_words("狩野川水系狩野川洪水浸水想定区域図"), kind_from_words("津波浸水想定")
    ('flood', 'tsunami')
    """
    if "津波" in text or "tsunami" in text.lower():
        return "tsunami"
    if "高潮" in text or "hightide" in text.lower():
        return "storm_surge"
    if "内水" in text or "inland" in text.lower():
        return "inland_flood"
    if "洪水" in text or "河川" in text or "riverflood" in text.lower():
        return "flood"
    return None


def river_from_title(title: str) -> str | None:
    """The river named in a flood map's title (``…水系狩野川洪水…`` → ``狩野川``)."""
    m = _RIVER_RE.search(title)
    return m.group("river") if m else None


def _band(label_text: Any) -> tuple[float | None, float | None]:
    return parse_depth_band(label_text) if text_value(label_text) else (None, None)


def normalise(rec: dict[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """One PLATEAU-derived feature as a zone row."""
    title = text_value(rec.get("gml:name"))
    rank_col = None if "uro:rank" in columns else _rank_column(columns)
    if rank_col is None:
        kind = kind_from_words(text_value(rec.get("uro:rank_codeSpace")) + title)
        if kind is None:
            raise FeatureProblem("cannot tell the hazard kind (uro:rank_codeSpace)")
        rank = int_or_none(rec.get("uro:rank"))
        lo, hi = _band(rec.get("uro:rank_label"))
        scenario = title or None
    else:
        kind = kind_from_words(str(rank_col) + title)
        if kind is None:
            raise FeatureProblem(f"cannot tell the hazard kind from {rank_col}")
        rank = int_or_none(rec.get(rank_col))
        lo, hi = _band(rec.get(f"{rank_col}_label"))
        scale_col = next((c for c in columns if str(c).endswith("/規模")), None)
        scale = text_value(rec.get(scale_col)) if scale_col else ""
        scenario = title or _SCALES.get(scale) or None
    return {
        "kind": kind,
        **depth_fields(lo, hi, rank),
        "scenario": scenario,
        "river": river_from_title(title) if kind == "flood" else None,
        "source": dataset_source(rec, SOURCE),
    }
