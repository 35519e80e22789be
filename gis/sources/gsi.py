"""GSI 指定緊急避難場所 / 指定避難所 (``mergeFromCity_2.csv`` / ``_1`` layout, CSV or GeoJSON).

Recognised by the ``共通ID`` column. Column names are matched tolerating width and punctuation
variants; the eight hazard flags are all present (emergency sites) or all absent (shelters).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import NamedTuple

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


class _Mapping(NamedTuple):
    """Where the site fields are in a GSI table."""

    found: dict[str, str | None]  # site field -> column
    flags: dict[str, str]  # hazard kind -> flag column (all eight, or none for shelters)
    default_kind: str


class _Origin(NamedTuple):
    """Where a table came from, for the problems and the layer record."""

    file: str
    layer: str
    where: Callable[[int], str]
    fmt: str
    encoding: str | None
    crs_in: str | None


def _columns(columns: list[str], file: str, problems: list[Problem]) -> _Mapping:
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
    return _Mapping(found, present, "emergency_site" if present else "shelter")


def read_csv(path: Path, *, layer: str | None = None) -> tuple[LayerData | None, list[Problem]]:
    """Read a GSI CSV; the encoding (UTF-8 with or without BOM, or CP932) comes from the bytes."""
    file = str(path)
    try:
        df, encoding = read_csv_table(path)
    except Refused as refused:
        return None, refused.problems
    problems: list[Problem] = []
    columns = [str(c) for c in df.columns]
    mapping = _columns(columns, file, problems)
    lat_col = find_column(columns, "緯度", "lat", "latitude")
    lon_col = find_column(columns, "経度", "lon", "lng", "longitude")
    if lat_col is None or lon_col is None:
        problems.append(Problem(file, None, "missing column 緯度/経度 (latitude/longitude)"))
    if problems:
        return None, problems
    lats, lons = numbers(df[lat_col]), numbers(df[lon_col])
    origin = _Origin(file, layer or path.stem, row_where, "gsi_csv", encoding, STORAGE_CRS)
    return _layer(df, lats, lons, mapping, origin, problems), problems


def normalise(raw: RawLayer, layer: str) -> tuple[LayerData | None, list[Problem]]:
    """A GSI point layer (GeoJSON, Shapefile, GeoPackage) as a site layer."""
    problems: list[Problem] = []
    warnings: list[str] = []
    file = raw.label
    gdf, crs_in = set_storage_crs(raw.gdf, file, "EPSG:6668", problems, warnings)
    columns = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    mapping = _columns(columns, file, problems)
    if problems:
        return None, problems
    geoms = gdf.geometry.values
    types = shapely.get_type_id(geoms)
    for i in np.flatnonzero(types != 0):
        problems.append(Problem(file, feature_where(i), "site geometry is not a point"))
    xs = np.where(types == 0, shapely.get_x(geoms), np.nan)
    ys = np.where(types == 0, shapely.get_y(geoms), np.nan)
    origin = _Origin(file, layer, feature_where, raw.format, raw.encoding, crs_in)
    records = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    data = _layer(records, ys, xs, mapping, origin, problems)
    data.warnings.extend(warnings)
    return data, problems


def _layer(
    records: pd.DataFrame,
    lats: np.ndarray,
    lons: np.ndarray,
    mapping: _Mapping,
    origin: _Origin,
    problems: list[Problem],
) -> LayerData:
    """Check the points and build the site layer (problems are added to ``problems``)."""
    check_points(lats, lons, origin.file, origin.where, problems)
    gdf = site_frame(
        records,
        file=origin.file,
        layer=origin.layer,
        where=origin.where,
        lats=lats,
        lons=lons,
        columns=mapping.found,
        flag_columns=mapping.flags,
        default_kind=mapping.default_kind,
        problems=problems,
    )
    return LayerData(
        origin.layer,
        "sites",
        mapping.default_kind,
        gdf,
        origin.file,
        origin.fmt,
        encoding=origin.encoding,
        crs_in=origin.crs_in,
    )
