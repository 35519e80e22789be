"""Finding the input files: the shared data folder's default set, folders, URLs, fingerprints.

A fingerprint (size, mtime, SHA-256, sidecars) is what ``bosai data import --if-stale`` compares
with the cache manifest to decide whether to import again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gis.io.files import SUPPORTED_SUFFIXES

__all__ = [
    "default_sources",
    "expand_sources",
    "is_url",
    "fingerprint",
    "related_files",
]

#: folders under a data folder that hold raw downloads or code lists, not layers
_SKIP_DIRS = {"raw", "codelists", "ksj_codelists", "__pycache__"}


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


def is_url(text: str) -> bool:
    return urllib.parse.urlparse(text).scheme in ("http", "https")


def download(url: str, folder: Path) -> Path:
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
        if is_url(text):
            if download_dir is None:
                raise ValueError("download_dir needed for URLs")
            out.append((text, download(text, download_dir)))
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


def fingerprint(path: Path, with_hash: bool = True) -> dict[str, Any]:
    st = path.stat()
    record: dict[str, Any] = {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    if with_hash:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        record["sha256"] = h.hexdigest()
    return record


def related_files(path: Path) -> list[Path]:
    """A shapefile's sidecars (.dbf, .shx, .prj, .cpg) and a manifest's data file."""
    if path.suffix.lower() == ".shp":
        return sorted(p for p in path.parent.glob(path.stem + ".*") if p != path)
    return []
