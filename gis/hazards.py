"""Hazard zones at a point: an STRtree over every zone polygon, plus the coverage of the layers.

A point on a zone boundary counts as inside (the cautious side). Coverage says which zone layers
have zones in the point's ~1 km mesh cell, so that an empty answer is never read as "safe".
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.mesh import mesh_key
from gis.models import ZONE_KINDS, HazardAnswer, Zone
from gis.sources import ZONE_COLUMNS

__all__ = ["ZoneIndex"]

_KIND_ORDER = {k: i for i, k in enumerate(ZONE_KINDS)}
_NO_ZONE = "no hazard zone in the loaded data contains this point; absence of data is not safety"
_NO_LAYER = "no loaded hazard layer has data around this point"


def _none_if_nan(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class ZoneIndex:
    """Zones and their coverage, read-only after construction.

    ``geoms`` (the polygons) and ``cols`` (one list per zone column) are row-aligned.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        Columns of :data:`gis.sources.ZONE_COLUMNS`, EPSG:6668 polygons.
    coverage : pandas.DataFrame, optional
        ``layer``, ``kind``, ``cell`` (mesh key, see :func:`gis.mesh.mesh_key`).
    layers : list of dict
        Layer records from the cache manifest.
    """

    def __init__(
        self,
        zones: gpd.GeoDataFrame,
        coverage: pd.DataFrame | None,
        layers: list[dict[str, Any]],
    ):
        self.geoms = (
            np.asarray(zones.geometry.values, dtype=object)
            if len(zones)
            else np.empty(0, dtype=object)
        )
        self._tree = shapely.STRtree(self.geoms)
        self.cols: dict[str, list[Any]] = {}
        for c in ZONE_COLUMNS:
            values = zones[c].tolist() if c in zones.columns else [None] * len(zones)
            self.cols[c] = [_none_if_nan(v) for v in values]
        self._coverage: dict[int, list[str]] = defaultdict(list)
        if coverage is not None and len(coverage):
            for layer, cell in zip(
                coverage["layer"].tolist(), coverage["cell"].tolist(), strict=True
            ):
                self._coverage[int(cell)].append(str(layer))
        self._layer_by_name = {rec["layer"]: rec for rec in layers}
        self.layers = [r["layer"] for r in layers if r.get("family") == "zones"]
        if not layers and len(zones):
            self.layers = sorted({str(v) for v in self.cols["layer"] if v})

    def __len__(self) -> int:
        return len(self.geoms)

    def _zone(self, j: int) -> Zone:
        c = self.cols
        level = c["level"][j]
        return Zone(
            kind=c["kind"][j],
            level=None if level is None else int(level),
            label=c["label"][j],
            name=c["name"][j],
            depth_min_m=c["depth_min_m"][j],
            depth_max_m=c["depth_max_m"][j],
            phenomenon=c["phenomenon"][j],
            zone_class=c["zone_class"][j],
            river=c["river"][j],
            source=c["source"][j] or "",
            layer=c["layer"][j] or "",
            zone_id=c["zone_id"][j],
            scenario=c["scenario"][j],
        )

    def zones_at(self, lat: float, lon: float) -> list[Zone]:
        """Zones containing the point, by kind, then deepest/highest level first."""
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        zones = [self._zone(int(j)) for j in hits]
        zones.sort(
            key=lambda z: (_KIND_ORDER.get(z.kind, 99), -(z.level or 0), z.layer, z.name or "")
        )
        return zones

    def answer(self, lat: float, lon: float) -> HazardAnswer:
        """Every zone containing the point, the layers covering its mesh cell, and notes."""
        zones = self.zones_at(lat, lon)
        covering = set(self._coverage.get(int(mesh_key(lat, lon)), []))
        covering |= {z.layer for z in zones if z.layer}
        coverage = []
        for name in sorted(covering):
            rec = self._layer_by_name.get(name, {})
            coverage.append(
                {
                    k: (name if k == "layer" else rec.get(k))
                    for k in ("layer", "kind", "source", "data_date", "bbox")
                }
            )
        notes = []
        if not zones:
            notes.append(_NO_ZONE)
            if not coverage:
                notes.append(_NO_LAYER)
        return HazardAnswer(
            lat=lat,
            lon=lon,
            zones=zones,
            coverage=coverage,
            loaded_layers=list(self.layers),
            notes=notes,
        )
