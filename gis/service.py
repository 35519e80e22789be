"""Queries over the imported GIS cache: nearest sites, sites within a radius, hazards at a point,
fuzzy site search. :class:`GisIndex` answers the site queries itself and hands hazards to
:class:`gis.hazards.ZoneIndex` and name search to :class:`gis.search.SiteSearch`.

Build a :class:`GisIndex` once with :func:`load_index` (the caller caches it) and query it from
any thread; every method is read-only after construction (indexes built lazily are idempotent).

Indexes
-------
- Sites: a KD-tree (``scipy.spatial.cKDTree``) over unit-sphere coordinates per (site kind,
  hazard) filter. Candidates from the tree are re-ranked by exact geodesic distance (GRS80), and
  the search radius is widened by the sphere/ellipsoid bound so the answer equals a brute-force
  geodesic scan.
- Zones: a ``shapely.STRtree`` over the polygons; a point on a zone boundary counts as inside.
- Coverage: a dict from third-level mesh cell to the zone layers with zones in that cell.

Why one module of about 400 lines: what is left here is :class:`GisIndex` (the site queries over
its KD-trees) and its loader; hazards (:mod:`gis.hazards`) and name search (:mod:`gis.search`)
are already split out, and the site queries share the class's arrays and trees.
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from gis.areas import Area, AreaIndex
from gis.errors import CacheMissingError
from gis.geo import chord_for_metres, geodesic_inv, unit_xyz
from gis.hazards import ZoneIndex
from gis.importer import current_dir
from gis.models import HAZARD_KINDS, ZONE_KINDS, HazardAnswer, Site, SiteMatch, SiteResult
from gis.search import SiteSearch

__all__ = ["GisIndex", "load_index", "SITE_KIND_FILTERS", "MAX_K", "MAX_RADIUS_M"]

#: Site kind filters accepted by the queries.
SITE_KIND_FILTERS = ("emergency_site", "shelter", "welfare_shelter", "any")
MAX_K = 50
MAX_RADIUS_M = 100_000.0
_META_KEYS = ("layer", "kind", "source", "data_date", "attribution", "feature_count", "bbox")


def _check_point(lat: float, lon: float) -> tuple[float, float]:
    lat, lon = float(lat), float(lon)
    if (
        not (math.isfinite(lat) and math.isfinite(lon))
        or not (-90 <= lat <= 90)
        or not (-180 <= lon <= 180)
    ):
        raise ValueError(f"invalid coordinates lat={lat}, lon={lon}")
    return lat, lon


def _check_hazard(hazard: str | None) -> None:
    if hazard is not None and hazard not in HAZARD_KINDS:
        raise ValueError(f"unknown hazard {hazard!r}; one of {', '.join(HAZARD_KINDS)}")


def _check_kind(kind: str) -> None:
    if kind not in SITE_KIND_FILTERS:
        raise ValueError(f"unknown site kind {kind!r}; one of {', '.join(SITE_KIND_FILTERS)}")


class GisIndex:
    """In-memory indexes over sites and hazard zones.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Columns of :data:`gis.sources.SITE_COLUMNS`, EPSG:6668 points.
    zones : geopandas.GeoDataFrame
        Columns of :data:`gis.sources.ZONE_COLUMNS`, EPSG:6668 polygons.
    coverage : pandas.DataFrame, optional
        ``layer``, ``kind``, ``cell`` (mesh key, see :func:`gis.mesh.mesh_key`).
    layers : list of dict, optional
        Layer records from the manifest.

    Examples
    --------
    >>> idx = load_index("var/gis")                       # doctest: +SKIP
    >>> [r.name for r in idx.nearest(43.06, 141.35, hazard="flood", k=3)]  # doctest: +SKIP
    """

    def __init__(
        self,
        sites: gpd.GeoDataFrame,
        zones: gpd.GeoDataFrame,
        coverage: pd.DataFrame | None = None,
        layers: list[dict[str, Any]] | None = None,
    ):
        for name, gdf in (("sites", sites), ("zones", zones)):
            if gdf.crs is None or gdf.crs.to_epsg() not in (6668, 4326):
                raise ValueError(f"{name} must be in EPSG:6668/4326 (got {gdf.crs})")
        self._lock = threading.Lock()
        # sites, column-wise
        self._n_sites = len(sites)
        self._lat = sites["lat"].to_numpy(dtype="float64")
        self._lon = sites["lon"].to_numpy(dtype="float64")
        self._site_cols = {
            c: sites[c].astype(str).tolist()
            for c in ("id", "name", "address", "municipality", "kind", "remarks", "layer", "target")
        }
        self._same_shelter = sites["same_as_shelter"].to_numpy(dtype=bool)
        self._same_emergency = sites["same_as_emergency_site"].to_numpy(dtype=bool)
        self._hz = (
            np.column_stack([sites[f"hz_{k}"].to_numpy(dtype=bool) for k in HAZARD_KINDS])
            if self._n_sites
            else np.zeros((0, len(HAZARD_KINDS)), dtype=bool)
        )
        self._kind = np.asarray(self._site_cols["kind"], dtype=object)
        self._xyz = unit_xyz(self._lat, self._lon) if self._n_sites else np.zeros((0, 3))
        self._by_id = {sid: i for i, sid in enumerate(self._site_cols["id"])}
        self._trees: dict[tuple[str, str | None], tuple[cKDTree | None, np.ndarray]] = {}
        self._point_tree: shapely.STRtree | None = None
        self._search = SiteSearch(
            self._site_cols["id"], self._site_cols["name"], self._site_cols["address"]
        )
        self._areas = AreaIndex(
            self._site_cols["municipality"], self._site_cols["address"], self._lat, self._lon
        )
        self._layers = list(layers or [])
        self._zones = ZoneIndex(zones, coverage, self._layers)

    # ----------------------------------------------------------------- metadata

    @property
    def meta(self) -> list[dict[str, Any]]:
        """Layer records: ``layer, kind, source, data_date, attribution, feature_count, bbox``."""
        return [{k: rec.get(k) for k in _META_KEYS} for rec in self._layers]

    @property
    def zones(self) -> ZoneIndex:
        """The hazard zones (polygons ``geoms`` and columns ``cols``, row-aligned)."""
        return self._zones

    @property
    def site_count(self) -> int:
        return self._n_sites

    @property
    def zone_count(self) -> int:
        return len(self._zones)

    # ----------------------------------------------------------------- sites

    def _site(self, i: int) -> Site:
        c = self._site_cols
        return Site(
            id=c["id"][i],
            name=c["name"][i],
            address=c["address"][i],
            municipality=c["municipality"][i],
            lat=float(self._lat[i]),
            lon=float(self._lon[i]),
            hazards=[k for k, flag in zip(HAZARD_KINDS, self._hz[i], strict=True) if flag],
            kind=c["kind"][i],
            same_as_shelter=bool(self._same_shelter[i]),
            remarks=c["remarks"][i],
            layer=c["layer"][i],
            same_as_emergency_site=bool(self._same_emergency[i]),
            target=c["target"][i],
        )

    def _mask(self, kind: str, hazard: str | None) -> np.ndarray:
        if kind == "any":
            mask = np.ones(self._n_sites, dtype=bool)
        elif kind == "shelter":
            mask = (self._kind == "shelter") | (self._kind == "welfare_shelter")
        else:
            mask = self._kind == kind
        if hazard is not None:
            mask &= self._hz[:, HAZARD_KINDS.index(hazard)]
        return mask

    def _tree(self, kind: str, hazard: str | None) -> tuple[cKDTree | None, np.ndarray]:
        key = (kind, hazard)
        hit = self._trees.get(key)
        if hit is None:
            idx = np.flatnonzero(self._mask(kind, hazard))
            tree = cKDTree(self._xyz[idx]) if len(idx) else None
            hit = (tree, idx)
            with self._lock:
                self._trees[key] = hit
        return hit

    def _results(
        self,
        lat: float,
        lon: float,
        order: np.ndarray,
        dist: np.ndarray,
        bearing: np.ndarray,
        hazard: str | None,
    ) -> list[SiteResult]:
        out = []
        for i, d, b in zip(order, dist, bearing, strict=True):
            s = self._site(int(i))
            kinds = (hazard,) if hazard in ZONE_KINDS else (ZONE_KINDS if hazard is None else ())
            zones = [z.to_dict() for z in self._zones.zones_at(s.lat, s.lon) if z.kind in kinds]
            out.append(
                SiteResult(
                    id=s.id,
                    name=s.name,
                    address=s.address,
                    municipality=s.municipality,
                    lat=s.lat,
                    lon=s.lon,
                    distance_m=round(float(d), 1),
                    bearing_deg=round(float(b), 1) % 360.0,  # 359.96 rounds to 0.0, not 360.0
                    hazards=s.hazards,
                    kind=s.kind,
                    same_as_shelter=s.same_as_shelter,
                    in_hazard_zone=zones,
                    remarks=s.remarks,
                    layer=s.layer,
                )
            )
        return out

    def _rank(
        self, lat: float, lon: float, cand: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dist, bearing = geodesic_inv(lat, lon, self._lat[cand], self._lon[cand])
        ids = np.asarray([self._site_cols["id"][i] for i in cand], dtype=object)
        order = np.lexsort((ids, dist)) if len(cand) else np.empty(0, dtype=int)
        return cand[order], dist[order], bearing[order]

    def nearest(
        self,
        lat: float,
        lon: float,
        hazard: str | None = None,
        k: int = 3,
        kind: str = "emergency_site",
    ) -> list[SiteResult]:
        """The ``k`` nearest sites designated for ``hazard`` (any site when None).

        Parameters
        ----------
        lat, lon : float
            Query point, degrees (EPSG:6668 / 4326).
        hazard : str, optional
            One of :data:`gis.models.HAZARD_KINDS`; only sites designated for it.
        k : int
            Number of sites, 1..50.
        kind : str
            ``emergency_site`` (default: 指定緊急避難場所), ``shelter``, ``welfare_shelter`` or
            ``any``.

        Returns
        -------
        list of SiteResult
            Nearest first (geodesic metres, ties by id). ``in_hazard_zone`` lists the zones of
            ``hazard`` (every zone kind when None) that contain the site itself.
        """
        lat, lon = _check_point(lat, lon)
        _check_hazard(hazard)
        _check_kind(kind)
        if not 1 <= int(k) <= MAX_K:
            raise ValueError(f"k must be 1..{MAX_K}")
        k = int(k)
        tree, idx = self._tree(kind, hazard)
        if tree is None:
            return []
        k = min(k, len(idx))
        q = unit_xyz(np.array([lat]), np.array([lon]))[0]
        m = min(len(idx), max(2 * k, k + 8))
        _d, pos = tree.query(q, m)
        pos = np.atleast_1d(pos)
        cand = idx[pos]
        order, dist, _b = self._rank(lat, lon, cand)
        # every site within the k-th geodesic distance lies inside this chord ball
        ball = np.asarray(tree.query_ball_point(q, chord_for_metres(float(dist[k - 1]))), dtype=int)
        if len(ball) > len(cand):
            cand = idx[ball]
        order, dist, bearing = self._rank(lat, lon, cand)
        return self._results(lat, lon, order[:k], dist[:k], bearing[:k], hazard)

    def within(
        self,
        lat: float,
        lon: float,
        radius_m: float,
        hazard: str | None = None,
        kind: str = "emergency_site",
        limit: int | None = None,
    ) -> list[SiteResult]:
        """Sites within ``radius_m`` geodesic metres (nearest first).

        Parameters
        ----------
        lat, lon : float
            Query point, degrees.
        radius_m : float
            Radius in metres, 0 < radius_m <= 100 km.
        hazard, kind : str, optional
            As for :meth:`nearest`.
        limit : int, optional
            Return at most this many.
        """
        lat, lon = _check_point(lat, lon)
        _check_hazard(hazard)
        _check_kind(kind)
        radius_m = float(radius_m)
        if not (0 < radius_m <= MAX_RADIUS_M):
            raise ValueError(f"radius_m must be in (0, {MAX_RADIUS_M:.0f}]")
        tree, idx = self._tree(kind, hazard)
        if tree is None:
            return []
        q = unit_xyz(np.array([lat]), np.array([lon]))[0]
        ball = np.asarray(tree.query_ball_point(q, chord_for_metres(radius_m)), dtype=int)
        if len(ball) == 0:
            return []
        order, dist, bearing = self._rank(lat, lon, idx[ball])
        keep = dist <= radius_m
        order, dist, bearing = order[keep], dist[keep], bearing[keep]
        if limit is not None:
            order, dist, bearing = order[:limit], dist[:limit], bearing[:limit]
        return self._results(lat, lon, order, dist, bearing, hazard)

    def get_site(self, site_id: str) -> Site | None:
        """The site with this 共通ID, or None."""
        i = self._by_id.get(site_id)
        return None if i is None else self._site(i)

    def sites_in_bbox(
        self,
        min_lon: float,
        min_lat: float,
        max_lon: float,
        max_lat: float,
        kind: str | None = None,
        limit: int = 1000,
    ) -> list[Site]:
        """Sites inside a lon/lat box (edges included), ordered by id, at most ``limit``."""
        if kind is not None:
            _check_kind(kind)
        if not (min_lon <= max_lon and min_lat <= max_lat):
            raise ValueError("empty bbox: min must not exceed max")
        if self._point_tree is None:
            tree = shapely.STRtree(shapely.points(self._lon, self._lat))
            with self._lock:
                self._point_tree = tree
        assert self._point_tree is not None
        hits = self._point_tree.query(
            shapely.box(min_lon, min_lat, max_lon, max_lat), predicate="intersects"
        )
        if kind is not None and kind != "any":
            hits = hits[self._mask(kind, None)[hits]]
        hits = sorted(hits.tolist(), key=lambda i: self._site_cols["id"][i])[: max(0, int(limit))]
        return [self._site(i) for i in hits]

    # ----------------------------------------------------------------- zones and search

    def hazards_at(self, lat: float, lon: float) -> HazardAnswer:
        """Every hazard zone containing the point (boundary included), and coverage.

        ``coverage`` lists the zone layers that have zones in the point's ~1 km mesh cell
        (``layer, kind, source, data_date, bbox``): a layer there without a zone at the point
        suggests the point is outside that layer's zones; no coverage means no data, never safety.
        """
        lat, lon = _check_point(lat, lon)
        return self._zones.answer(lat, lon)

    def search_sites(self, text: str, limit: int = 5, kind: str = "any") -> list[SiteMatch]:
        """Fuzzy match a typed shelter name or address against site names and addresses.

        Both sides are normalised (full/half width, spaces, katakana/hiragana, 小学校→小 ...).
        ``score`` is 1.0 for an exact match; ``confident`` is True when the best match is clear
        (score >= 0.9 and well ahead of the next different site); otherwise ask to confirm.
        """
        _check_kind(kind)
        allowed = self._mask(kind, None) if kind != "any" else None
        return [
            SiteMatch(site=self._site(h.row), score=h.score, matched=h.matched, confident=h.confident)
            for h in self._search.match(text, limit, allowed)
        ]

    def warm_search(self) -> None:
        """Build the name search's and the district search's indexes now (about 2.5 s on the
        Hokkaido data) instead of in the first resident's turn that types a place."""
        self._search.match("warm", 1)
        self._areas.find("warm up")

    def find_area(self, text: str) -> Area | None:
        """The district (町名・大字) named in ``text``, located by the centre of the sites whose
        addresses lie in it (:mod:`gis.areas`), or None when no district is named clearly."""
        return self._areas.find(text)


def load_index(cache_dir: str | Path) -> GisIndex:
    """Load the current imported cache into a :class:`GisIndex`.

    Parameters
    ----------
    cache_dir : str or pathlib.Path
        ``settings.gis_cache_dir``.

    Raises
    ------
    CacheMissingError
        When nothing was imported (run ``bosai data import``).
    """
    gen = current_dir(cache_dir)
    if gen is None:
        raise CacheMissingError(f"no GIS cache at {cache_dir}; run `bosai data import`")
    manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    sites = gpd.read_parquet(gen / "sites.parquet")
    zones = gpd.read_parquet(gen / "zones.parquet")
    coverage = pd.read_parquet(gen / "coverage.parquet")
    return GisIndex(sites, zones, coverage, manifest.get("layers", []))
