"""Readers: open data files -> normalised GeoDataFrames (EPSG:6668) with per-layer metadata.

Every reader validates as it goes and collects :class:`~gis.errors.Problem` records instead of
stopping at the first one; the importer refuses the whole import when any problem remains.

Sites (GSI 指定緊急避難場所 / 指定避難所, CSV or GeoJSON, or a municipality's own file with a
YAML column map) are normalised to the columns of :data:`SITE_COLUMNS`; hazard zones (KSJ A31 /
A31a / A33 / A40, PLATEAU-derived GeoJSON, or a mapped file) to :data:`ZONE_COLUMNS`.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import yaml

from gis.codelists import (
    A33_PHENOMENON,
    A33_PHENOMENON_JA,
    A33_ZONE,
    WATER_DEPTH_RANKS,
    rank_for_depth,
)
from gis.errors import Problem
from gis.geo import JAPAN_BOUNDS, STORAGE_CRS, in_japan, looks_swapped
from gis.models import GSI_FLAG_COLUMNS, HAZARD_KINDS, ZONE_KINDS
from gis.text import depth_label, is_truthy_flag, nfkc, normalise_key, parse_depth_band

__all__ = [
    "SITE_COLUMNS",
    "ZONE_COLUMNS",
    "LayerData",
    "SUPPORTED_SUFFIXES",
    "detect_text_encoding",
    "read_source",
    "read_gsi_csv",
    "read_vector_layers",
]

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

SUPPORTED_SUFFIXES = (".csv", ".geojson", ".json", ".shp", ".zip", ".gpkg", ".yaml", ".yml")
_ACCEPTED_CRS_NOTE = "JGD2011 (EPSG:6668), JGD2000 (EPSG:4612), WGS84 or any CRS pyproj knows"


@dataclass
class LayerData:
    """One normalised layer ready for the cache."""

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


# --------------------------------------------------------------------------- encodings


def detect_text_encoding(data: bytes, file: str) -> tuple[str, list[Problem]]:
    """Detect UTF-8 (with or without BOM) or CP932 (Shift_JIS) for Japanese text bytes.

    Returns
    -------
    (encoding, problems) : tuple
        ``"utf-8-sig"``, ``"utf-8"`` or ``"cp932"``; problems is non-empty when neither decodes.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            data.decode("utf-8-sig")
            return "utf-8-sig", []
        except UnicodeDecodeError as exc:
            return "utf-8-sig", [Problem(file, _byte_where(data, exc.start), "bad UTF-8 after BOM")]
    try:
        data.decode("utf-8")
        return "utf-8", []
    except UnicodeDecodeError as utf_exc:
        try:
            text = data.decode("cp932")
            # Python's cp932 maps the unused bytes 0xFD-0xFF and the user-defined area to the
            # private use area: no open data uses them, so they mean "not really CP932"
            pua = _PUA_RE.search(text)
            if pua is None:
                return "cp932", []
            offset = len(text[: pua.start()].encode("cp932"))
            return "unknown", [
                Problem(
                    file,
                    _byte_where(data, offset),
                    "unknown text encoding: neither UTF-8 nor CP932 (Shift_JIS)",
                )
            ]
        except UnicodeDecodeError:
            return "unknown", [
                Problem(
                    file,
                    _byte_where(data, utf_exc.start),
                    "unknown text encoding: neither UTF-8 nor CP932 (Shift_JIS)",
                )
            ]


_PUA_RE = re.compile("[\ue000-\uf8ff]")


def _byte_where(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return f"row {line} (byte {offset})"


def _dbf_encoding(dbf: bytes, file: str) -> tuple[str, list[Problem]]:
    header_len = int.from_bytes(dbf[8:10], "little") if len(dbf) >= 10 else 0
    records = dbf[header_len:]
    enc, problems = detect_text_encoding(records, file)
    if problems:
        problems = [Problem(file, None, "unknown attribute encoding: neither UTF-8 nor CP932")]
    return ("utf-8" if enc == "utf-8-sig" else enc), problems


# --------------------------------------------------------------------------- helpers


def _s(value: Any) -> str:
    """Value as a stripped string, original characters kept ("" for None/NaN)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if value != value:
            return ""
        if value.is_integer():
            return str(int(value))
    return str(value).strip()


def _int_or_none(value: Any) -> int | None:
    s = nfkc(_s(value))
    if not s:
        return None
    try:
        return int(float(s))
    except ValueError:
        return None


def _find_column(columns: Iterable[str], *aliases: str) -> str | None:
    keyed = {normalise_key(c): c for c in columns}
    for alias in aliases:
        hit = keyed.get(normalise_key(alias))
        if hit is not None:
            return hit
    return None


def _site_kind_from_id(site_id: str, default: str) -> str:
    # 共通ID = "E" + 5-digit municipality code + 5-digit serial + 2-digit type + 1 digit
    if len(site_id) == 14 and site_id[0] == "E":
        return {"20": "emergency_site", "11": "shelter", "12": "welfare_shelter"}.get(
            site_id[11:13], default
        )
    return default


def _set_storage_crs(
    gdf: gpd.GeoDataFrame,
    file: str,
    assume: str | None,
    problems: list[Problem],
    warnings: list[str],
) -> tuple[gpd.GeoDataFrame, str | None]:
    crs_in = gdf.crs.to_string() if gdf.crs is not None else None
    if gdf.crs is None:
        if assume is None:
            problems.append(
                Problem(file, None, f"no CRS (missing .prj?); expected {_ACCEPTED_CRS_NOTE}")
            )
            return gdf, None
        warnings.append(f"{file}: no CRS in the file; assumed {assume}")
        gdf = gdf.set_crs(assume)
        crs_in = assume
    epsg = gdf.crs.to_epsg()
    if epsg != 6668:
        gdf = gdf.to_crs(STORAGE_CRS)
    else:
        gdf = gdf.set_crs(STORAGE_CRS, allow_override=True)
    return gdf, crs_in


def _check_points(
    lats: np.ndarray,
    lons: np.ndarray,
    file: str,
    where: Callable[[int], str],
    problems: list[Problem],
) -> None:
    for i, (lat, lon) in enumerate(zip(lats, lons, strict=True)):
        if not (np.isfinite(lat) and np.isfinite(lon)):
            problems.append(Problem(file, where(i), "missing or non-numeric coordinates"))
        elif looks_swapped(lat, lon):
            problems.append(
                Problem(
                    file,
                    where(i),
                    f"latitude/longitude look swapped (lat={lat}, lon={lon}); "
                    "latitude must be 20..46 and longitude 122..154.5",
                )
            )
        elif not in_japan(lat, lon):
            problems.append(
                Problem(file, where(i), f"coordinates outside Japan (lat={lat}, lon={lon})")
            )


def _repair_polygons(
    gdf: gpd.GeoDataFrame, file: str, problems: list[Problem], warnings: list[str]
) -> tuple[gpd.GeoDataFrame, int]:
    """Check polygon geometries: non-empty, inside Japan, valid (repaired with make_valid)."""
    geoms = gdf.geometry.values
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(missing):
        problems.append(Problem(file, f"feature {i}", "empty or missing geometry"))
    types = shapely.get_type_id(geoms)
    bad_type = ~np.isin(types, (3, 6, 7)) & ~missing  # Polygon, MultiPolygon, GeometryCollection
    for i in np.flatnonzero(bad_type):
        problems.append(
            Problem(file, f"feature {i}", f"not a polygon ({shapely.get_type_id(geoms[i])})")
        )
    bounds = shapely.bounds(geoms)
    min_lon, min_lat, max_lon, max_lat = JAPAN_BOUNDS
    ok = ~missing
    outside = ok & (
        (bounds[:, 0] < min_lon)
        | (bounds[:, 2] > max_lon)
        | (bounds[:, 1] < min_lat)
        | (bounds[:, 3] > max_lat)
    )
    for i in np.flatnonzero(outside):
        x, y = (bounds[i, 0] + bounds[i, 2]) / 2, (bounds[i, 1] + bounds[i, 3]) / 2
        if looks_swapped(y, x):
            msg = f"coordinates look swapped (x={x:.5f}, y={y:.5f}): x must be longitude"
        else:
            msg = f"geometry outside Japan (centre lon={x:.5f}, lat={y:.5f})"
        problems.append(Problem(file, f"feature {i}", msg))
    valid = shapely.is_valid(geoms) & (shapely.area(geoms) > 0)
    invalid = np.flatnonzero(~valid & ok & ~bad_type)
    repaired = 0
    if len(invalid):
        new = geoms.copy()
        for i in invalid:
            fixed = shapely.make_valid(geoms[i])
            polys = [
                g
                for g in shapely.get_parts(fixed)
                if shapely.get_type_id(g) in (3, 6) and not g.is_empty
            ]
            if not polys:
                reason = shapely.is_valid_reason(geoms[i])
                problems.append(
                    Problem(file, f"feature {i}", f"invalid geometry, not repairable ({reason})")
                )
                continue
            merged = shapely.union_all(polys)
            new[i] = merged
            repaired += 1
        gdf = gdf.set_geometry(gpd.GeoSeries(new, index=gdf.index, crs=gdf.crs))
        warnings.append(
            f"{file}: repaired {repaired} invalid geometr{'y' if repaired == 1 else 'ies'}"
        )
    return gdf, repaired


def _points_gdf(df: pd.DataFrame, lats: np.ndarray, lons: np.ndarray) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lons, lats), crs=STORAGE_CRS)


# --------------------------------------------------------------------------- sites


def _normalise_sites(
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
    """Build the SITE_COLUMNS frame; ``columns`` maps id/name/address/municipality/remarks/... to
    source columns (None = absent)."""
    n = len(records)

    def col(key: str) -> list[str]:
        src = columns.get(key)
        if src is None:
            return [""] * n
        return [_s(v) for v in records[src].tolist()]

    def flag(value: Any) -> bool:
        if truthy is not None:
            return nfkc(_s(value)).lower() in truthy
        return is_truthy_flag(value)

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
            "kind": [_site_kind_from_id(i, default_kind) for i in ids],
            "same_as_shelter": [flag(v) for v in records[columns["same_as_shelter"]]]
            if columns.get("same_as_shelter")
            else [False] * n,
            "same_as_emergency_site": [flag(v) for v in records[columns["same_as_emergency_site"]]]
            if columns.get("same_as_emergency_site")
            else [False] * n,
            "remarks": col("remarks"),
            "target": col("target"),
        }
    )
    for kind in HAZARD_KINDS:
        src = flag_columns.get(kind)
        out[f"hz_{kind}"] = [flag(v) for v in records[src]] if src else [False] * n
    out["lat"] = lats.astype("float64")
    out["lon"] = lons.astype("float64")
    out["layer"] = layer
    seen: dict[str, int] = {}
    for i, site_id in enumerate(ids):
        if site_id and site_id in seen:
            problems.append(
                Problem(
                    file, where(i), f"duplicate site id {site_id} (also at {where(seen[site_id])})"
                )
            )
        seen.setdefault(site_id, i)
    return _points_gdf(out, lats, lons)


def _gsi_columns(columns: list[str], file: str, problems: list[Problem], where: str | None = None):
    """Map GSI column names (tolerating width/punctuation variants) and report missing ones."""
    found = {
        "id": _find_column(columns, "共通ID"),
        "name": _find_column(columns, "施設・場所名", "施設名", "名称"),
        "address": _find_column(columns, "住所", "所在地"),
        "municipality": _find_column(columns, "都道府県名及び市町村名", "市町村名"),
        "remarks": _find_column(columns, "備考"),
        "same_as_shelter": _find_column(columns, "指定避難所との住所同一"),
        "same_as_emergency_site": _find_column(columns, "指定緊急避難場所との住所同一"),
        "target": _find_column(columns, "受入対象者"),
    }
    for key, label in (("id", "共通ID"), ("name", "施設・場所名"), ("address", "住所")):
        if found[key] is None:
            problems.append(Problem(file, where, f"missing column {label}"))
    flags = {k: _find_column(columns, v) for k, v in GSI_FLAG_COLUMNS.items()}
    present = {k: v for k, v in flags.items() if v is not None}
    if present and len(present) < len(flags):
        missing = [GSI_FLAG_COLUMNS[k] for k, v in flags.items() if v is None]
        problems.append(Problem(file, where, f"missing hazard flag column(s) {', '.join(missing)}"))
    default_kind = "emergency_site" if present else "shelter"
    return found, present, default_kind


def read_gsi_csv(path: Path, *, layer: str | None = None) -> tuple[LayerData | None, list[Problem]]:
    """Read a GSI CSV (``mergeFromCity_2.csv`` emergency sites / ``_1`` shelters layout).

    The encoding (UTF-8 with or without BOM, or CP932) is detected from the bytes.
    """
    file = str(path)
    problems: list[Problem] = []
    data = path.read_bytes()
    encoding, enc_problems = detect_text_encoding(data, file)
    if enc_problems:
        return None, enc_problems
    text = data.decode(encoding)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        return None, [Problem(file, None, f"not a readable CSV ({exc})")]
    columns = [str(c) for c in df.columns]
    found, flags, default_kind = _gsi_columns(columns, file, problems)
    lat_col = _find_column(columns, "緯度", "lat", "latitude")
    lon_col = _find_column(columns, "経度", "lon", "lng", "longitude")
    if lat_col is None or lon_col is None:
        problems.append(Problem(file, None, "missing column 緯度/経度 (latitude/longitude)"))
    if problems:
        return None, problems
    lats = pd.to_numeric(df[lat_col].map(nfkc), errors="coerce").to_numpy(dtype="float64")
    lons = pd.to_numeric(df[lon_col].map(nfkc), errors="coerce").to_numpy(dtype="float64")

    def where(i: int) -> str:
        return f"row {i + 2}"

    _check_points(lats, lons, file, where, problems)
    name = layer or path.stem
    gdf = _normalise_sites(
        df,
        file=file,
        layer=name,
        where=where,
        lats=lats,
        lons=lons,
        columns=found,
        flag_columns=flags,
        default_kind=default_kind,
        problems=problems,
    )
    kind = "emergency_site" if default_kind == "emergency_site" else "shelter"
    return LayerData(
        name, "sites", kind, gdf, file, "gsi_csv", encoding=encoding, crs_in=STORAGE_CRS
    ), problems


def _sites_from_vector(
    gdf: gpd.GeoDataFrame, file: str, layer: str, fmt: str, encoding: str | None
) -> tuple[LayerData | None, list[Problem]]:
    problems: list[Problem] = []
    warnings: list[str] = []
    gdf, crs_in = _set_storage_crs(gdf, file, "EPSG:6668", problems, warnings)
    columns = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    found, flags, default_kind = _gsi_columns(columns, file, problems)
    if problems:
        return None, problems
    geoms = gdf.geometry.values
    where = _feature_where
    types = shapely.get_type_id(geoms)
    for i in np.flatnonzero(types != 0):
        problems.append(Problem(file, where(i), "site geometry is not a point"))
    xs = np.where(types == 0, shapely.get_x(geoms), np.nan)
    ys = np.where(types == 0, shapely.get_y(geoms), np.nan)
    _check_points(ys, xs, file, where, problems)
    out = _normalise_sites(
        pd.DataFrame(gdf.drop(columns=gdf.geometry.name)),
        file=file,
        layer=layer,
        where=where,
        lats=ys,
        lons=xs,
        columns=found,
        flag_columns=flags,
        default_kind=default_kind,
        problems=problems,
    )
    kind = "emergency_site" if default_kind == "emergency_site" else "shelter"
    data = LayerData(layer, "sites", kind, out, file, fmt, encoding=encoding, crs_in=crs_in)
    data.warnings.extend(warnings)
    return data, problems


def _feature_where(i: int) -> str:
    return f"feature {i}"


# --------------------------------------------------------------------------- zones


def _zone_frame(n: int) -> dict[str, list[Any]]:
    return {c: [None] * n for c in ZONE_COLUMNS}


def _detect_zone_schema(columns: list[str]) -> str | None:
    cols = set(columns)
    if "A33_001" in cols:
        return "ksj_a33"
    if any(c.startswith("A31a_") for c in cols):
        return "ksj_a31a"
    if cols & {"A31_101", "A31_201", "A31_001"}:
        return "ksj_a31"
    if "A40_003" in cols:
        return "ksj_a40"
    if "uro:rank" in cols:
        return "plateau_uro"
    if any(c.endswith("浸水ランク") for c in cols):
        return "plateau_gen"
    return None


def _kind_from_words(text: str) -> str | None:
    if "津波" in text or "tsunami" in text.lower():
        return "tsunami"
    if "高潮" in text or "hightide" in text.lower():
        return "storm_surge"
    if "内水" in text or "inland" in text.lower():
        return "inland_flood"
    if "洪水" in text or "河川" in text or "riverflood" in text.lower():
        return "flood"
    return None


_RIVER_RE = re.compile(r"(?:(?P<system>[^\s]+?)水系)?(?P<river>[^\s（(]+?[川江])(?:洪水|浸水|水系)")


def _river_from_title(title: str) -> str | None:
    m = _RIVER_RE.search(title)
    return m.group("river") if m else None


def _depth_fields(lo: float | None, hi: float | None, rank: int | None) -> dict[str, Any]:
    label = depth_label(lo, hi)
    if label is None and rank is not None:
        label = f"ランク {rank}"
    return {"depth_min_m": lo, "depth_max_m": hi, "label": label, "level": rank}


def _normalise_zones(
    gdf: gpd.GeoDataFrame, schema: str, file: str, layer: str, problems: list[Problem]
) -> tuple[dict[str, list[Any]], str]:
    props = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    n = len(props)
    out = _zone_frame(n)
    records = props.to_dict("records")
    dataset_col = "dataset" if "dataset" in props.columns else None
    layer_kind = None
    for i, rec in enumerate(records):
        where = f"feature {i}"
        source = str(rec.get(dataset_col) or "").strip() if dataset_col else ""
        row: dict[str, Any] = {}
        if schema == "ksj_a33":
            ph = _int_or_none(rec.get("A33_001"))
            zc = _int_or_none(rec.get("A33_002"))
            if ph not in A33_PHENOMENON:
                problems.append(
                    Problem(file, where, f"A33_001 phenomenon code {rec.get('A33_001')!r} unknown")
                )
                continue
            if zc not in A33_ZONE:
                problems.append(
                    Problem(file, where, f"A33_002 zone code {rec.get('A33_002')!r} unknown")
                )
                continue
            zone_class, level, zone_ja = A33_ZONE[zc]
            row = {
                "kind": "landslide",
                "phenomenon": A33_PHENOMENON[ph],
                "zone_class": zone_class,
                "level": level,
                "label": f"{A33_PHENOMENON_JA[ph]}・{zone_ja}",
                "name": _s(rec.get("A33_005")) or None,
                "zone_id": _s(rec.get("A33_004")) or None,
                "source": source or "国土数値情報 土砂災害警戒区域 (A33)",
            }
        elif schema in ("ksj_a31a", "ksj_a31"):
            cands: list[tuple[str, str | None, str | None]]
            if schema == "ksj_a31a":
                cands = [
                    ("A31a_205", "A31a_202", "想定最大規模"),
                    ("A31a_105", "A31a_102", "計画規模"),
                ]
            else:
                cands = [
                    ("A31_201", None, "想定最大規模"),
                    ("A31_101", None, "計画規模"),
                    ("A31_001", None, None),
                ]
            chosen = next(
                ((d, r, s) for d, r, s in cands if _int_or_none(rec.get(d)) is not None), None
            )
            if chosen is None:
                problems.append(
                    Problem(file, where, "no flood depth rank (A31/A31a ..._05/_101/_201)")
                )
                continue
            depth_col, river_col, scenario = chosen
            rank = _int_or_none(rec.get(depth_col))
            if depth_col == "A31_001":  # 2012 release: its own rank scheme, no metres invented
                lo, hi = None, None
            elif rank in WATER_DEPTH_RANKS:
                lo, hi = WATER_DEPTH_RANKS[rank]
            else:
                problems.append(Problem(file, where, f"{depth_col} depth rank {rank} unknown"))
                continue
            row = {
                "kind": "flood",
                **_depth_fields(lo, hi, rank),
                "river": (_s(rec.get(river_col)) or None) if river_col else None,
                "scenario": scenario,
                "source": source or "国土数値情報 洪水浸水想定区域 (A31)",
            }
        elif schema == "ksj_a40":
            text = _s(rec.get("A40_003"))
            lo, hi = parse_depth_band(text)
            if lo is None and hi is None:
                problems.append(Problem(file, where, f"A40_003 depth band {text!r} not understood"))
                continue
            row = {
                "kind": "tsunami",
                "depth_min_m": lo,
                "depth_max_m": hi,
                "label": depth_label(lo, hi),
                "level": rank_for_depth(lo),
                "source": source or "国土数値情報 津波浸水想定 (A40)",
            }
        elif schema == "plateau_uro":
            kind = _kind_from_words(_s(rec.get("uro:rank_codeSpace")) + _s(rec.get("gml:name")))
            rank = _int_or_none(rec.get("uro:rank"))
            lo, hi = (
                parse_depth_band(rec.get("uro:rank_label"))
                if rec.get("uro:rank_label")
                else (None, None)
            )
            if kind is None:
                problems.append(
                    Problem(file, where, "cannot tell the hazard kind (uro:rank_codeSpace)")
                )
                continue
            row = {
                "kind": kind,
                **_depth_fields(lo, hi, rank),
                "scenario": _s(rec.get("gml:name")) or None,
                "river": _river_from_title(_s(rec.get("gml:name"))) if kind == "flood" else None,
                "source": source or "3D都市モデル（Project PLATEAU）",
            }
        elif schema == "plateau_gen":
            rank_col = next(c for c in props.columns if str(c).endswith("浸水ランク"))
            kind = _kind_from_words(str(rank_col) + _s(rec.get("gml:name")))
            if kind is None:
                problems.append(
                    Problem(file, where, f"cannot tell the hazard kind from {rank_col}")
                )
                continue
            rank = _int_or_none(rec.get(rank_col))
            label_text = rec.get(f"{rank_col}_label")
            lo, hi = parse_depth_band(label_text) if _s(label_text) else (None, None)
            scale_col = next((c for c in props.columns if str(c).endswith("/規模")), None)
            scale = _s(rec.get(scale_col)) if scale_col else ""
            title = _s(rec.get("gml:name"))
            row = {
                "kind": kind,
                **_depth_fields(lo, hi, rank),
                "scenario": title or ({"L2": "想定最大規模", "L1": "計画規模"}.get(scale) or None),
                "river": _river_from_title(title) if kind == "flood" else None,
                "source": source or "3D都市モデル（Project PLATEAU）",
            }
        for key, value in row.items():
            out[key][i] = value
        out["layer"][i] = layer
        layer_kind = layer_kind or row.get("kind")
    return out, layer_kind or "unknown"


def _zones_from_vector(
    gdf: gpd.GeoDataFrame,
    file: str,
    layer: str,
    fmt: str,
    encoding: str | None,
    schema: str | None = None,
    mapping: dict[str, Any] | None = None,
) -> tuple[LayerData | None, list[Problem]]:
    problems: list[Problem] = []
    warnings: list[str] = []
    columns = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    if mapping is None:
        schema = schema or _detect_zone_schema(columns)
        if schema is None:
            return None, [
                Problem(
                    file,
                    None,
                    "unknown layer: no GSI site columns (共通ID) and no hazard attributes "
                    "(A31/A31a/A33/A40 or PLATEAU rank); give a YAML manifest with a column map",
                )
            ]
    assume = "EPSG:6668" if (schema or "").startswith("ksj") or mapping is not None else None
    if fmt == "geojson":
        assume = "EPSG:6668"
    gdf, crs_in = _set_storage_crs(gdf, file, assume, problems, warnings)
    if problems:
        return None, problems
    gdf, repaired = _repair_polygons(gdf, file, problems, warnings)
    if mapping is not None:
        cols, kind = _mapped_zones(gdf, mapping, file, layer, problems)
    else:
        assert schema is not None
        cols, kind = _normalise_zones(gdf, schema, file, layer, problems)
    out = gpd.GeoDataFrame(cols, geometry=gdf.geometry.values, crs=STORAGE_CRS)
    out["level"] = pd.array(out["level"], dtype="Int64")
    for c in ("depth_min_m", "depth_max_m"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    data = LayerData(layer, "zones", kind, out, file, fmt, encoding=encoding, crs_in=crs_in)
    data.warnings.extend(warnings)
    data.repaired = repaired
    data.data_date = _zone_data_date(gdf)
    if data.data_date:
        data.data_date_basis = "data attribute"
    return data, problems


def _zone_data_date(gdf: gpd.GeoDataFrame) -> str | None:
    """The data's own date: PLATEAU creationDate, the dataset's fiscal year, or the latest
    A33 告示日."""
    if "core:creationDate" in gdf.columns:
        dates = pd.to_datetime(gdf["core:creationDate"], errors="coerce").dropna()
        if len(dates):
            return str(dates.max().date())
    if "dataset" in gdf.columns:
        for v in gdf["dataset"]:
            m = re.search(r"(\d{4})年度", _s(v))
            if m:
                return f"{m.group(1)}年度"
    for col in ("A33_007", "A31_102", "A31_202"):
        if col in gdf.columns:
            dates = pd.to_datetime(gdf[col].map(_s), errors="coerce").dropna()
            if len(dates):
                return str(dates.max().date())
    return None


# --------------------------------------------------------------------------- vector files


def _read_geojson(path: Path) -> tuple[gpd.GeoDataFrame, str]:
    data = path.read_bytes()
    encoding, problems = detect_text_encoding(data, str(path))
    if problems:
        raise _Refused(problems)
    if encoding == "cp932":
        data = data.decode("cp932").encode("utf-8")
        return pyogrio.read_dataframe(io.BytesIO(data)), encoding
    return pyogrio.read_dataframe(path), encoding


class _Refused(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def read_vector_layers(path: Path) -> list[tuple[str, gpd.GeoDataFrame, str, str | None, str]]:
    """Open a vector file as a list of ``(layer, GeoDataFrame, format, encoding, file_label)``.

    Shapefiles (bare or in a .zip, attributes in UTF-8 or CP932 detected from the .dbf bytes),
    GeoJSON (UTF-8, or CP932 detected) and GeoPackage (every layer).

    Raises
    ------
    _Refused
        With the problems when the file cannot be read.
    """
    file = str(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".geojson", ".json"):
            gdf, enc = _read_geojson(path)
            return [(path.stem, gdf, "geojson", enc, file)]
        if suffix == ".gpkg":
            out: list[tuple[str, gpd.GeoDataFrame, str, str | None, str]] = []
            for name, _geom in pyogrio.list_layers(path):
                out.append(
                    (
                        str(name),
                        pyogrio.read_dataframe(path, layer=name),
                        "gpkg",
                        "utf-8",
                        f"{file}:{name}",
                    )
                )
            return out
        if suffix == ".shp":
            dbf = path.with_suffix(".dbf")
            if not dbf.exists():
                dbf = path.with_suffix(".DBF")
            if not dbf.exists():
                raise _Refused([Problem(file, None, "missing .dbf beside the .shp")])
            enc, problems = _dbf_encoding(dbf.read_bytes(), str(dbf))
            if problems:
                raise _Refused(problems)
            return [(path.stem, pyogrio.read_dataframe(path, encoding=enc), "shapefile", enc, file)]
        if suffix == ".zip":
            return _read_zip(path)
    except _Refused:
        raise
    except Exception as exc:  # GDAL / parse errors: name the file
        raise _Refused([Problem(file, None, f"cannot read as {suffix[1:]}: {exc}")]) from exc
    raise _Refused([Problem(file, None, f"unsupported file type {suffix!r}")])


def _read_zip(path: Path) -> list[tuple[str, gpd.GeoDataFrame, str, str | None, str]]:
    file = str(path)
    out: list[tuple[str, gpd.GeoDataFrame, str, str | None, str]] = []
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        lowered = {n.lower(): n for n in names}
        for member in names:
            low = member.lower()
            label = f"{file}!{_zip_name(member)}"
            stem = Path(_zip_name(member)).stem
            if low.endswith(".shp"):
                dbf = lowered.get(low[:-4] + ".dbf")
                if dbf is None:
                    raise _Refused(
                        [Problem(label, None, "missing .dbf beside the .shp in the zip")]
                    )
                enc, problems = _dbf_encoding(zf.read(dbf), label)
                if problems:
                    raise _Refused(problems)
                gdf = pyogrio.read_dataframe(f"/vsizip/{path.resolve()}/{member}", encoding=enc)
                out.append((stem, gdf, "shapefile", enc, label))
            elif low.endswith((".geojson", ".json")):
                data = zf.read(member)
                enc, problems = detect_text_encoding(data, label)
                if problems:
                    raise _Refused(problems)
                text = data.decode(enc)
                out.append(
                    (
                        stem,
                        pyogrio.read_dataframe(io.BytesIO(text.encode("utf-8"))),
                        "geojson",
                        enc,
                        label,
                    )
                )
            elif low.endswith(".gpkg"):
                for name, _g in pyogrio.list_layers(f"/vsizip/{path.resolve()}/{member}"):
                    gdf = pyogrio.read_dataframe(f"/vsizip/{path.resolve()}/{member}", layer=name)
                    out.append((str(name), gdf, "gpkg", "utf-8", f"{label}:{name}"))
    if not out:
        raise _Refused([Problem(file, None, "zip holds no .shp, .geojson or .gpkg")])
    return out


def _zip_name(member: str) -> str:
    """Zip member names from Japanese Windows tools are CP932 stored as CP437."""
    try:
        return member.encode("cp437").decode("cp932")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return member


def _read_vector(path: Path, layer: str | None = None) -> tuple[list[LayerData], list[Problem]]:
    try:
        layers = read_vector_layers(path)
    except _Refused as refused:
        return [], refused.problems
    out: list[LayerData] = []
    problems: list[Problem] = []
    for name, gdf, fmt, enc, label in layers:
        columns = [str(c) for c in gdf.columns]
        lname = layer if (layer and len(layers) == 1) else name
        if len(gdf) == 0:
            problems.append(Problem(label, None, "no features"))
            continue
        if _find_column(columns, "共通ID") is not None:
            data, probs = _sites_from_vector(gdf, label, lname, fmt, enc)
        else:
            data, probs = _zones_from_vector(gdf, label, lname, fmt, enc)
        problems.extend(probs)
        if data is not None:
            out.append(data)
    return out, problems


# --------------------------------------------------------------------------- manifests


def _mapped_zones(
    gdf: gpd.GeoDataFrame, mapping: dict[str, Any], file: str, layer: str, problems: list[Problem]
) -> tuple[dict[str, list[Any]], str]:
    kind = mapping.get("kind")
    if kind not in ZONE_KINDS:
        problems.append(
            Problem(file, None, f"manifest kind must be one of {', '.join(ZONE_KINDS)}")
        )
        return _zone_frame(len(gdf)), "unknown"
    cols: dict[str, str] = mapping.get("columns") or {}
    props = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    for key, src in cols.items():
        if src not in props.columns:
            problems.append(Problem(file, None, f"missing column {src} (mapped as {key})"))
    out = _zone_frame(len(gdf))
    if problems:
        return out, kind
    for i, rec in enumerate(props.to_dict("records")):
        rank = _int_or_none(rec.get(cols["level"])) if "level" in cols else None
        lo = hi = None
        if "depth_text" in cols:
            lo, hi = parse_depth_band(rec.get(cols["depth_text"]))
            if lo is None and hi is None and _s(rec.get(cols["depth_text"])):
                problems.append(
                    Problem(
                        file,
                        f"feature {i}",
                        f"depth {rec.get(cols['depth_text'])!r} not understood",
                    )
                )
        elif (
            rank is not None
            and kind in ("flood", "inland_flood", "storm_surge")
            and mapping.get("depth_ranks") == "ksj"
        ):
            lo, hi = WATER_DEPTH_RANKS.get(rank, (None, None))
        row = {
            "kind": kind,
            **_depth_fields(lo, hi, rank if rank is not None else rank_for_depth(lo)),
            "name": (_s(rec.get(cols["name"])) or None) if "name" in cols else None,
            "zone_id": (_s(rec.get(cols["zone_id"])) or None) if "zone_id" in cols else None,
            "river": (_s(rec.get(cols["river"])) or None)
            if "river" in cols
            else mapping.get("river"),
            "scenario": mapping.get("scenario"),
            "phenomenon": mapping.get("phenomenon"),
            "zone_class": mapping.get("zone_class"),
            "source": mapping.get("source") or mapping.get("attribution") or file,
            "layer": layer,
        }
        for key, value in row.items():
            out[key][i] = value
    return out, kind


def read_manifest(path: Path) -> tuple[list[LayerData], list[Problem]]:
    """Read a municipality's own file described by a YAML manifest (see docs/gis.md).

    The manifest names the data file (``path``, relative to the manifest), ``type``
    (``sites`` or ``zones``), a ``columns`` map, ``hazards`` flag columns for sites, ``kind``
    for zones, and optional ``encoding``, ``crs``, ``layer``, ``data_date``, ``attribution``.
    """
    file = str(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return [], [Problem(file, None, f"manifest is not valid YAML: {exc}")]
    if (
        not isinstance(spec, dict)
        or "path" not in spec
        or spec.get("type") not in ("sites", "zones")
    ):
        return [], [Problem(file, None, "manifest needs `path` and `type: sites|zones`")]
    data_path = (path.parent / str(spec["path"])).resolve()
    dfile = str(data_path)
    if not data_path.exists():
        return [], [Problem(file, None, f"data file {data_path} not found")]
    layer = str(spec.get("layer") or data_path.stem)
    cols: dict[str, str] = dict(spec.get("columns") or {})
    problems: list[Problem] = []
    layers: list[LayerData]
    if spec["type"] == "sites":
        layers = _manifest_sites(data_path, spec, cols, layer, problems)
    else:
        if data_path.suffix.lower() == ".csv":
            return [], [
                Problem(file, None, "zones need a vector file (GeoJSON, Shapefile, GeoPackage)")
            ]
        try:
            vlayers = read_vector_layers(data_path)
        except _Refused as refused:
            return [], refused.problems
        layers = []
        for _name, gdf, fmt, enc, label in vlayers:
            if spec.get("crs"):
                gdf = gdf.set_crs(spec["crs"], allow_override=True)
            data, probs = _zones_from_vector(gdf, label, layer, fmt, enc, mapping=spec)
            problems.extend(probs)
            if data is not None:
                layers.append(data)
    for data in layers:
        if spec.get("data_date"):
            data.data_date = str(spec["data_date"])
            data.data_date_basis = "manifest"
        if spec.get("attribution"):
            data.attribution = str(spec["attribution"])
        data.source = dfile
        data.format = f"manifest+{data.format}"
    return layers, problems


def _manifest_sites(
    data_path: Path, spec: dict[str, Any], cols: dict[str, str], layer: str, problems: list[Problem]
) -> list[LayerData]:
    dfile = str(data_path)
    for key in ("name", "lat", "lon") if data_path.suffix.lower() == ".csv" else ("name",):
        if key not in cols:
            problems.append(Problem(dfile, None, f"manifest column map lacks `{key}`"))
    if problems:
        return []
    if data_path.suffix.lower() == ".csv":
        raw = data_path.read_bytes()
        enc = spec.get("encoding") or "auto"
        if enc == "auto":
            enc, probs = detect_text_encoding(raw, dfile)
            if probs:
                problems.extend(probs)
                return []
        try:
            df = pd.read_csv(io.StringIO(raw.decode(enc)), dtype=str, keep_default_na=False)
        except (UnicodeDecodeError, LookupError) as exc:
            problems.append(Problem(dfile, None, f"cannot decode as {enc}: {exc}"))
            return []
        fmt = "csv"
        lat_raw = df[cols["lat"]] if cols["lat"] in df.columns else None
        lon_raw = df[cols["lon"]] if cols["lon"] in df.columns else None
        if lat_raw is None or lon_raw is None:
            problems.append(
                Problem(
                    dfile, None, f"missing column {cols['lat'] if lat_raw is None else cols['lon']}"
                )
            )
            return []
        lats = pd.to_numeric(lat_raw.map(nfkc), errors="coerce").to_numpy(dtype="float64")
        lons = pd.to_numeric(lon_raw.map(nfkc), errors="coerce").to_numpy(dtype="float64")

        def where(i: int) -> str:
            return f"row {i + 2}"

    else:
        try:
            (_n, gdf, fmt, enc, _label), *_ = read_vector_layers(data_path)
        except _Refused as refused:
            problems.extend(refused.problems)
            return []
        gdf, _crs = _set_storage_crs(gdf, dfile, spec.get("crs") or "EPSG:6668", problems, [])
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        lats = np.asarray(shapely.get_y(gdf.geometry.values), dtype="float64")
        lons = np.asarray(shapely.get_x(gdf.geometry.values), dtype="float64")
        where = _feature_where
    mapped = {k: v for k, v in cols.items() if k not in ("lat", "lon")}
    for key, src in mapped.items():
        if src not in df.columns:
            problems.append(Problem(dfile, None, f"missing column {src} (mapped as {key})"))
    hazards: dict[str, str] = dict(spec.get("hazards") or {})
    for kind, src in hazards.items():
        if kind not in HAZARD_KINDS:
            problems.append(Problem(dfile, None, f"unknown hazard kind {kind!r} in manifest"))
        elif src not in df.columns:
            problems.append(Problem(dfile, None, f"missing column {src} (hazard flag {kind})"))
    if problems:
        return []
    if "id" not in mapped:  # stable ids from the layer name and the row
        df = df.assign(_generated_id=[f"{layer}-{i + 1}" for i in range(len(df))])
        mapped["id"] = "_generated_id"
    _check_points(lats, lons, dfile, where, problems)
    truthy = {nfkc(t).lower() for t in spec["truthy"]} if spec.get("truthy") else None
    default_kind = str(spec.get("site_kind") or ("emergency_site" if hazards else "shelter"))
    gdf_out = _normalise_sites(
        df,
        file=dfile,
        layer=layer,
        where=where,
        lats=lats,
        lons=lons,
        columns={
            k: mapped.get(k)
            for k in (
                "id",
                "name",
                "address",
                "municipality",
                "remarks",
                "target",
                "same_as_shelter",
                "same_as_emergency_site",
            )
        },
        flag_columns=hazards,
        default_kind=default_kind,
        problems=problems,
        truthy=truthy,
        municipality_name=spec.get("municipality"),
    )
    return [
        LayerData(
            layer, "sites", default_kind, gdf_out, dfile, fmt, encoding=str(enc), crs_in=STORAGE_CRS
        )
    ]


# --------------------------------------------------------------------------- entry point


def read_source(path: Path) -> tuple[list[LayerData], list[Problem]]:
    """Read one file into normalised layers, choosing the reader from its suffix and columns.

    Parameters
    ----------
    path : pathlib.Path
        A GSI CSV, GeoJSON, Shapefile (or .zip), GeoPackage, or a YAML manifest.

    Returns
    -------
    (layers, problems) : tuple
        The layers read and every problem found; callers must refuse the import when
        ``problems`` is non-empty.
    """
    suffix = path.suffix.lower()
    if not path.exists():
        return [], [Problem(str(path), None, "file not found")]
    if suffix in (".yaml", ".yml"):
        return read_manifest(path)
    if suffix == ".csv":
        data, problems = read_gsi_csv(path)
        return ([data] if data is not None else []), problems
    if suffix in SUPPORTED_SUFFIXES:
        return _read_vector(path)
    return [], [Problem(str(path), None, f"unsupported file type {suffix!r}")]
