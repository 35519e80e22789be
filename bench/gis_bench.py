"""GIS benchmark: prints import/load times, memory and per-query latency (p50/p95).

    flock /tmp/bosai-heavy.lock .venv/bin/python bench/gis_bench.py [--data ../shared/data]
        [--sites 150000] [--zones 1000000] [--queries 2000]

1. Real data (the shared folder): import time of all Hokkaido sites and of the default set, cache
   load time and memory, nearest-site latency on Hokkaido, point-in-zone latency on the real
   hazard zones (Numazu/Fukuoka: the shared data has no Hokkaido zones), each against a naive
   full scan (vectorised geodesic distance to every site / intersects test on every polygon).
2. Synthetic national scale: 150,000 sites and 1,000,000 zone polygons generated here, the same
   queries and the same naive scans.

Prints figures; it is not a test and asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gis.geo import geodesic_inv  # noqa: E402
from gis.models import HAZARD_KINDS  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def pct(samples: list[float]) -> tuple[float, float]:
    a = np.asarray(samples) * 1000.0
    return float(np.percentile(a, 50)), float(np.percentile(a, 95))


def timed(fn, args_list) -> list[float]:
    out = []
    for args in args_list:
        t0 = time.perf_counter()
        fn(*args)
        out.append(time.perf_counter() - t0)
    return out


def report(label: str, fast: list[float], naive: list[float] | None = None) -> None:
    p50, p95 = pct(fast)
    line = f"  {label:<44} p50 {p50:8.3f} ms   p95 {p95:8.3f} ms"
    if naive:
        n50, _n95 = pct(naive)
        line += f"   naive p50 {n50:8.3f} ms   ratio x{n50 / p50:,.0f}"
    print(line)


def bench_index(
    idx, lats, lons, hazards, zone_pts, site_lat, site_lon, site_hz, zone_geoms, n_naive
):
    import shapely

    q_near = [(lat, lon, hz) for lat, lon, hz in zip(lats, lons, hazards, strict=True)]
    # warm-up builds the lazy per-filter trees
    for hz in [None, *HAZARD_KINDS]:
        idx.nearest(float(lats[0]), float(lons[0]), hazard=hz, k=3)
    fast = timed(lambda la, lo, hz: idx.nearest(la, lo, hazard=hz, k=3), q_near)

    def naive_nearest(la, lo, hz):
        if hz is None:
            sel = np.arange(len(site_lat))
        else:
            sel = np.flatnonzero(site_hz[:, HAZARD_KINDS.index(hz)])
        d, _b = geodesic_inv(la, lo, site_lat[sel], site_lon[sel])
        return sel[np.argpartition(d, min(3, len(d) - 1))[:3]]

    naive = timed(naive_nearest, q_near[:n_naive])
    report("nearest k=3 (random hazard filter)", fast, naive)
    fast = timed(lambda la, lo: idx.hazards_at(la, lo), zone_pts)

    def naive_zone(la, lo):
        return np.flatnonzero(shapely.intersects(zone_geoms, shapely.Point(lo, la)))

    naive = timed(naive_zone, zone_pts[:n_naive])
    report("point-in-zone (hazards_at)", fast, naive)


def real_data(data: Path, n_queries: int) -> None:
    from gis.importer import import_data
    from gis.service import load_index

    print(f"== real data: {data}")
    with tempfile.TemporaryDirectory() as tmp:
        hk = [
            data / "gsi" / "emergency_sites_hokkaido.geojson",
            data / "gsi" / "designated_shelters_hokkaido.geojson",
        ]
        t0 = time.perf_counter()
        m = import_data([str(p) for p in hk], Path(tmp) / "hk")
        print(
            f"  import all Hokkaido sites ({m['counts']['sites']:,}): {time.perf_counter() - t0:.2f} s"
        )
        t0 = time.perf_counter()
        m = import_data([str(data)], Path(tmp) / "all")
        print(
            f"  import default set ({m['counts']['sites']:,} sites, {m['counts']['zones']:,} zones): "
            f"{time.perf_counter() - t0:.2f} s"
        )
        # cache load in a fresh interpreter (what a server start pays), incl. module imports
        code = (
            "import time,sys;t0=time.perf_counter();"
            "from gis.service import load_index;t1=time.perf_counter();"
            f"idx=load_index({str(Path(tmp) / 'all')!r});t2=time.perf_counter();"
            "idx.nearest(43.0,141.3);t3=time.perf_counter();"
            "rss=[l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1];"
            "print(f'{t1-t0:.3f} {t2-t1:.3f} {t3-t2:.4f} {int(rss)/1024:.0f}')"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
        )
        imp_s, load_s, first_s, rss = out.stdout.split()
        print(
            f"  cache load in a fresh process: load_index {load_s} s (+ module imports {imp_s} s, "
            f"first query {first_s} s), process RSS {rss} MB"
        )
        before = rss_mb()
        idx = load_index(Path(tmp) / "all")
        print(f"  index memory (RSS delta in this process): {rss_mb() - before:.0f} MB")
    rng = np.random.default_rng(1)
    lats = rng.uniform(41.4, 45.5, n_queries)
    lons = rng.uniform(139.4, 145.8, n_queries)
    hazards = rng.choice(np.array([None, *HAZARD_KINDS], dtype=object), n_queries)
    site_lat, site_lon, site_hz = idx._lat, idx._lon, idx._hz
    zone_geoms = idx.zones.geoms
    # half of the zone queries fall inside a zone, half at random in the mapped cities
    pts = []
    for j in rng.integers(0, len(zone_geoms), n_queries // 2):
        p = zone_geoms[j].representative_point()
        pts.append((p.y, p.x))
    pts += list(
        zip(
            rng.uniform(35.05, 35.18, n_queries // 4),
            rng.uniform(138.77, 138.92, n_queries // 4),
            strict=True,
        )
    )
    pts += list(
        zip(
            rng.uniform(33.55, 33.88, n_queries // 4),
            rng.uniform(130.03, 130.45, n_queries // 4),
            strict=True,
        )
    )
    print(
        f"  queries: {n_queries} nearest on Hokkaido ({idx.site_count:,} sites), {len(pts)} point-in-zone ({idx.zone_count} zones)"
    )
    bench_index(
        idx, lats, lons, hazards, pts, site_lat, site_lon, site_hz, zone_geoms, min(300, n_queries)
    )


def synthetic(n_sites: int, n_zones: int, n_queries: int) -> None:
    import geopandas as gpd
    import pandas as pd
    import shapely

    from gis.service import GisIndex
    from gis.sources import SITE_COLUMNS, ZONE_COLUMNS

    print(f"== synthetic national scale: {n_sites:,} sites, {n_zones:,} zone polygons")
    rng = np.random.default_rng(42)
    # population-like clusters over Japan's main islands
    centres = np.array(
        [
            (43.06, 141.35),
            (38.27, 140.87),
            (35.68, 139.77),
            (35.18, 136.91),
            (34.69, 135.50),
            (34.39, 132.46),
            (33.59, 130.40),
            (31.60, 130.56),
            (26.21, 127.68),
            (36.56, 136.66),
            (37.90, 139.02),
            (33.56, 133.53),
            (39.70, 141.15),
            (40.82, 140.74),
            (42.98, 144.38),
        ]
    )
    t0 = time.perf_counter()
    c = centres[rng.integers(0, len(centres), n_sites)]
    s_lat = c[:, 0] + rng.normal(0, 0.6, n_sites)
    s_lon = c[:, 1] + rng.normal(0, 0.8, n_sites)
    hz = rng.random((n_sites, len(HAZARD_KINDS))) < 0.4
    df = pd.DataFrame({col: "" for col in SITE_COLUMNS}, index=range(n_sites))
    df["id"] = [f"S{i:07d}" for i in range(n_sites)]
    df["name"] = df["id"]
    df["kind"] = "emergency_site"
    df["same_as_shelter"] = False
    df["same_as_emergency_site"] = False
    for j, k in enumerate(HAZARD_KINDS):
        df[f"hz_{k}"] = hz[:, j]
    df["lat"], df["lon"] = s_lat, s_lon
    sites = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(s_lon, s_lat), crs="EPSG:6668")
    c = centres[rng.integers(0, len(centres), n_zones)]
    z_lat = c[:, 0] + rng.normal(0, 0.5, n_zones)
    z_lon = c[:, 1] + rng.normal(0, 0.7, n_zones)
    size = rng.uniform(0.0005, 0.004, n_zones)  # about 50-400 m squares, overlapping in cities
    geoms = shapely.box(z_lon, z_lat, z_lon + size, z_lat + size)
    kinds = np.array(["flood", "landslide", "tsunami", "storm_surge", "inland_flood"])[
        rng.integers(0, 5, n_zones)
    ]
    zdf = pd.DataFrame({col: None for col in ZONE_COLUMNS}, index=range(n_zones))
    zdf["kind"] = kinds
    zdf["level"] = rng.integers(1, 6, n_zones)
    zdf["label"] = "synthetic"
    zdf["source"] = "synthetic"
    zdf["layer"] = "synthetic"
    zones = gpd.GeoDataFrame(zdf, geometry=geoms, crs="EPSG:6668")
    print(f"  generated in {time.perf_counter() - t0:.1f} s")
    gc.collect()
    before = rss_mb()
    t0 = time.perf_counter()
    idx = GisIndex(sites, zones)
    print(
        f"  index build {time.perf_counter() - t0:.2f} s, RSS delta {rss_mb() - before:.0f} MB (process {rss_mb():.0f} MB)"
    )
    q = rng.integers(0, len(centres), n_queries)
    lats = centres[q, 0] + rng.normal(0, 0.6, n_queries)
    lons = centres[q, 1] + rng.normal(0, 0.8, n_queries)
    hazards = rng.choice(np.array([None, *HAZARD_KINDS], dtype=object), n_queries)
    pts = [
        (float(z_lat[j] + size[j] / 2), float(z_lon[j] + size[j] / 2))
        for j in rng.integers(0, n_zones, n_queries // 2)
    ]
    pts += list(zip(lats[: n_queries // 2].tolist(), lons[: n_queries // 2].tolist(), strict=True))
    bench_index(idx, lats, lons, hazards, pts, s_lat, s_lon, hz, np.asarray(geoms), 50)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--sites", type=int, default=150_000)
    ap.add_argument("--zones", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--skip-synthetic", action="store_true")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    if (args.data / "gsi").is_dir():
        real_data(args.data, args.queries)
    else:
        print(f"(no real data at {args.data})")
    if not args.skip_synthetic:
        synthetic(args.sites, args.zones, args.queries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
