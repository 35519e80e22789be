"""What every source module shares: the normalised columns, the layer record, value helpers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.models import HAZARD_KINDS
from gis.text import nfkc, normalise_key

__all__ = [
    "SITE_COLUMNS",
    "ZONE_COLUMNS",
    "LayerData",
    "FeatureProblem",
    "text_value",
    "int_or_none",
    "numbers",
    "find_column",
    "feature_where",
    "row_where",
]

#: Columns of every site layer in the cache (``hz_<kind>``: designated for that hazard).
SITE_COLUMNS = [
    "id",
    "name",
    "address",
    "municipality",
    "kind",
    "same_as_shelter",
    "same_as_emergency_site",
    "remarks",
    "target",
    *[f"hz_{k}" for k in HAZARD_KINDS],
    "lat",
    "lon",
    "layer",
]
#: Columns of every zone layer in the cache (the zone keys of ``bosai gis hazard --json``).
ZONE_COLUMNS = [
    "kind",
    "level",
    "label",
    "name",
    "zone_id",
    "depth_min_m",
    "depth_max_m",
    "phenomenon",
    "zone_class",
    "river",
    "scenario",
    "source",
    "layer",
]


@dataclass
class LayerData:
    """One normalised layer ready for the cache.

    ``gdf`` has the columns of :data:`SITE_COLUMNS` (``family == "sites"``) or
    :data:`ZONE_COLUMNS` (``"zones"``) in EPSG:6668.
    """

    layer: str
    family: str  # "sites" | "zones"
    kind: str  # site layers: emergency_site | shelter | mixed; zone layers: a hazard kind
    gdf: gpd.GeoDataFrame
    source: str
    format: str
    encoding: str | None = None
    crs_in: str | None = None
    data_date: str | None = None
    data_date_basis: str | None = None
    attribution: str | None = None
    warnings: list[str] = field(default_factory=list)
    repaired: int = 0


class FeatureProblem(ValueError):
    """One feature cannot be normalised; the message says why (the caller adds file and place)."""


def text_value(value: Any) -> str:
    """Value as a stripped string, original characters kept (``""`` for None/NaN).

    Examples
    --------
    >>> text_value(3.0), text_value(float("nan")), text_value(" 中央小 ")
    ('3', '', '中央小')
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if value != value:
            return ""
        if value.is_integer():
            return str(int(value))
    return str(value).strip()


def int_or_none(value: Any) -> int | None:
    """An integer code from text or number (full-width digits too), or None."""
    s = nfkc(text_value(value))
    if not s:
        return None
    try:
        return int(float(s))
    except ValueError:
        return None


def numbers(column: pd.Series) -> np.ndarray:
    """A text column as floats (full-width digits read; anything else NaN)."""
    return pd.to_numeric(column.map(nfkc), errors="coerce").to_numpy(dtype="float64")


def find_column(columns: Iterable[str], *aliases: str) -> str | None:
    """The first column matching one of ``aliases``, tolerating width and punctuation variants."""
    keyed = {normalise_key(c): c for c in columns}
    for alias in aliases:
        hit = keyed.get(normalise_key(alias))
        if hit is not None:
            return hit
    return None


def feature_where(i: int) -> str:
    """Where a feature is, for problems: ``feature 3`` (0-based)."""
    return f"feature {i}"


def row_where(i: int) -> str:
    """Where a CSV record is, for problems: its line number (header = line 1)."""
    return f"row {i + 2}"
