"""Zone layers: the steps every hazard-zone source shares.

A zone source module (:mod:`~gis.sources.ksj_a31`, :mod:`~gis.sources.ksj_a33`,
:mod:`~gis.sources.ksj_a40`, :mod:`~gis.sources.plateau`) only turns one feature's attributes into
one row of :data:`~gis.sources.base.ZONE_COLUMNS`; :func:`zone_layer` does the rest: CRS to
EPSG:6668, polygon checks and repair, a problem per feature the module refuses, the layer's
hazard kind and the data's own date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd

from gis.errors import Problem
from gis.geo import STORAGE_CRS
from gis.io.files import RawLayer
from gis.sources.base import ZONE_COLUMNS, FeatureProblem, LayerData, feature_where, text_value
from gis.sources.geometry import repair_polygons, set_storage_crs
from gis.text import depth_label

__all__ = ["ZoneNormaliser", "zone_layer", "depth_fields", "dataset_source"]

#: ``normalise(record, columns) -> row``: one feature's attributes to a zone row (a dict of some
#: ZONE_COLUMNS); raises :class:`~gis.sources.base.FeatureProblem` for a feature it cannot read.
ZoneNormaliser = Callable[[dict[str, Any], Sequence[str]], dict[str, Any]]


def depth_fields(lo: float | None, hi: float | None, rank: int | None) -> dict[str, Any]:
    """``depth_min_m``, ``depth_max_m``, ``label`` (metres, else ``ランク N``) and ``level``."""
    label = depth_label(lo, hi)
    if label is None and rank is not None:
        label = f"ランク {rank}"
    return {"depth_min_m": lo, "depth_max_m": hi, "label": label, "level": rank}


def dataset_source(rec: dict[str, Any], default: str) -> str:
    """The feature's ``dataset`` attribute (PLATEAU-derived files carry one), else ``default``."""
    return text_value(rec.get("dataset")) or default


def zone_layer(
    raw: RawLayer, layer: str, normalise: ZoneNormaliser, assume_crs: str | None
) -> tuple[LayerData | None, list[Problem]]:
    """Normalise one opened zone layer with a source module's ``normalise``.

    Parameters
    ----------
    raw : RawLayer
        The layer as opened.
    layer : str
        The name it gets in the cache.
    normalise : ZoneNormaliser
        The source module's per-feature function.
    assume_crs : str or None
        CRS of a file that has none (GeoJSON is always lon/lat on JGD2011/WGS84); None refuses it.
    """
    problems: list[Problem] = []
    warnings: list[str] = []
    file = raw.label
    if raw.format == "geojson":
        assume_crs = "EPSG:6668"
    gdf, crs_in = set_storage_crs(raw.gdf, file, assume_crs, problems, warnings)
    if problems:
        return None, problems
    gdf, repaired = repair_polygons(gdf, file, problems, warnings)
    props = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    columns = [str(c) for c in props.columns]
    rows: dict[str, list[Any]] = {c: [None] * len(props) for c in ZONE_COLUMNS}
    kind: str | None = None
    for i, rec in enumerate(props.to_dict("records")):
        try:
            row = normalise(rec, columns)
        except FeatureProblem as exc:
            problems.append(Problem(file, feature_where(i), str(exc)))
            continue
        for key, value in row.items():
            rows[key][i] = value
        rows["layer"][i] = layer
        kind = kind or row.get("kind")
    out = gpd.GeoDataFrame(rows, geometry=gdf.geometry.values, crs=STORAGE_CRS)
    out["level"] = pd.array(out["level"], dtype="Int64")
    for c in ("depth_min_m", "depth_max_m"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    data = LayerData(
        layer,
        "zones",
        kind or "unknown",
        out,
        file,
        raw.format,
        encoding=raw.encoding,
        crs_in=crs_in,
    )
    data.warnings.extend(warnings)
    data.repaired = repaired
    data.data_date = zone_data_date(gdf)
    if data.data_date:
        data.data_date_basis = "data attribute"
    return data, problems


def zone_data_date(gdf: gpd.GeoDataFrame) -> str | None:
    """The data's own date: PLATEAU creationDate, the dataset's fiscal year, or the latest
    A33 告示日 / A31 date."""
    if "core:creationDate" in gdf.columns:
        dates = pd.to_datetime(gdf["core:creationDate"], errors="coerce").dropna()
        if len(dates):
            return str(dates.max().date())
    if "dataset" in gdf.columns:
        for v in gdf["dataset"]:
            m = re.search(r"(\d{4})年度", text_value(v))
            if m:
                return f"{m.group(1)}年度"
    for col in ("A33_007", "A31_102", "A31_202"):
        if col in gdf.columns:
            dates = pd.to_datetime(gdf[col].map(text_value), errors="coerce").dropna()
            if len(dates):
                return str(dates.max().date())
    return None
