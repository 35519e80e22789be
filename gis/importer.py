"""Import open data into the local GIS cache (GeoParquet + manifest JSON), atomically.

Cache layout (``cache_dir`` is ``settings.gis_cache_dir``, git-ignored)::

    cache_dir/current -> gen-20251126T101500-1234   (symlink, swapped atomically)
    cache_dir/gen-.../sites.parquet      all sites, EPSG:6668 points
    cache_dir/gen-.../zones.parquet      all hazard zones, EPSG:6668 polygons
    cache_dir/gen-.../coverage.parquet   per zone layer, the ~1 km mesh cells it has zones in
    cache_dir/gen-.../manifest.json      sources (size, mtime, sha256) and layer records

An import reads and validates every source first; when any problem is found nothing is written
(:class:`~gis.errors.DataImportError`). Otherwise it writes a new generation folder and swaps the
``current`` link with :func:`os.replace`, so readers never see a partial cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.errors import DataImportError, Problem
from gis.geo import STORAGE_CRS
from gis.readers import SITE_COLUMNS, SUPPORTED_SUFFIXES, ZONE_COLUMNS, LayerData, read_source

__all__ = [
    "SCHEMA_VERSION",
    "MESH_LAT_STEPS",
    "MESH_LON_STEPS",
    "default_sources",
    "expand_sources",
    "import_data",
    "import_if_stale",
    "is_stale",
    "read_manifest",
    "current_dir",
    "mesh_key",
]

SCHEMA_VERSION = 1
#: Coverage cells: the JIS X 0410 third-level standard mesh (30" x 45", about 1 km).
MESH_LAT_STEPS = 120
MESH_LON_STEPS = 80
_SKIP_DIRS = {"raw", "codelists", "ksj_codelists", "__pycache__"}

_FALLBACK_ATTRIBUTION = {
    "gsi": "出典：国土地理院「指定緊急避難場所データ」「指定避難所データ」を加工して作成",
    "plateau": "出典：3D都市モデル（Project PLATEAU）（国土交通省）を加工して作成",
    "ksj": "出典：国土数値情報（国土交通省）を加工して作成",
}
_ATTRIBUTION_KEYWORD = {"gsi": "国土地理院", "plateau": "PLATEAU", "ksj": "国土数値情報"}


def mesh_key(lat: np.ndarray | float, lon: np.ndarray | float) -> np.ndarray:
    """Integer key of the third-level mesh cell holding each (lat, lon)."""
    i = np.floor(np.asarray(lat, dtype="float64") * MESH_LAT_STEPS).astype("int64")
    j = np.floor(np.asarray(lon, dtype="float64") * MESH_LON_STEPS).astype("int64")
    return i * 100_000 + j


# --------------------------------------------------------------------------- sources


def default_sources(data_source: str | os.PathLike[str]) -> list[Path]:
    """The default set in the shared data folder: GSI GeoJSON sites and hazard GeoJSONs.

    The GSI CSV copies under ``gsi/csv`` repeat the GeoJSON content and are left out.
    """
    root = Path(data_source)
    files = sorted((root / "gsi").glob("*.geojson"))
    hazard = root / "hazard"
    if hazard.is_dir():
        files += sorted(
            p
            for p in hazard.rglob("*")
            if p.suffix.lower() in SUPPORTED_SUFFIXES
            and p.is_file()
            and not (_SKIP_DIRS & set(p.relative_to(hazard).parts[:-1]))
        )
    return files


def _is_url(text: str) -> bool:
    return urllib.parse.urlparse(text).scheme in ("http", "https")


def _download(url: str, folder: Path) -> Path:
    name = Path(urllib.parse.urlparse(url).path).name or "download"
    target = folder / name
    with urllib.request.urlopen(url, timeout=60) as resp, open(target, "wb") as fh:  # noqa: S310
        shutil.copyfileobj(resp, fh)
    return target


def expand_sources(
    items: Iterable[str | os.PathLike[str]], download_dir: Path | None = None
) -> list[tuple[str, Path]]:
    """Resolve arguments into ``(source label, local file)`` pairs.

    A directory that looks like the shared data folder (``gsi/`` and ``hazard/``) gives its
    :func:`default_sources`; any other directory gives every supported file under it (``raw``
    and ``codelists`` folders skipped). URLs are downloaded into ``download_dir``.
    """
    out: list[tuple[str, Path]] = []
    for item in items:
        text = str(item)
        if _is_url(text):
            if download_dir is None:
                raise ValueError("download_dir needed for URLs")
            out.append((text, _download(text, download_dir)))
            continue
        path = Path(text).expanduser().resolve()
        if path.is_dir():
            if (path / "gsi").is_dir() and (path / "hazard").is_dir():
                files = default_sources(path)
            else:
                files = sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and p.suffix.lower() in SUPPORTED_SUFFIXES
                    and not (_SKIP_DIRS & set(p.relative_to(path).parts[:-1]))
                )
            out.extend((str(p), p) for p in files)
        else:
            out.append((str(path), path))
    return out


def _fingerprint(path: Path, with_hash: bool = True) -> dict[str, Any]:
    st = path.stat()
    record: dict[str, Any] = {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    if with_hash:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        record["sha256"] = h.hexdigest()
    return record


def _related_files(path: Path) -> list[Path]:
    """A shapefile's sidecars (.dbf, .shx, .prj, .cpg) and a manifest's data file."""
    if path.suffix.lower() == ".shp":
        return sorted(p for p in path.parent.glob(path.stem + ".*") if p != path)
    return []


# --------------------------------------------------------------------------- README metadata


def _readme_lines(path: Path) -> list[str]:
    for parent in list(path.parents)[:4]:
        readme = parent / "README.md"
        if readme.is_file():
            try:
                return readme.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                return []
    return []


def _family(layer: LayerData) -> str:
    if layer.family == "sites":
        return "gsi"
    sources = " ".join(layer.gdf["source"].dropna().astype(str).unique()[:5])
    return "plateau" if "PLATEAU" in sources else "ksj"


def _fill_metadata(layer: LayerData, path: Path) -> None:
    family = _family(layer)
    if layer.attribution is None:
        keyword = _ATTRIBUTION_KEYWORD[family]
        lines = [ln.strip().lstrip("-* ").strip() for ln in _readme_lines(path)]
        found = next((ln for ln in lines if ln.startswith("出典") and keyword in ln), None)
        layer.attribution = found or _FALLBACK_ATTRIBUTION[family]
    if layer.data_date is None:
        m = re.search(r"(\d{4})年(\d{1,2})月(\d{1,2})日取得", layer.attribution or "")
        if m:
            layer.data_date = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
            layer.data_date_basis = "attribution (retrieval date)"
        else:
            mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
            layer.data_date = mtime.date().isoformat()
            layer.data_date_basis = "file modification time"


# --------------------------------------------------------------------------- import


def _coverage_cells(gdf: gpd.GeoDataFrame) -> np.ndarray:
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


def _bbox(gdf: gpd.GeoDataFrame) -> list[float] | None:
    if len(gdf) == 0:
        return None
    return [round(float(v), 6) for v in gdf.total_bounds]


def _layer_record(layer: LayerData, source: str) -> dict[str, Any]:
    return {
        "layer": layer.layer,
        "family": layer.family,
        "kind": layer.kind,
        "source": source,
        "file": layer.source,
        "format": layer.format,
        "encoding": layer.encoding,
        "crs_in": layer.crs_in,
        "data_date": layer.data_date,
        "data_date_basis": layer.data_date_basis,
        "attribution": layer.attribution,
        "feature_count": int(len(layer.gdf)),
        "bbox": _bbox(layer.gdf),
        "repaired_geometries": layer.repaired,
        "warnings": list(layer.warnings),
    }


def read_sources(
    sources: list[tuple[str, Path]], log: Callable[[str], None] | None = None
) -> tuple[list[tuple[str, LayerData]], list[Problem]]:
    """Read and validate every source; never raises for data problems (returns them)."""
    layers: list[tuple[str, LayerData]] = []
    problems: list[Problem] = []
    for label, path in sources:
        t0 = time.perf_counter()
        got, probs = read_source(path)
        problems.extend(probs)
        for layer in got:
            _fill_metadata(layer, path)
            layers.append((label, layer))
            if log:
                log(
                    f"read {layer.layer}: {len(layer.gdf)} {layer.family} ({time.perf_counter() - t0:.2f}s)"
                )
    names: dict[str, str] = {}
    for label, layer in layers:
        if layer.layer in names:
            base = layer.layer
            n = 2
            while f"{base}_{n}" in names:
                n += 1
            layer.layer = f"{base}_{n}"
            layer.gdf["layer"] = layer.layer
        names[layer.layer] = label
    # site ids must be unique across layers
    seen: dict[str, str] = {}
    for _label, layer in layers:
        if layer.family != "sites":
            continue
        for i, sid in enumerate(layer.gdf["id"].tolist()):
            if sid in seen and seen[sid] != layer.layer:
                problems.append(
                    Problem(
                        layer.source, f"feature/row {i}", f"site id {sid} also in layer {seen[sid]}"
                    )
                )
            seen.setdefault(sid, layer.layer)
    return layers, problems


def import_data(
    items: Iterable[str | os.PathLike[str]],
    cache_dir: str | os.PathLike[str],
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Import files/folders/URLs into ``cache_dir``, replacing the previous cache atomically.

    Parameters
    ----------
    items : iterable of str or path
        Files, folders or http(s) URLs (see :func:`expand_sources`).
    cache_dir : str or path
        The cache folder (created when missing).
    log : callable, optional
        Receives progress lines.

    Returns
    -------
    dict
        The manifest written.

    Raises
    ------
    DataImportError
        When any source has a problem; the existing cache is left untouched.
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="download-", dir=cache) as dl:
        try:
            sources = expand_sources(items, Path(dl))
        except OSError as exc:
            raise DataImportError(
                [Problem(str(getattr(exc, "filename", "") or "source"), None, str(exc))]
            ) from exc
        if not sources:
            raise DataImportError(
                [Problem(", ".join(map(str, items)) or "(none)", None, "no input files")]
            )
        t0 = time.perf_counter()
        layers, problems = read_sources(sources, log)
        if problems:
            raise DataImportError(problems)
        site_layers = [ly for _, ly in layers if ly.family == "sites"]
        zone_layers = [ly for _, ly in layers if ly.family == "zones"]
        sites = _concat([ly.gdf for ly in site_layers], SITE_COLUMNS)
        zones = _concat([ly.gdf for ly in zone_layers], ZONE_COLUMNS)
        cov_rows = [
            pd.DataFrame({"layer": ly.layer, "kind": ly.kind, "cell": _coverage_cells(ly.gdf)})
            for ly in zone_layers
        ]
        coverage = (
            pd.concat(cov_rows, ignore_index=True)
            if cov_rows
            else pd.DataFrame(
                {
                    "layer": pd.Series(dtype=str),
                    "kind": pd.Series(dtype=str),
                    "cell": pd.Series(dtype="int64"),
                }
            )
        )
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "crs": STORAGE_CRS,
            "coverage_mesh": "JIS X 0410 third-level mesh (30 x 45 arc-seconds)",
            "sources": [
                _fingerprint(p)
                | {"source": label, "related": [_fingerprint(r) for r in _related_files(p)]}
                for label, p in sources
                if not _is_url(label)
            ]
            + [{"source": label, "url": True} for label, _p in sources if _is_url(label)],
            "layers": [_layer_record(ly, label) for label, ly in layers],
            "counts": {"sites": int(len(sites)), "zones": int(len(zones))},
        }
        gen = Path(tempfile.mkdtemp(prefix="gen-", dir=cache))
        try:
            sites.to_parquet(gen / "sites.parquet", index=False)
            zones.to_parquet(gen / "zones.parquet", index=False)
            coverage.to_parquet(gen / "coverage.parquet", index=False)
            manifest["import_seconds"] = round(time.perf_counter() - t0, 3)
            (gen / "manifest.json").write_text(
                json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
            )
            os.chmod(gen, 0o755)
            _swap_current(cache, gen)
        except BaseException:
            shutil.rmtree(gen, ignore_errors=True)
            raise
    if log:
        log(
            f"imported {len(sites)} sites and {len(zones)} zones from {len(sources)} file(s) into {cache}"
        )
    return manifest


def _concat(frames: list[gpd.GeoDataFrame], columns: list[str]) -> gpd.GeoDataFrame:
    if not frames:
        return gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in columns},
            geometry=gpd.GeoSeries([], crs=STORAGE_CRS),
            crs=STORAGE_CRS,
        )
    out = pd.concat([f[columns + ["geometry"]] for f in frames], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=STORAGE_CRS)


def _swap_current(cache: Path, gen: Path) -> None:
    link = cache / "current"
    tmp_link = cache / f".current-{os.getpid()}"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(gen.name, tmp_link)
    old = link.resolve() if link.is_symlink() else None
    os.replace(tmp_link, link)
    # keep the new and the previous generation (a process may still be loading the previous one)
    keep = {gen.resolve(), old}
    for entry in cache.glob("gen-*"):
        if entry.resolve() not in keep:
            shutil.rmtree(entry, ignore_errors=True)


def current_dir(cache_dir: str | os.PathLike[str]) -> Path | None:
    """The folder of the current cache generation, or None when nothing was imported."""
    link = Path(cache_dir) / "current"
    if link.exists() and (link / "manifest.json").is_file():
        return link.resolve()
    return None


def read_manifest(cache_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The manifest of the current cache, or None."""
    gen = current_dir(cache_dir)
    if gen is None:
        return None
    data: dict[str, Any] = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    return data


def is_stale(
    cache_dir: str | os.PathLike[str], items: Iterable[str | os.PathLike[str]]
) -> tuple[bool, str]:
    """Whether the cache must be rebuilt from ``items``, and why.

    Stale when no cache exists, the schema changed, the set of source files differs, or a
    file's size differs or its mtime changed and its SHA-256 differs.
    """
    manifest = read_manifest(cache_dir)
    if manifest is None:
        return True, "no cache"
    if manifest.get("schema_version") != SCHEMA_VERSION:
        return True, "cache schema changed"
    local = [str(i) for i in items]
    if any(_is_url(i) for i in local):
        return True, "URL sources are always re-imported"
    sources = expand_sources(local)
    recorded = {s["path"]: s for s in manifest.get("sources", []) if "path" in s}
    if set(recorded) != {str(p) for _l, p in sources}:
        return True, "the set of source files changed"
    for _label, path in sources:
        files = [(path, recorded[str(path)])]
        files += [(Path(r["path"]), r) for r in recorded[str(path)].get("related", [])]
        if {str(p) for p in _related_files(path)} != {
            r["path"] for r in recorded[str(path)].get("related", [])
        }:
            return True, f"{path}: sidecar files changed"
        for p, rec in files:
            if not p.exists():
                return True, f"{p} is gone"
            st = p.stat()
            if st.st_size != rec["size"]:
                return True, f"{p} changed size"
            if st.st_mtime_ns != rec["mtime_ns"] and _fingerprint(p)["sha256"] != rec.get("sha256"):
                return True, f"{p} changed content"
    return False, "cache is up to date"


def import_if_stale(
    cache_dir: str | os.PathLike[str],
    items: Iterable[str | os.PathLike[str]],
    log: Callable[[str], None] | None = None,
) -> dict[str, Any] | None:
    """Import only when :func:`is_stale`; returns the new manifest or None when up to date."""
    items = list(items)
    stale, reason = is_stale(cache_dir, items)
    if not stale:
        if log:
            log(reason)
        return None
    if log:
        log(f"importing: {reason}")
    return import_data(items, cache_dir, log)
