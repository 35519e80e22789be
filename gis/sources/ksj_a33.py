"""国土数値情報 A33 土砂災害警戒区域 (sediment-disaster warning areas), also PLATEAU ``lsld`` files
that keep the A33 attributes.

``A33_001`` phenomenon code, ``A33_002`` zone code (decoded with :mod:`gis.codelists`),
``A33_004`` zone number, ``A33_005`` zone name.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from gis.codelists import A33_PHENOMENON, A33_PHENOMENON_JA, A33_ZONE
from gis.sources.base import FeatureProblem, int_or_none, text_value
from gis.sources.zones import dataset_source

__all__ = ["detect", "normalise"]

SOURCE = "国土数値情報 土砂災害警戒区域 (A33)"


def detect(columns: Collection[str]) -> bool:
    return "A33_001" in columns


def normalise(rec: dict[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """One A33 feature as a ``landslide`` zone row.

    ``level`` is 1 for a warning area (イエローゾーン) and 2 for a special warning area (レッドゾーン);
    areas still being designated (区域コード 3 / 4) count as designated: the cautious side.

    Examples
    --------
    >>> normalise({"A33_001": 1, "A33_002": 2, "A33_005": "足高C"}, [])["label"]
    '急傾斜地の崩壊・土砂災害特別警戒区域'
    """
    ph = int_or_none(rec.get("A33_001"))
    zc = int_or_none(rec.get("A33_002"))
    if ph not in A33_PHENOMENON:
        raise FeatureProblem(f"A33_001 phenomenon code {rec.get('A33_001')!r} unknown")
    if zc not in A33_ZONE:
        raise FeatureProblem(f"A33_002 zone code {rec.get('A33_002')!r} unknown")
    zone_class, level, zone_ja = A33_ZONE[zc]
    return {
        "kind": "landslide",
        "phenomenon": A33_PHENOMENON[ph],
        "zone_class": zone_class,
        "level": level,
        "label": f"{A33_PHENOMENON_JA[ph]}・{zone_ja}",
        "name": text_value(rec.get("A33_005")) or None,
        "zone_id": text_value(rec.get("A33_004")) or None,
        "source": dataset_source(rec, SOURCE),
    }
