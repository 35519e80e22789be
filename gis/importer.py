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

import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from gis.errors import DataImportError, Problem
from gis.geo import STORAGE_CRS
from gis.io.discover import default_sources, expand_sources, fingerprint, is_url, related_files
from gis.mesh import MESH_LAT_STEPS, MESH_LON_STEPS, coverage_cells, mesh_key
from gis.sources import SITE_COLUMNS, ZONE_COLUMNS, LayerData, read_source

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

_FALLBACK_ATTRIBUTION = {
    "gsi": "出典：国土地理院「指定緊急避難場所データ」「指定避難所データ」を加工して作成",
    "plateau": "出典：3D都市モデル（Project PLATEAU）（国土交通省）を加工して作成",
    "ksj": "出典：国土数値情報（国土交通省）を加工して作成",
}
_ATTRIBUTION_KEYWORD = {"gsi": "国土地理院", "plateau": "PLATEAU", "ksj": "国土数値情報"}


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
            pd.DataFrame({"layer": ly.layer, "kind": ly.kind, "cell": coverage_cells(ly.gdf)})
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
                fingerprint(p)
                | {"source": label, "related": [fingerprint(r) for r in related_files(p)]}
                for label, p in sources
                if not is_url(label)
            ]
            + [{"source": label, "url": True} for label, _p in sources if is_url(label)],
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
    if any(is_url(i) for i in local):
        return True, "URL sources are always re-imported"
    sources = expand_sources(local)
    recorded = {s["path"]: s for s in manifest.get("sources", []) if "path" in s}
    if set(recorded) != {str(p) for _l, p in sources}:
        return True, "the set of source files changed"
    for _label, path in sources:
        files = [(path, recorded[str(path)])]
        files += [(Path(r["path"]), r) for r in recorded[str(path)].get("related", [])]
        if {str(p) for p in related_files(path)} != {
            r["path"] for r in recorded[str(path)].get("related", [])
        }:
            return True, f"{path}: sidecar files changed"
        for p, rec in files:
            if not p.exists():
                return True, f"{p} is gone"
            st = p.stat()
            if st.st_size != rec["size"]:
                return True, f"{p} changed size"
            if st.st_mtime_ns != rec["mtime_ns"] and fingerprint(p)["sha256"] != rec.get("sha256"):
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
