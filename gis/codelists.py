"""Published code lists of the national land numerical information (国土数値情報) hazard layers.

These are the standard code lists (``ksj_codelists/`` in the shared data), not data: they decode
the coded attributes of A31 / A31a (flood depth rank), A33 (sediment disaster warning areas).
"""

from __future__ import annotations

__all__ = [
    "WATER_DEPTH_RANKS",
    "A33_PHENOMENON",
    "A33_PHENOMENON_JA",
    "A33_ZONE",
    "rank_for_depth",
]

#: 浸水深ランクコード (A31 / A31a x05, also PLATEAU river flooding rank): code -> (min, max) m.
WATER_DEPTH_RANKS: dict[int, tuple[float, float | None]] = {
    1: (0.0, 0.5),
    2: (0.5, 3.0),
    3: (3.0, 5.0),
    4: (5.0, 10.0),
    5: (10.0, 20.0),
    6: (20.0, None),
}

#: 現象種別コード (A33_001).
A33_PHENOMENON: dict[int, str] = {1: "steep_slope", 2: "debris_flow", 3: "landslide"}
A33_PHENOMENON_JA: dict[int, str] = {1: "急傾斜地の崩壊", 2: "土石流", 3: "地滑り"}

#: 区域コード (A33_002): code -> (zone_class, level, Japanese label).
A33_ZONE: dict[int, tuple[str, int, str]] = {
    1: ("warning", 1, "土砂災害警戒区域"),
    2: ("special_warning", 2, "土砂災害特別警戒区域"),
    3: ("warning", 1, "土砂災害警戒区域（指定前）"),
    4: ("special_warning", 2, "土砂災害特別警戒区域（指定前）"),
}


def rank_for_depth(depth_min_m: float | None) -> int | None:
    """The standard depth rank (1..6) whose band holds ``depth_min_m``; None when unknown."""
    if depth_min_m is None:
        return None
    rank = 1
    for code, (lo, _hi) in sorted(WATER_DEPTH_RANKS.items()):
        if depth_min_m >= lo:
            rank = code
    return rank
