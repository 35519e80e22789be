"""Sources: one module per kind of open data, each normalising opened files into cache layers.

=====================  ===========================================  =============================
module                 data                                         recognised by
=====================  ===========================================  =============================
:mod:`.gsi`            GSI 指定緊急避難場所 / 指定避難所 (CSV, GeoJSON)  ``共通ID`` column
:mod:`.ksj_a31`        KSJ A31 / A31a flood zones                   ``A31_101/201/001``, ``A31a_*``
:mod:`.ksj_a33`        KSJ A33 sediment-disaster areas              ``A33_001``
:mod:`.ksj_a40`        KSJ A40 tsunami zones                        ``A40_003``
:mod:`.plateau`        PLATEAU-derived hazard GeoJSON               ``uro:rank``, ``…浸水ランク``
:mod:`.manifest`       a municipality's file with a YAML column map ``.yaml`` / ``.yml``
=====================  ===========================================  =============================

Each module has ``detect()`` and a normaliser; zone modules share :func:`.zones.zone_layer` and
site modules :func:`.sites.site_frame`. :func:`read_source` picks the module for a file. Every
problem found is collected as a :class:`~gis.errors.Problem` (file, row or feature, message)
instead of stopping at the first one; the importer refuses the whole import when any remains.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from gis.errors import Problem
from gis.io.files import SUPPORTED_SUFFIXES, RawLayer, Refused, read_vector_layers
from gis.sources import gsi, ksj_a31, ksj_a33, ksj_a40, manifest, plateau
from gis.sources.base import SITE_COLUMNS, ZONE_COLUMNS, LayerData
from gis.sources.zones import zone_layer

__all__ = [
    "SITE_COLUMNS",
    "ZONE_COLUMNS",
    "SUPPORTED_SUFFIXES",
    "ZONE_SOURCES",
    "LayerData",
    "read_source",
    "zone_source",
]

#: Zone source modules in the order they are tried.
ZONE_SOURCES: tuple[ModuleType, ...] = (ksj_a33, ksj_a31, ksj_a40, plateau)
#: National land numerical information comes in JGD2011: a Shapefile of it without .prj is
#: read as EPSG:6668 (with a warning); any other layer without a CRS is refused.
_KSJ = (ksj_a31, ksj_a33, ksj_a40)

_UNKNOWN_LAYER = (
    "unknown layer: no GSI site columns (共通ID) and no hazard attributes "
    "(A31/A31a/A33/A40 or PLATEAU rank); give a YAML manifest with a column map"
)


def zone_source(columns: list[str]) -> ModuleType | None:
    """The zone source module whose ``detect`` accepts these columns, or None."""
    return next((m for m in ZONE_SOURCES if m.detect(columns)), None)


def _normalise(raw: RawLayer, layer: str) -> tuple[LayerData | None, list[Problem]]:
    columns = [str(c) for c in raw.gdf.columns if c != raw.gdf.geometry.name]
    if gsi.detect(columns):
        return gsi.normalise(raw, layer)
    source = zone_source(columns)
    if source is None:
        return None, [Problem(raw.label, None, _UNKNOWN_LAYER)]
    return zone_layer(raw, layer, source.normalise, "EPSG:6668" if source in _KSJ else None)


def _read_vector(path: Path) -> tuple[list[LayerData], list[Problem]]:
    try:
        raws = read_vector_layers(path)
    except Refused as refused:
        return [], refused.problems
    out: list[LayerData] = []
    problems: list[Problem] = []
    for raw in raws:
        if len(raw.gdf) == 0:
            problems.append(Problem(raw.label, None, "no features"))
            continue
        data, probs = _normalise(raw, raw.name)
        problems.extend(probs)
        if data is not None:
            out.append(data)
    return out, problems


def read_source(path: Path) -> tuple[list[LayerData], list[Problem]]:
    """Read one file into normalised layers, choosing the source module from its suffix and
    columns.

    Parameters
    ----------
    path : pathlib.Path
        A GSI CSV, GeoJSON, Shapefile (or .zip), GeoPackage, or a YAML manifest.

    Returns
    -------
    (layers, problems) : tuple
        The layers read and every problem found; callers must refuse the import when
        ``problems`` is non-empty.
    """
    suffix = path.suffix.lower()
    if not path.exists():
        return [], [Problem(str(path), None, "file not found")]
    if manifest.detect(path):
        return manifest.read(path)
    if suffix == ".csv":
        data, problems = gsi.read_csv(path)
        return ([data] if data is not None else []), problems
    if suffix in SUPPORTED_SUFFIXES:
        return _read_vector(path)
    return [], [Problem(str(path), None, f"unsupported file type {suffix!r}")]
