"""The coverage mesh: JIS X 0410 third-level standard mesh cells (30" x 45", about 1 km).

The importer records, per zone layer, the cells in which it has zones; a hazard answer lists the
layers covering the query point's cell, so that "no zone here" is told apart from "no data here".
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

__all__ = ["MESH_LAT_STEPS", "MESH_LON_STEPS", "mesh_key", "coverage_cells"]

#: cells per degree of latitude / longitude
MESH_LAT_STEPS = 120
MESH_LON_STEPS = 80


def mesh_key(lat: np.ndarray | float, lon: np.ndarray | float) -> np.ndarray:
    """Integer key of the third-level mesh cell holding each (lat, lon)."""
    i = np.floor(np.asarray(lat, dtype="float64") * MESH_LAT_STEPS).astype("int64")
    j = np.floor(np.asarray(lon, dtype="float64") * MESH_LON_STEPS).astype("int64")
    return i * 100_000 + j


def coverage_cells(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Mesh keys of the third-level mesh cells that intersect any zone of the layer."""
    geoms = gdf.geometry.values
    if len(geoms) == 0:
        return np.empty(0, dtype="int64")
    b = shapely.bounds(geoms)
    i0 = np.floor(b[:, 1] * MESH_LAT_STEPS).astype("int64")
    i1 = np.floor(b[:, 3] * MESH_LAT_STEPS).astype("int64")
    j0 = np.floor(b[:, 0] * MESH_LON_STEPS).astype("int64")
    j1 = np.floor(b[:, 2] * MESH_LON_STEPS).astype("int64")
    keys: set[int] = set()
    for a, bb, c, d in zip(i0, i1, j0, j1, strict=True):
        for i in range(a, bb + 1):
            for j in range(c, d + 1):
                keys.add(i * 100_000 + j)
    cand = np.fromiter(keys, dtype="int64", count=len(keys))
    ci, cj = cand // 100_000, cand % 100_000
    boxes = shapely.box(
        cj / MESH_LON_STEPS,
        ci / MESH_LAT_STEPS,
        (cj + 1) / MESH_LON_STEPS,
        (ci + 1) / MESH_LAT_STEPS,
    )
    tree = shapely.STRtree(geoms)
    hit = np.unique(tree.query(boxes, predicate="intersects")[0])
    return np.sort(cand[hit])
