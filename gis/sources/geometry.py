"""Geometry checks shared by the source modules: CRS to EPSG:6668, points and polygons in Japan."""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely

from gis.errors import Problem
from gis.extent import JAPAN_BOUNDS, in_japan, looks_swapped
from gis.geo import STORAGE_CRS

__all__ = ["set_storage_crs", "check_points", "repair_polygons", "ACCEPTED_CRS_NOTE"]

_LON_RANGE = f"{JAPAN_BOUNDS[0]:g}..{JAPAN_BOUNDS[2]:g}"
_LAT_RANGE = f"{JAPAN_BOUNDS[1]:g}..{JAPAN_BOUNDS[3]:g}"
ACCEPTED_CRS_NOTE = "JGD2011 (EPSG:6668), JGD2000 (EPSG:4612), WGS84 or any CRS pyproj knows"


def set_storage_crs(
    gdf: gpd.GeoDataFrame,
    file: str,
    assume: str | None,
    problems: list[Problem],
    warnings: list[str],
) -> tuple[gpd.GeoDataFrame, str | None]:
    """``gdf`` in EPSG:6668 and the CRS it came in; a file without CRS gets ``assume`` (with a
    warning) or a problem when ``assume`` is None."""
    crs_in = gdf.crs.to_string() if gdf.crs is not None else None
    if gdf.crs is None:
        if assume is None:
            problems.append(
                Problem(file, None, f"no CRS (missing .prj?); expected {ACCEPTED_CRS_NOTE}")
            )
            return gdf, None
        warnings.append(f"{file}: no CRS in the file; assumed {assume}")
        gdf = gdf.set_crs(assume)
        crs_in = assume
    if gdf.crs.to_epsg() != 6668:
        gdf = gdf.to_crs(STORAGE_CRS)
    else:
        gdf = gdf.set_crs(STORAGE_CRS, allow_override=True)
    return gdf, crs_in


def check_points(
    lats: np.ndarray,
    lons: np.ndarray,
    file: str,
    where: Callable[[int], str],
    problems: list[Problem],
) -> None:
    """A problem for every missing, swapped or out-of-Japan coordinate pair."""
    for i, (lat, lon) in enumerate(zip(lats, lons, strict=True)):
        if not (np.isfinite(lat) and np.isfinite(lon)):
            problems.append(Problem(file, where(i), "missing or non-numeric coordinates"))
        elif looks_swapped(lat, lon):
            problems.append(
                Problem(
                    file,
                    where(i),
                    f"latitude/longitude look swapped (lat={lat}, lon={lon}); "
                    f"latitude must be {_LAT_RANGE} and longitude {_LON_RANGE}",
                )
            )
        elif not in_japan(lat, lon):
            problems.append(
                Problem(file, where(i), f"coordinates outside Japan (lat={lat}, lon={lon})")
            )


def _outside_japan(bounds: np.ndarray, ok: np.ndarray) -> np.ndarray:
    min_lon, min_lat, max_lon, max_lat = JAPAN_BOUNDS
    return ok & (
        (bounds[:, 0] < min_lon)
        | (bounds[:, 2] > max_lon)
        | (bounds[:, 1] < min_lat)
        | (bounds[:, 3] > max_lat)
    )


def repair_polygons(
    gdf: gpd.GeoDataFrame, file: str, problems: list[Problem], warnings: list[str]
) -> tuple[gpd.GeoDataFrame, int]:
    """Check polygon geometries: non-empty, inside Japan, valid (repaired with make_valid).

    Returns
    -------
    (gdf, repaired) : tuple
        The layer with repaired geometries and how many were repaired.
    """
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
    ok = ~missing
    for i in np.flatnonzero(_outside_japan(bounds, ok)):
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
            polys = [
                g
                for g in shapely.get_parts(shapely.make_valid(geoms[i]))
                if shapely.get_type_id(g) in (3, 6) and not g.is_empty
            ]
            if not polys:
                reason = shapely.is_valid_reason(geoms[i])
                problems.append(
                    Problem(file, f"feature {i}", f"invalid geometry, not repairable ({reason})")
                )
                continue
            new[i] = shapely.union_all(polys)
            repaired += 1
        gdf = gdf.set_geometry(gpd.GeoSeries(new, index=gdf.index, crs=gdf.crs))
        warnings.append(
            f"{file}: repaired {repaired} invalid geometr{'y' if repaired == 1 else 'ies'}"
        )
    return gdf, repaired
