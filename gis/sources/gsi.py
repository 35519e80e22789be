"""GSI 指定緊急避難場所 / 指定避難所 (``mergeFromCity_2.csv`` / ``_1`` layout, CSV or GeoJSON).

Recognised by the ``共通ID`` column. Column names are matched tolerating width and punctuation
variants; the eight hazard flags are all present (emergency sites) or all absent (shelters).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from gis.errors import Problem
from gis.geo import STORAGE_CRS
from gis.io.files import RawLayer, Refused, read_csv_table
from gis.models import GSI_FLAG_COLUMNS
from gis.sources.base import LayerData, feature_where, find_column, numbers, row_where
from gis.sources.geometry import check_points, set_storage_crs
from gis.sources.sites import site_frame

__all__ = ["detect", "normalise", "read_csv"]


def detect(columns: Collection[str]) -> bool:
    """True for a GSI site table (it has ``共通ID``)."""
    return find_column(columns, "共通ID") is not None


def _columns(
    columns: list[str], file: str, problems: list[Problem]
) -> tuple[dict[str, str | None], dict[str, str], str]:
    """Map GSI column names and report missing ones; also the flag columns and default kind."""
    found = {
        "id": find_column(columns, "共通ID"),
        "name": find_column(columns, "施設・場所名", "施設名", "名称"),
        "address": find_column(columns, "住所", "所在地"),
        "municipality": find_column(columns, "都道府県名及び市町村名", "市町村名"),
        "remarks": find_column(columns, "備考"),
        "same_as_shelter": find_column(columns, "指定避難所との住所同一"),
        "same_as_emergency_site": find_column(columns, "指定緊急避難場所との住所同一"),
        "target": find_column(columns, "受入対象者"),
    }
    for key, label in (("id", "共通ID"), ("name", "施設・場所名"), ("address", "住所")):
        if found[key] is None:
            problems.append(Problem(file, None, f"missing column {label}"))
    flags = {k: find_column(columns, v) for k, v in GSI_FLAG_COLUMNS.items()}
    present = {k: v for k, v in flags.items() if v is not None}
    if present and len(present) < len(flags):
        missing = [GSI_FLAG_COLUMNS[k] for k, v in flags.items() if v is None]
        problems.append(Problem(file, None, f"missing hazard flag column(s) {', '.join(missing)}"))
    return found, present, ("emergency_site" if present else "shelter")


def read_csv(path: Path, *, layer: str | None = None) -> tuple[LayerData | None, list[Problem]]:
    """Read a GSI CSV; the encoding (UTF-8 with or without BOM, or CP932) comes from the bytes."""
    file = str(path)
    try:
        df, encoding = read_csv_table(path)
    except Refused as refused:
        return None, refused.problems
    problems: list[Problem] = []
    columns = [str(c) for c in df.columns]
    found, flags, default_kind = _columns(columns, file, problems)
    lat_col = find_column(columns, "緯度", "lat", "latitude")
    lon_col = find_column(columns, "経度", "lon", "lng", "longitude")
    if lat_col is None or lon_col is None:
        problems.append(Problem(file, None, "missing column 緯度/経度 (latitude/longitude)"))
    if problems:
        return None, problems
    lats, lons = numbers(df[lat_col]), numbers(df[lon_col])
    check_points(lats, lons, file, row_where, problems)
    name = layer or path.stem
    gdf = site_frame(
        df,
        file=file,
        layer=name,
        where=row_where,
        lats=lats,
        lons=lons,
        columns=found,
        flag_columns=flags,
        default_kind=default_kind,
        problems=problems,
    )
    data = LayerData(
        name, "sites", default_kind, gdf, file, "gsi_csv", encoding=encoding, crs_in=STORAGE_CRS
    )
    return data, problems


def normalise(raw: RawLayer, layer: str) -> tuple[LayerData | None, list[Problem]]:
    """A GSI point layer (GeoJSON, Shapefile, GeoPackage) as a site layer."""
    problems: list[Problem] = []
    warnings: list[str] = []
    file = raw.label
    gdf, crs_in = set_storage_crs(raw.gdf, file, "EPSG:6668", problems, warnings)
    columns = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    found, flags, default_kind = _columns(columns, file, problems)
    if problems:
        return None, problems
    geoms = gdf.geometry.values
    types = shapely.get_type_id(geoms)
    for i in np.flatnonzero(types != 0):
        problems.append(Problem(file, feature_where(i), "site geometry is not a point"))
    xs = np.where(types == 0, shapely.get_x(geoms), np.nan)
    ys = np.where(types == 0, shapely.get_y(geoms), np.nan)
    check_points(ys, xs, file, feature_where, problems)
    out = site_frame(
        pd.DataFrame(gdf.drop(columns=gdf.geometry.name)),
        file=file,
        layer=layer,
        where=feature_where,
        lats=ys,
        lons=xs,
        columns=found,
        flag_columns=flags,
        default_kind=default_kind,
        problems=problems,
    )
    data = LayerData(
        layer, "sites", default_kind, out, file, raw.format, encoding=raw.encoding, crs_in=crs_in
    )
    data.warnings.extend(warnings)
    return data, problems
