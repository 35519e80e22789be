"""A municipality's own file described by a YAML manifest (format in docs/gis.md).

The manifest is validated as a whole by :class:`Manifest` (pydantic) before the data file is
opened: unknown keys, a wrong ``type``, an unknown hazard or zone kind and an incomplete column
map are each reported as a problem of the manifest file. The data are then normalised with the
same site and zone steps as the national sources.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely
import yaml
from pydantic import BaseModel, Extra, ValidationError, root_validator, validator

from gis.codelists import WATER_DEPTH_RANKS, rank_for_depth
from gis.errors import Problem
from gis.geo import STORAGE_CRS
from gis.io.files import RawLayer, Refused, read_csv_table, read_vector_layers
from gis.models import HAZARD_KINDS, SITE_KINDS, ZONE_KINDS
from gis.sources.base import (
    FeatureProblem,
    LayerData,
    feature_where,
    int_or_none,
    numbers,
    row_where,
    text_value,
)
from gis.sources.geometry import check_points, set_storage_crs
from gis.sources.sites import SITE_FIELDS, site_frame
from gis.sources.zones import depth_fields, zone_layer
from gis.text import nfkc, parse_depth_band

__all__ = ["Manifest", "detect", "read", "normalise_zone"]

_SITE_COLUMN_KEYS = {*SITE_FIELDS, "lat", "lon"}
_ZONE_COLUMN_KEYS = {"depth_text", "level", "name", "zone_id", "river"}


class Manifest(BaseModel):
    """The keys a manifest may have; anything else is refused (a typo would be ignored silently)."""

    type: Literal["sites", "zones"]
    path: str
    layer: str | None = None
    encoding: str = "auto"
    crs: str | None = None
    data_date: str | None = None
    attribution: str | None = None
    columns: dict[str, str] = {}
    # sites
    site_kind: str | None = None
    municipality: str | None = None
    hazards: dict[str, str] = {}
    truthy: list[str] | None = None
    # zones
    kind: str | None = None
    depth_ranks: Literal["ksj"] | None = None
    river: str | None = None
    scenario: str | None = None
    phenomenon: str | None = None
    zone_class: str | None = None
    source: str | None = None

    class Config:
        extra = Extra.forbid

    @validator("data_date", "municipality", "layer", "attribution", "scenario", pre=True)
    def _as_text(cls, value: Any) -> Any:  # noqa: N805 - pydantic validator
        # YAML reads 2024-04-01 as a date and 2024 as a number
        return None if value is None else str(value)

    @validator("site_kind")
    def _site_kind(cls, value: str | None) -> str | None:  # noqa: N805
        if value is not None and value not in SITE_KINDS:
            raise ValueError(f"must be one of {', '.join(SITE_KINDS)}")
        return value

    @validator("hazards")
    def _hazards(cls, value: dict[str, str]) -> dict[str, str]:  # noqa: N805
        unknown = [k for k in value if k not in HAZARD_KINDS]
        if unknown:
            raise ValueError(f"unknown hazard kind {unknown[0]!r} in manifest")
        return value

    @root_validator(skip_on_failure=True)
    def _by_type(cls, values: dict[str, Any]) -> dict[str, Any]:  # noqa: N805
        columns = values.get("columns") or {}
        if values["type"] == "zones":
            if values.get("kind") not in ZONE_KINDS:
                raise ValueError(f"manifest kind must be one of {', '.join(ZONE_KINDS)}")
            allowed = _ZONE_COLUMN_KEYS
        else:
            required = (
                ("name", "lat", "lon") if values["path"].lower().endswith(".csv") else ("name",)
            )
            for key in required:
                if key not in columns:
                    raise ValueError(f"manifest column map lacks `{key}`")
            allowed = _SITE_COLUMN_KEYS
        unknown = sorted(set(columns) - allowed)
        if unknown:
            raise ValueError(
                f"unknown column key(s) {', '.join(unknown)} for type {values['type']}"
            )
        return values


def detect(path: Path) -> bool:
    """True for a manifest (``.yaml`` / ``.yml``)."""
    return path.suffix.lower() in (".yaml", ".yml")


def _problems(file: str, error: ValidationError) -> list[Problem]:
    out = []
    for err in error.errors():
        where = ".".join(str(p) for p in err["loc"] if p != "__root__")
        out.append(Problem(file, None, f"{where}: {err['msg']}" if where else err["msg"]))
    return out


def read(path: Path) -> tuple[list[LayerData], list[Problem]]:
    """Read the file a manifest describes into normalised layers."""
    file = str(path)
    try:
        raw_spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return [], [Problem(file, None, f"manifest is not valid YAML: {exc}")]
    if not isinstance(raw_spec, dict):
        return [], [Problem(file, None, "manifest needs `path` and `type: sites|zones`")]
    try:
        spec = Manifest.parse_obj(raw_spec)
    except ValidationError as exc:
        return [], _problems(file, exc)
    data_path = (path.parent / spec.path).resolve()
    if not data_path.exists():
        return [], [Problem(file, None, f"data file {data_path} not found")]
    layer = spec.layer or data_path.stem
    problems: list[Problem] = []
    if spec.type == "sites":
        layers = _sites(data_path, spec, layer, problems)
    elif data_path.suffix.lower() == ".csv":
        return [], [
            Problem(file, None, "zones need a vector file (GeoJSON, Shapefile, GeoPackage)")
        ]
    else:
        layers = _zones(data_path, spec, layer, problems)
    for data in layers:
        if spec.data_date:
            data.data_date = spec.data_date
            data.data_date_basis = "manifest"
        if spec.attribution:
            data.attribution = spec.attribution
        data.source = str(data_path)
        data.format = f"manifest+{data.format}"
    return layers, problems


def _missing_columns(
    mapped: dict[str, str], present: Collection[str], file: str, what: str = "mapped as"
) -> list[Problem]:
    return [
        Problem(file, None, f"missing column {src} ({what} {key})")
        for key, src in mapped.items()
        if src not in present
    ]


def _sites(data_path: Path, spec: Manifest, layer: str, problems: list[Problem]) -> list[LayerData]:
    dfile = str(data_path)
    cols = spec.columns
    enc: str | None
    try:
        if data_path.suffix.lower() == ".csv":
            df, enc = read_csv_table(data_path, spec.encoding)
            fmt, where = "csv", row_where
            for key in ("lat", "lon"):
                if cols[key] not in df.columns:
                    problems.append(Problem(dfile, None, f"missing column {cols[key]}"))
                    return []
            lats, lons = numbers(df[cols["lat"]]), numbers(df[cols["lon"]])
        else:
            raw = read_vector_layers(data_path)[0]
            fmt, enc, where = raw.format, raw.encoding, feature_where
            gdf, _crs = set_storage_crs(raw.gdf, dfile, spec.crs or "EPSG:6668", problems, [])
            df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
            lats = np.asarray(shapely.get_y(gdf.geometry.values), dtype="float64")
            lons = np.asarray(shapely.get_x(gdf.geometry.values), dtype="float64")
    except Refused as refused:
        problems.extend(refused.problems)
        return []
    mapped = {k: v for k, v in cols.items() if k not in ("lat", "lon")}
    problems.extend(_missing_columns(mapped, df.columns, dfile))
    problems.extend(_missing_columns(spec.hazards, df.columns, dfile, "hazard flag"))
    if problems:
        return []
    if "id" not in mapped:  # stable ids from the layer name and the row
        df = df.assign(_generated_id=[f"{layer}-{i + 1}" for i in range(len(df))])
        mapped["id"] = "_generated_id"
    check_points(lats, lons, dfile, where, problems)
    truthy = {nfkc(t).lower() for t in spec.truthy} if spec.truthy else None
    default_kind = spec.site_kind or ("emergency_site" if spec.hazards else "shelter")
    gdf_out = site_frame(
        df,
        file=dfile,
        layer=layer,
        where=where,
        lats=lats,
        lons=lons,
        columns={k: mapped.get(k) for k in SITE_FIELDS},
        flag_columns=spec.hazards,
        default_kind=default_kind,
        problems=problems,
        truthy=truthy,
        municipality_name=spec.municipality,
    )
    return [
        LayerData(
            layer, "sites", default_kind, gdf_out, dfile, fmt, encoding=str(enc), crs_in=STORAGE_CRS
        )
    ]


def _zones(data_path: Path, spec: Manifest, layer: str, problems: list[Problem]) -> list[LayerData]:
    try:
        raws = read_vector_layers(data_path)
    except Refused as refused:
        problems.extend(refused.problems)
        return []
    layers = []
    for raw in raws:
        missing = _missing_columns(spec.columns, raw.gdf.columns, raw.label)
        if missing:
            problems.extend(missing)
            continue
        if spec.crs:
            raw = RawLayer(
                raw.name,
                raw.gdf.set_crs(spec.crs, allow_override=True),
                raw.format,
                raw.encoding,
                raw.label,
            )
        normalise = functools.partial(normalise_zone, spec=spec, label=raw.label)
        data, probs = zone_layer(raw, layer, normalise, "EPSG:6668")
        problems.extend(probs)
        if data is not None:
            layers.append(data)
    return layers


def normalise_zone(
    rec: dict[str, Any], columns: Sequence[str], *, spec: Manifest, label: str
) -> dict[str, Any]:
    """One feature of a mapped zone file as a zone row, through the manifest's column map."""
    cols = spec.columns
    kind = str(spec.kind)
    rank = int_or_none(rec.get(cols["level"])) if "level" in cols else None
    lo: float | None = None
    hi: float | None = None
    if "depth_text" in cols:
        text = rec.get(cols["depth_text"])
        lo, hi = parse_depth_band(text)
        if lo is None and hi is None and text_value(text):
            raise FeatureProblem(f"depth {text!r} not understood")
    elif rank is not None and kind in ("flood", "inland_flood", "storm_surge") and spec.depth_ranks:
        lo, hi = WATER_DEPTH_RANKS.get(rank, (None, None))

    def mapped(key: str) -> str | None:
        return (text_value(rec.get(cols[key])) or None) if key in cols else None

    return {
        "kind": kind,
        **depth_fields(lo, hi, rank if rank is not None else rank_for_depth(lo)),
        "name": mapped("name"),
        "zone_id": mapped("zone_id"),
        "river": mapped("river") if "river" in cols else spec.river,
        "scenario": spec.scenario,
        "phenomenon": spec.phenomenon,
        "zone_class": spec.zone_class,
        "source": spec.source or spec.attribution or label,
    }
