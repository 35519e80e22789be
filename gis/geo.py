"""Geodesy helpers: Japan's extent, geodesic distance and bearing, unit-sphere coordinates.

All inputs and outputs are latitude/longitude in degrees on JGD2011 (EPSG:6668), which for these
purposes equals WGS84 (EPSG:4326). Distances are geodesic on the GRS80 ellipsoid (``pyproj.Geod``).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from pyproj import Geod

from gis.extent import JAPAN_BOUNDS, in_japan, looks_swapped

__all__ = [
    "STORAGE_CRS",
    "JAPAN_BOUNDS",
    "in_japan",
    "looks_swapped",
    "geod",
    "geodesic_inv",
    "unit_xyz",
    "chord_for_metres",
    "EARTH_RADIUS_M",
]

#: CRS of every cached layer (JGD2011 geographic, lat/lon degrees).
STORAGE_CRS = "EPSG:6668"

#: Mean Earth radius (IUGG) used for the unit-sphere index.
EARTH_RADIUS_M = 6_371_008.8

# The GRS80 geodesic distance divided by the great-circle distance on the sphere of radius
# EARTH_RADIUS_M lies within [0.9943, 1.0046] (extreme radii of curvature 6335..6400 km).
# Candidate searches divide by this lower bound (with margin) so that they never miss a site.
_MIN_GEODESIC_TO_SPHERE = 0.99


@lru_cache(maxsize=1)
def geod() -> Geod:
    """The GRS80 ellipsoid (JGD2011) geodesic calculator."""
    return Geod(ellps="GRS80")


def geodesic_inv(
    lat: float, lon: float, lats: np.ndarray, lons: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic distance (m) and initial bearing (degrees 0..360, 0 = north) from one point.

    Parameters
    ----------
    lat, lon : float
        Origin in degrees.
    lats, lons : numpy.ndarray
        Destinations in degrees.

    Returns
    -------
    (distance_m, bearing_deg) : tuple of numpy.ndarray
    """
    lats = np.asarray(lats, dtype="float64")
    lons = np.asarray(lons, dtype="float64")
    if lats.size == 0:
        return np.empty(0), np.empty(0)
    az, _back, dist = geod().inv(np.full(lats.shape, lon), np.full(lats.shape, lat), lons, lats)
    bearing = np.mod(np.asarray(az, dtype="float64"), 360.0)
    return np.asarray(dist, dtype="float64"), bearing


def unit_xyz(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Points on the unit sphere (n, 3) for lat/lon degrees.

    Straight-line (chord) distance in this space grows monotonically with great-circle
    distance, so a KD-tree over it answers nearest-neighbour queries on the sphere.
    """
    phi = np.radians(np.asarray(lats, dtype="float64"))
    lam = np.radians(np.asarray(lons, dtype="float64"))
    cos_phi = np.cos(phi)
    return np.column_stack((cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)))


def chord_for_metres(metres: float) -> float:
    """Unit-sphere chord length that safely encloses every point within ``metres`` geodesic."""
    angle = metres / (EARTH_RADIUS_M * _MIN_GEODESIC_TO_SPHERE)
    angle = min(angle, math.pi)
    return 2.0 * math.sin(angle / 2.0) + 1e-12


def sphere_metres_for_chord(chord: float) -> float:
    """Great-circle metres on the mean sphere for a unit-sphere chord length."""
    return 2.0 * math.asin(min(1.0, chord / 2.0)) * EARTH_RADIUS_M
