"""Site rows (evacuation sites and shelters) in the columns of :data:`SITE_COLUMNS`.

Used by :mod:`gis.sources.gsi` (GSI's own layout) and :mod:`gis.sources.manifest` (a
municipality's file with a column map): both name their source columns and call
:func:`site_frame`.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.errors import Problem
from gis.geo import STORAGE_CRS
from gis.models import HAZARD_KINDS
from gis.sources.base import text_value
from gis.text import is_truthy_flag, nfkc

__all__ = ["site_frame", "site_kind_from_id", "SITE_FIELDS"]

#: The site fields a source can map to one of its columns (lat/lon are passed as arrays).
SITE_FIELDS = (
    "id",
    "name",
    "address",
    "municipality",
    "remarks",
    "target",
    "same_as_shelter",
    "same_as_emergency_site",
)


def site_kind_from_id(site_id: str, default: str) -> str:
    """The kind coded in a GSI 共通ID, else ``default``.

    共通ID = "E" + 5-digit municipality code + 5-digit serial + 2-digit type + 1 digit.

    Examples
    --------
    >>> site_kind_from_id("E0110000259202", "shelter")
    'emergency_site'
    """
    if len(site_id) == 14 and site_id[0] == "E":
        return {"20": "emergency_site", "11": "shelter", "12": "welfare_shelter"}.get(
            site_id[11:13], default
        )
    return default


def site_frame(
    records: pd.DataFrame,
    *,
    file: str,
    layer: str,
    where: Callable[[int], str],
    lats: np.ndarray,
    lons: np.ndarray,
    columns: dict[str, str | None],
    flag_columns: dict[str, str],
    default_kind: str,
    problems: list[Problem],
    truthy: set[str] | None = None,
    municipality_name: str | None = None,
) -> gpd.GeoDataFrame:
    """Build the SITE_COLUMNS frame (EPSG:6668 points), adding a problem for every empty id or
    name and every duplicate id.

    Parameters
    ----------
    records : pandas.DataFrame
        The source's attributes, one row per site.
    columns : dict
        Maps each of :data:`SITE_FIELDS` to a source column (None or absent: empty / False).
    flag_columns : dict
        Maps hazard kinds to the source column of their "designated" flag.
    truthy : set of str, optional
        Flag values meaning "designated" (default: :func:`gis.text.is_truthy_flag`).
    municipality_name : str, optional
        A constant municipality instead of a column.
    """
    n = len(records)

    def col(key: str) -> list[str]:
        src = columns.get(key)
        return [""] * n if src is None else [text_value(v) for v in records[src].tolist()]

    def flags(src: str | None) -> list[bool]:
        if not src:
            return [False] * n
        if truthy is not None:
            return [nfkc(text_value(v)).lower() in truthy for v in records[src]]
        return [is_truthy_flag(v) for v in records[src]]

    ids = col("id")
    names = col("name")
    for i in range(n):
        if not ids[i]:
            problems.append(Problem(file, where(i), "empty site id (共通ID)"))
        if not names[i]:
            problems.append(Problem(file, where(i), "empty site name (施設・場所名)"))
    out = pd.DataFrame(
        {
            "id": ids,
            "name": names,
            "address": col("address"),
            "municipality": col("municipality")
            if municipality_name is None
            else [municipality_name] * n,
            "kind": [site_kind_from_id(i, default_kind) for i in ids],
            "same_as_shelter": flags(columns.get("same_as_shelter")),
            "same_as_emergency_site": flags(columns.get("same_as_emergency_site")),
            "remarks": col("remarks"),
            "target": col("target"),
        }
    )
    for kind in HAZARD_KINDS:
        out[f"hz_{kind}"] = flags(flag_columns.get(kind))
    out["lat"] = lats.astype("float64")
    out["lon"] = lons.astype("float64")
    out["layer"] = layer
    _check_unique_ids(ids, file, where, problems)
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(lons, lats), crs=STORAGE_CRS)


def _check_unique_ids(
    ids: list[str], file: str, where: Callable[[int], str], problems: list[Problem]
) -> None:
    seen: dict[str, int] = {}
    for i, site_id in enumerate(ids):
        if site_id and site_id in seen:
            problems.append(
                Problem(
                    file, where(i), f"duplicate site id {site_id} (also at {where(seen[site_id])})"
                )
            )
        seen.setdefault(site_id, i)
