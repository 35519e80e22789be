"""Queries against an independent brute-force computation, and the geometric edge cases."""

from __future__ import annotations

import json
import zlib
from collections import Counter
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import shape

from gis.models import GSI_FLAG_COLUMNS, HAZARD_KINDS
from gis.service import GisIndex
from gis.sources import SITE_COLUMNS, ZONE_COLUMNS

GEOD = Geod(ellps="GRS80")


@lru_cache(maxsize=8)
def _features(path: str) -> list[dict]:
    return json.loads(Path(path).read_text("utf-8"))["features"]


def _brute(features: list[dict], lat: float, lon: float, hazard: str | None) -> dict[str, float]:
    """Geodesic distance from (lat, lon) to every site designated for ``hazard``."""
    feats = [
        f for f in features if hazard is None or f["properties"][GSI_FLAG_COLUMNS[hazard]] == "1"
    ]
    if not feats:
        return {}
    lons = np.array([f["geometry"]["coordinates"][0] for f in feats])
    lats = np.array([f["geometry"]["coordinates"][1] for f in feats])
    _az, _baz, dist = GEOD.inv(np.full(len(feats), lon), np.full(len(feats), lat), lons, lats)
    return {f["properties"]["共通ID"]: float(d) for f, d in zip(feats, dist, strict=True)}


def _hokkaido_points(n: int, seed: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    return list(zip(rng.uniform(41.3, 45.6, n), rng.uniform(139.3, 145.9, n), strict=True))


# --------------------------------------------------------------------------- nearest / within


@pytest.mark.parametrize("hazard", [None, *HAZARD_KINDS])
def test_nearest_equals_brute_force_hokkaido(real_index, data_root, hazard):
    features = [f for f in _features(str(data_root / "gsi" / "emergency_sites_hokkaido.geojson"))]
    # the index also holds Numazu/Fukuoka sites; far from Hokkaido they never rank, but include
    # them in the reference so the comparison is over the same set
    for extra in (
        "emergency_sites_222038_numazu.geojson",
        "emergency_sites_401307_fukuoka.geojson",
    ):
        features = features + _features(str(data_root / "gsi" / extra))
    for lat, lon in _hokkaido_points(40, seed=zlib.crc32(str(hazard).encode()) % 1000):
        k = 5
        ref = _brute(features, lat, lon, hazard)
        got = real_index.nearest(lat, lon, hazard=hazard, k=k)
        expected = sorted(ref.values())[:k]
        assert [r.distance_m for r in got] == pytest.approx(expected, abs=0.06)
        assert len({r.id for r in got}) == len(got)
        for r in got:
            assert r.distance_m == pytest.approx(ref[r.id], abs=0.06)
            assert r.kind == "emergency_site"
            if hazard:
                assert hazard in r.hazards
            assert 0 <= r.bearing_deg < 360


def test_bearing_just_west_of_north_is_below_360(real_index, data_root):
    """A bearing of 359.96 degrees rounds to 0.0, never to 360.0."""
    f = _features(str(data_root / "gsi" / "emergency_sites_hokkaido.geojson"))[100]
    lon, lat = f["geometry"]["coordinates"]
    results = real_index.within(lat - 0.01, lon + 0.000005, radius_m=1500)
    (site,) = [r for r in results if r.id == f["properties"]["共通ID"]]
    assert 0 <= site.bearing_deg < 360
    assert site.bearing_deg in (0.0, 359.9)


def test_nearest_bearing_and_self(real_index, data_root):
    f = _features(str(data_root / "gsi" / "emergency_sites_hokkaido.geojson"))[100]
    lon, lat = f["geometry"]["coordinates"]
    (r,) = real_index.nearest(lat, lon, k=1)
    assert r.distance_m == 0.0
    az, _b, _d = GEOD.inv(lon, lat, lon + 0.01, lat)
    east = real_index.nearest(lat, lon - 0.01, k=1)[0]
    if east.id == r.id or east.lat == lat:
        assert east.bearing_deg == pytest.approx(az % 360, abs=0.5)


def test_within_equals_brute_force(real_index, data_root):
    features = _features(str(data_root / "gsi" / "emergency_sites_hokkaido.geojson"))
    for lat, lon in _hokkaido_points(25, seed=7) + [(43.0621, 141.3544), (41.7687, 140.7288)]:
        for radius in (500.0, 3000.0, 20000.0):
            ref = {i for i, d in _brute(features, lat, lon, "tsunami").items() if d <= radius}
            got = real_index.within(lat, lon, radius, hazard="tsunami")
            assert {r.id for r in got} == ref
            assert [r.distance_m for r in got] == sorted(r.distance_m for r in got)


def test_points_at_sea_and_edges(real_index, data_root):
    features = _features(str(data_root / "gsi" / "emergency_sites_hokkaido.geojson"))
    lats = [f["geometry"]["coordinates"][1] for f in features]
    lons = [f["geometry"]["coordinates"][0] for f in features]
    edges = [
        (max(lats), lons[int(np.argmax(lats))] + 0.2),  # north of the northernmost site, at sea
        (min(lats) - 0.3, lons[int(np.argmin(lats))]),  # south of the southernmost site
        (lats[int(np.argmax(lons))], max(lons) + 0.5),  # east of the easternmost site
        (42.0, 143.8),  # Pacific off Tokachi
        (44.0, 139.5),  # Sea of Japan
    ]
    for lat, lon in edges:
        ref = _brute(
            features + _features(str(data_root / "gsi" / "emergency_sites_222038_numazu.geojson")),
            lat,
            lon,
            None,
        )
        got = real_index.nearest(lat, lon, k=3)
        assert [r.distance_m for r in got] == pytest.approx(sorted(ref.values())[:3], abs=0.06)
        assert real_index.hazards_at(lat, lon).zones == []


def test_empty_results(real_index):
    # 1 m around a point at sea: nothing
    assert real_index.within(42.0, 143.8, 1.0) == []
    answer = real_index.hazards_at(42.0, 143.8)
    assert answer.zones == [] and answer.coverage == []
    assert answer.loaded_layers and any("not safety" in n for n in answer.notes)
    assert real_index.search_sites("") == []
    assert real_index.get_site("E0000000000000") is None


def test_validation(real_index):
    with pytest.raises(ValueError):
        real_index.nearest(43.0, 141.0, k=0)
    with pytest.raises(ValueError):
        real_index.nearest(43.0, 141.0, k=51)
    with pytest.raises(ValueError):
        real_index.nearest(43.0, 141.0, hazard="meteor")
    with pytest.raises(ValueError):
        real_index.within(43.0, 141.0, radius_m=-1)
    with pytest.raises(ValueError):
        real_index.nearest(float("nan"), 141.0)


def test_kinds_and_lookup(real_index, data_root):
    feats = _features(str(data_root / "gsi" / "designated_shelters_hokkaido.geojson"))
    f = next(x for x in feats if x["properties"]["共通ID"][11:13] == "12")
    lon, lat = f["geometry"]["coordinates"]
    got = real_index.nearest(lat, lon, k=1, kind="welfare_shelter")
    assert got[0].kind == "welfare_shelter" and got[0].distance_m < 1.0
    assert all(
        r.kind in ("shelter", "welfare_shelter")
        for r in real_index.nearest(lat, lon, k=10, kind="shelter")
    )
    site = real_index.get_site(f["properties"]["共通ID"])
    assert site is not None and site.name == f["properties"]["施設・場所名"]
    box = real_index.sites_in_bbox(lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05, kind="any")
    assert site.id in {s.id for s in box}
    assert all(lon - 0.05 <= s.lon <= lon + 0.05 and lat - 0.05 <= s.lat <= lat + 0.05 for s in box)
    ref = sum(
        1
        for x in _features(str(data_root / "gsi" / "emergency_sites_hokkaido.geojson"))
        if lon - 0.05 <= x["geometry"]["coordinates"][0] <= lon + 0.05
        and lat - 0.05 <= x["geometry"]["coordinates"][1] <= lat + 0.05
    )
    assert (
        len(
            real_index.sites_in_bbox(
                lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05, kind="emergency_site"
            )
        )
        == ref
    )
    assert len(real_index.sites_in_bbox(139, 41, 146, 46, limit=7)) == 7


# --------------------------------------------------------------------------- hazard zones (real)


def _zone_files(data_root: Path) -> list[Path]:
    return sorted((data_root / "hazard").rglob("*.geojson"))


def test_hazards_at_equals_brute_force(real_index, data_root):
    zones = []
    for path in _zone_files(data_root):
        for f in _features(str(path)):
            zones.append((path.stem, shape(f["geometry"])))
    rng = np.random.default_rng(11)
    pts = list(zip(rng.uniform(35.05, 35.18, 150), rng.uniform(138.77, 138.92, 150), strict=True))
    pts += list(zip(rng.uniform(33.55, 33.88, 100), rng.uniform(130.03, 130.45, 100), strict=True))
    # points inside zones too (representative points of every 5th zone)
    for _layer, g in zones[::5]:
        p = g.representative_point()
        pts.append((p.y, p.x))
    hits = 0
    for lat, lon in pts:
        ref = Counter(layer for layer, g in zones if g.intersects(shapely.Point(lon, lat)))
        answer = real_index.hazards_at(lat, lon)
        assert Counter(z.layer for z in answer.zones) == ref
        hits += bool(ref)
        # a layer with a zone here always shows in coverage
        assert set(ref) <= {c["layer"] for c in answer.coverage}
    assert hits > 50


def test_named_sediment_zone(real_index, data_root):
    path = data_root / "hazard" / "numazu" / "numazu_lsld_sediment_zones.geojson"
    for f in _features(str(path))[:40]:
        p = shape(f["geometry"]).representative_point()
        answer = real_index.hazards_at(p.y, p.x)
        mine = [z for z in answer.zones if z.layer == path.stem]
        assert f["properties"]["A33_005"] in {z.name for z in mine}
        assert all(
            z.kind == "landslide" and z.phenomenon in ("steep_slope", "debris_flow") for z in mine
        )


def _zone_kind_from_name(path: Path) -> str:
    name = path.name
    return "tsunami" if "tnm" in name else "flood" if "fld" in name else "landslide"


@pytest.mark.parametrize("hazard", ["tsunami", "flood", "landslide"])
def test_site_in_hazard_zone_flag(real_index, data_root, hazard):
    zones = [
        shape(f["geometry"])
        for path in _zone_files(data_root)
        if _zone_kind_from_name(path) == hazard
        for f in _features(str(path))
    ]
    tree = shapely.STRtree(zones)
    flagged = 0
    for name in ("emergency_sites_222038_numazu.geojson", "emergency_sites_401307_fukuoka.geojson"):
        for f in _features(str(data_root / "gsi" / name)):
            if f["properties"][GSI_FLAG_COLUMNS[hazard]] != "1":
                continue
            lon, lat = f["geometry"]["coordinates"]
            inside = any(
                zones[j].intersects(shapely.Point(lon, lat))
                for j in tree.query(shapely.Point(lon, lat))
            )
            res = {r.id: r for r in real_index.nearest(lat, lon, hazard=hazard, k=5)}
            r = res[f["properties"]["共通ID"]]
            assert bool(r.in_hazard_zone) == inside
            assert all(z["kind"] == hazard for z in r.in_hazard_zone)
            flagged += inside
    # in the shared data, three landslide sites in Numazu lie inside sediment zones
    if hazard == "landslide":
        assert flagged > 0


def test_search_sites(real_index, data_root):
    feats = _features(str(data_root / "gsi" / "emergency_sites_hokkaido.geojson"))
    rng = np.random.default_rng(3)
    from gis.text import normalise_name

    width = str.maketrans("0123456789", "０１２３４５６７８９")
    for i in rng.choice(len(feats), 40, replace=False):
        name = feats[i]["properties"]["施設・場所名"]
        typed = name.replace("小学校", "小").replace("中学校", " 中").translate(width)
        got = real_index.search_sites(typed, limit=3)
        assert got and got[0].score == 1.0
        assert normalise_name(got[0].site.name) == normalise_name(name)
    # a partial, misspelt name is found but not confidently
    got = real_index.search_sites("もみじ台中がっこう")
    assert got and not got[0].confident


# --------------------------------------------------------------------------- hand-built geometry


def _sites(rows: list[dict]) -> gpd.GeoDataFrame:
    base = {c: "" for c in SITE_COLUMNS}
    base.update({f"hz_{k}": False for k in HAZARD_KINDS})
    base.update(
        {"same_as_shelter": False, "same_as_emergency_site": False, "kind": "emergency_site"}
    )
    df = pd.DataFrame([base | r for r in rows])
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:6668")


def _zones(rows: list[dict]) -> gpd.GeoDataFrame:
    base = {c: None for c in ZONE_COLUMNS}
    df = pd.DataFrame([base | {k: v for k, v in r.items() if k != "geometry"} for r in rows])
    return gpd.GeoDataFrame(df, geometry=[r["geometry"] for r in rows], crs="EPSG:6668")


@pytest.fixture()
def tiny() -> GisIndex:
    sites = _sites(
        [
            {"id": "A", "name": "高台公園", "lat": 33.505, "lon": 133.505, "hz_tsunami": True},
            {
                "id": "B",
                "name": "浜小学校",
                "lat": 33.5015,
                "lon": 133.5015,
                "hz_tsunami": True,
                "hz_flood": True,
            },
            {"id": "C", "name": "山の上", "lat": 33.60, "lon": 133.60, "hz_flood": True},
        ]
    )
    zones = _zones(
        [
            {
                "kind": "tsunami",
                "level": 2,
                "label": "0.5〜3.0m",
                "depth_min_m": 0.5,
                "depth_max_m": 3.0,
                "layer": "t",
                "source": "test",
                "geometry": shapely.box(133.50, 33.50, 133.51, 33.51),
            },
            {
                "kind": "tsunami",
                "level": 3,
                "label": "3.0〜5.0m",
                "depth_min_m": 3.0,
                "depth_max_m": 5.0,
                "layer": "t2",
                "source": "test",
                "geometry": shapely.box(133.50, 33.50, 133.503, 33.503),
            },
            {
                "kind": "flood",
                "level": 1,
                "label": "0.5m未満",
                "river": "鏡川",
                "layer": "f",
                "source": "test",
                "geometry": shapely.box(133.50, 33.50, 133.502, 33.502),
            },
        ]
    )
    return GisIndex(sites, zones)


def test_point_on_boundary_counts_as_inside(tiny):
    on_edge = tiny.hazards_at(33.51, 133.505)  # top edge of zone "t"
    assert [z.layer for z in on_edge.zones] == ["t"]
    corner = tiny.hazards_at(33.50, 133.50)  # shared corner of all three
    assert sorted(z.layer for z in corner.zones) == ["f", "t", "t2"]
    just_out = tiny.hazards_at(33.5101, 133.505)
    assert just_out.zones == []


def test_overlapping_zones(tiny):
    answer = tiny.hazards_at(33.501, 133.501)
    assert [(z.kind, z.level) for z in answer.zones] == [
        ("flood", 1),
        ("tsunami", 3),
        ("tsunami", 2),
    ]
    flood = answer.zones[0]
    assert flood.river == "鏡川" and flood.depth_max_m is None and flood.label == "0.5m未満"


def test_in_hazard_zone_only_for_requested_hazard(tiny):
    res = {r.id: r for r in tiny.nearest(33.5, 133.5, hazard="tsunami", k=2)}
    assert [z["layer"] for z in res["B"].in_hazard_zone] == ["t2", "t"]  # deepest first
    assert [z["layer"] for z in res["A"].in_hazard_zone] == ["t"]
    res = {r.id: r for r in tiny.nearest(33.5, 133.5, hazard="flood", k=2)}
    assert [z["kind"] for z in res["B"].in_hazard_zone] == ["flood"]
    assert res["C"].in_hazard_zone == []
    assert tiny.nearest(33.5, 133.5, hazard="volcano") == []


def test_index_requires_crs():
    sites = _sites([{"id": "A", "name": "x", "lat": 33.5, "lon": 133.5}]).set_crs(
        None, allow_override=True
    )
    with pytest.raises(ValueError):
        GisIndex(sites, _zones([]).set_crs("EPSG:6668"))
