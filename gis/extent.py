"""Japan's extent: the one bounding box every part of the project checks coordinates against.

Standard library only, so that the channels, the command line and the widget route can use it
without loading the GIS stack. :mod:`gis.geo` re-exports it for the GIS code.
"""

from __future__ import annotations

__all__ = ["JAPAN_BOUNDS", "in_japan", "looks_swapped"]

#: (min_lon, min_lat, max_lon, max_lat) enclosing Japan incl. its remote islands with a margin
#: (Yonaguni 122.93E, Minamitorishima 153.99E, Okinotorishima 20.42N, Benten-jima 45.56N).
JAPAN_BOUNDS = (122.0, 20.0, 154.5, 46.0)


def in_japan(lat: float, lon: float) -> bool:
    """True when (lat, lon) lies inside :data:`JAPAN_BOUNDS` (edges included).

    Examples
    --------
    >>> in_japan(43.06, 141.35)
    True
    >>> in_japan(51.5, -0.1)
    False
    """
    min_lon, min_lat, max_lon, max_lat = JAPAN_BOUNDS
    return min_lat <= lat <= max_lat and min_lon <= lon <= max_lon


def looks_swapped(lat: float, lon: float) -> bool:
    """True when (lat, lon) is outside Japan but (lon, lat) would be inside."""
    return not in_japan(lat, lon) and in_japan(lon, lat)
