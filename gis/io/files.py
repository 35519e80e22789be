"""Open vector files and CSV tables, naming the file in every refusal.

Vector files come back as :class:`RawLayer` records (one per layer: a GeoPackage or a zip may hold
several). Nothing here knows what the columns mean; :mod:`gis.sources` normalises them.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from gis.errors import Problem
from gis.io.encodings import dbf_encoding, detect_text_encoding

__all__ = ["SUPPORTED_SUFFIXES", "RawLayer", "Refused", "read_vector_layers", "read_csv_table"]

#: File types an import accepts (a ``.yaml`` / ``.yml`` manifest points at one of the others).
SUPPORTED_SUFFIXES = (".csv", ".geojson", ".json", ".shp", ".zip", ".gpkg", ".yaml", ".yml")


@dataclass
class RawLayer:
    """One layer of a vector file as opened, before normalisation.

    Attributes
    ----------
    name : str
        The layer's own name (file stem, or the GeoPackage layer name).
    gdf : geopandas.GeoDataFrame
        The features with their original columns and CRS.
    format : str
        ``shapefile``, ``geojson`` or ``gpkg``.
    encoding : str or None
        The attribute encoding detected (``utf-8``, ``utf-8-sig``, ``cp932``).
    label : str
        Where it came from, for problems: ``path``, ``path!member`` (zip) or ``path:layer``.
    """

    name: str
    gdf: gpd.GeoDataFrame
    format: str
    encoding: str | None
    label: str


class Refused(Exception):
    """The file cannot be read; ``problems`` says why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def read_csv_table(path: Path, encoding: str = "auto") -> tuple[pd.DataFrame, str]:
    """A CSV as a table of strings (nothing converted, empty cells stay ``""``).

    Parameters
    ----------
    path : pathlib.Path
    encoding : str
        ``auto`` (UTF-8 with or without BOM, or CP932 detected from the bytes) or a codec name.

    Returns
    -------
    (table, encoding) : tuple

    Raises
    ------
    Refused
        Unknown encoding, bytes that do not decode, or not a CSV.
    """
    file = str(path)
    data = path.read_bytes()
    if encoding == "auto":
        encoding, problems = detect_text_encoding(data, file)
        if problems:
            raise Refused(problems)
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise Refused([Problem(file, None, f"cannot decode as {encoding}: {exc}")]) from exc
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False), encoding
    except (pd.errors.ParserError, ValueError) as exc:
        raise Refused([Problem(file, None, f"not a readable CSV ({exc})")]) from exc


def read_vector_layers(path: Path) -> list[RawLayer]:
    """Open a vector file as a list of :class:`RawLayer`.

    Shapefiles (bare or in a .zip, attributes in UTF-8 or CP932 detected from the .dbf bytes),
    GeoJSON (UTF-8, or CP932 detected) and GeoPackage (every layer).

    Raises
    ------
    Refused
        With the problems when the file cannot be read.
    """
    file = str(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".geojson", ".json"):
            gdf, enc = _read_geojson(path)
            return [RawLayer(path.stem, gdf, "geojson", enc, file)]
        if suffix == ".gpkg":
            return _read_gpkg(str(path), file)
        if suffix == ".shp":
            dbf = path.with_suffix(".dbf")
            if not dbf.exists():
                dbf = path.with_suffix(".DBF")
            if not dbf.exists():
                raise Refused([Problem(file, None, "missing .dbf beside the .shp")])
            enc = _checked_dbf_encoding(dbf.read_bytes(), str(dbf))
            gdf = pyogrio.read_dataframe(path, encoding=enc)
            return [RawLayer(path.stem, gdf, "shapefile", enc, file)]
        if suffix == ".zip":
            return _read_zip(path)
    except Refused:
        raise
    except Exception as exc:  # GDAL / parse errors: name the file
        raise Refused([Problem(file, None, f"cannot read as {suffix[1:]}: {exc}")]) from exc
    raise Refused([Problem(file, None, f"unsupported file type {suffix!r}")])


def _checked_dbf_encoding(dbf: bytes, label: str) -> str:
    enc, problems = dbf_encoding(dbf, label)
    if problems:
        raise Refused(problems)
    return enc


def _read_geojson(path: Path) -> tuple[gpd.GeoDataFrame, str]:
    data = path.read_bytes()
    encoding, problems = detect_text_encoding(data, str(path))
    if problems:
        raise Refused(problems)
    if encoding == "cp932":
        data = data.decode("cp932").encode("utf-8")
        return pyogrio.read_dataframe(io.BytesIO(data)), encoding
    return pyogrio.read_dataframe(path), encoding


def _read_gpkg(source: str, label: str) -> list[RawLayer]:
    return [
        RawLayer(
            str(name),
            pyogrio.read_dataframe(source, layer=name),
            "gpkg",
            "utf-8",
            f"{label}:{name}",
        )
        for name, _geom in pyogrio.list_layers(source)
    ]


def _read_zip(path: Path) -> list[RawLayer]:
    file = str(path)
    out: list[RawLayer] = []
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        lowered = {n.lower(): n for n in names}
        for member in names:
            low = member.lower()
            label = f"{file}!{_zip_name(member)}"
            stem = Path(_zip_name(member)).stem
            vsi = f"/vsizip/{path.resolve()}/{member}"
            if low.endswith(".shp"):
                dbf = lowered.get(low[:-4] + ".dbf")
                if dbf is None:
                    raise Refused([Problem(label, None, "missing .dbf beside the .shp in the zip")])
                enc = _checked_dbf_encoding(zf.read(dbf), label)
                out.append(
                    RawLayer(
                        stem, pyogrio.read_dataframe(vsi, encoding=enc), "shapefile", enc, label
                    )
                )
            elif low.endswith((".geojson", ".json")):
                data = zf.read(member)
                enc, problems = detect_text_encoding(data, label)
                if problems:
                    raise Refused(problems)
                gdf = pyogrio.read_dataframe(io.BytesIO(data.decode(enc).encode("utf-8")))
                out.append(RawLayer(stem, gdf, "geojson", enc, label))
            elif low.endswith(".gpkg"):
                out.extend(_read_gpkg(vsi, label))
    if not out:
        raise Refused([Problem(file, None, "zip holds no .shp, .geojson or .gpkg")])
    return out


def _zip_name(member: str) -> str:
    """Zip member names from Japanese Windows tools are CP932 stored as CP437."""
    try:
        return member.encode("cp437").decode("cp932")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return member
