"""国土数値情報 A31 / A31a 洪水浸水想定区域 (flood inundation zones).

A31a (2020 onwards): ``A31a_x05`` depth rank and ``A31a_x02`` river per scenario (``2xx``
想定最大規模 preferred, else ``1xx`` 計画規模). A31 (earlier releases): ``A31_201`` / ``A31_101``
depth rank; the 2012 release's ``A31_001`` has its own rank scheme, so no metres are given for it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from gis.codelists import WATER_DEPTH_RANKS
from gis.sources.base import FeatureProblem, int_or_none, text_value
from gis.sources.zones import dataset_source, depth_fields

__all__ = ["detect", "normalise"]

SOURCE = "国土数値情報 洪水浸水想定区域 (A31)"

# (depth rank column, river column, scenario), most wanted first
_A31A = [("A31a_205", "A31a_202", "想定最大規模"), ("A31a_105", "A31a_102", "計画規模")]
_A31 = [("A31_201", None, "想定最大規模"), ("A31_101", None, "計画規模"), ("A31_001", None, None)]


def _is_a31a(columns: Collection[str]) -> bool:
    return any(c.startswith("A31a_") for c in columns)


def detect(columns: Collection[str]) -> bool:
    return _is_a31a(columns) or bool(set(columns) & {"A31_101", "A31_201", "A31_001"})


def normalise(rec: dict[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """One A31/A31a feature as a ``flood`` zone row (depth rank decoded to metres).

    Examples
    --------
    >>> row = normalise({"A31a_205": 2, "A31a_202": "仁淀川"}, ["A31a_205", "A31a_202"])
    >>> row["label"], row["river"], row["scenario"]
    ('0.5〜3.0m', '仁淀川', '想定最大規模')
    """
    candidates = _A31A if _is_a31a(columns) else _A31
    chosen = next(
        ((d, r, s) for d, r, s in candidates if int_or_none(rec.get(d)) is not None), None
    )
    if chosen is None:
        raise FeatureProblem("no flood depth rank (A31/A31a ..._05/_101/_201)")
    depth_col, river_col, scenario = chosen
    rank = int_or_none(rec.get(depth_col))
    lo: float | None
    hi: float | None
    if depth_col == "A31_001":  # 2012 release: its own rank scheme, no metres invented
        lo, hi = None, None
    elif rank in WATER_DEPTH_RANKS:
        lo, hi = WATER_DEPTH_RANKS[rank]
    else:
        raise FeatureProblem(f"{depth_col} depth rank {rank} unknown")
    return {
        "kind": "flood",
        **depth_fields(lo, hi, rank),
        "river": (text_value(rec.get(river_col)) or None) if river_col else None,
        "scenario": scenario,
        "source": dataset_source(rec, SOURCE),
    }
