"""Districts (町名・大字) named in a resident's text, located from the sites' own addresses.

The open data has no gazetteer of districts, but every site carries its address
(「北海道釧路市大町1-1-1」). The district is the part of the address between the municipality and
the first number (「大町」; 「字」「大字」 dropped on both sides, as residents seldom write them; a ward
of a city stays in it: 「中央区北一条西」; 「北1条」 in a text is read as the data's 「北一条」).
A district's point is the centre of the sites whose addresses lie in it, so it stands for the
district only roughly: callers read it back as 「…付近」 and ask the resident to confirm it.

A district is found in a text when its name is written there and either its municipality is
written too (「釧路市大町」「釧路 大町」) or the name is at least three characters long and belongs
to one municipality only. A district whose sites lie more than :data:`MAX_RADIUS_M` from their
centre is too wide to stand for a point and is not offered. A municipality alone is no point
either.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from gis.geo import geodesic_inv
from gis.text import nfkc

__all__ = ["Area", "AreaIndex", "MAX_RADIUS_M", "district_of"]

#: a district whose sites lie farther than this from their centre is not used as a point
MAX_RADIUS_M = 2500.0

_PREFECTURE = re.compile(r"^(北海道|東京都|京都府|大阪府|[^\d]{2,3}県)")
_SPACES = re.compile(r"[\s\u3000、,・]+")
_KANJI_DIGITS = "〇一二三四五六七八九"


@dataclass(frozen=True)
class Area:
    """A district and the centre of the sites in it."""

    municipality: str  # 「釧路市」 (no prefecture)
    district: str  # 「大町」
    lat: float
    lon: float
    sites: int
    radius_m: float  # the farthest of its sites from the centre

    @property
    def name(self) -> str:
        return f"{self.municipality}{self.district}"


def _kanji_number(n: int) -> str:
    if n < 10:
        return _KANJI_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _KANJI_DIGITS[tens]) + "十" + (_KANJI_DIGITS[ones] if ones else "")


def _key(text: object) -> str:
    """NFKC, no spaces, and 「北1条」 written as the data writes it (「北一条」)."""
    s = _SPACES.sub("", nfkc(text)).replace("大字", "").replace("字", "")
    return re.sub(r"(\d{1,2})(条|線)", lambda m: _kanji_number(int(m.group(1))) + m.group(2), s)


def district_of(municipality: str, address: str) -> tuple[str, str] | None:
    """(municipality, district) of a site's address, both without the prefecture.

    Examples
    --------
    >>> district_of("北海道釧路市", "北海道釧路市大町1-1-1")
    ('釧路市', '大町')
    >>> district_of("北海道池田町", "北海道池田町字川合212")
    ('池田町', '川合')
    >>> district_of("北海道登別市", "北海道室蘭市高砂町1-30") is None   # another town's address
    True
    """
    muni = _PREFECTURE.sub("", _key(municipality))
    addr = _PREFECTURE.sub("", _key(address))
    if not muni or not addr.startswith(muni):
        return None
    rest = addr[len(muni) :]
    district = re.match(r"^([^\d]*)", rest).group(1).rstrip("-")  # type: ignore[union-attr]
    if len(district) < 2:
        return None
    return muni, district


class AreaIndex:
    """Districts of the sites, built on the first query (thread-safe).

    Parameters
    ----------
    municipalities, addresses : list of str
        One entry per site row (GSI's 「都道府県名及び市町村名」 and 「住所」).
    lats, lons : sequence of float
        The sites' coordinates, row-aligned.
    """

    def __init__(self, municipalities: list[str], addresses: list[str], lats, lons):  # type: ignore[no-untyped-def]
        self._raw = (municipalities, addresses, lats, lons)
        self._lock = threading.Lock()
        self._areas: list[Area] | None = None
        self._munis_of: dict[str, set[str]] = {}

    def _built(self) -> list[Area]:
        if self._areas is not None:
            return self._areas
        with self._lock:
            if self._areas is not None:
                return self._areas
            points: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
            for muni, addr, lat, lon in zip(*self._raw, strict=True):
                key = district_of(muni, addr)
                if key is not None:
                    points[key].append((float(lat), float(lon)))
            areas = []
            munis_of: dict[str, set[str]] = defaultdict(set)
            for (muni, district), pts in points.items():
                lat = sum(p[0] for p in pts) / len(pts)
                lon = sum(p[1] for p in pts) / len(pts)
                pts_a = np.asarray(pts, dtype="float64")
                radius = float(geodesic_inv(lat, lon, pts_a[:, 0], pts_a[:, 1])[0].max())
                areas.append(Area(muni, district, lat, lon, len(pts), round(radius, 1)))
                munis_of[district].add(muni)
            areas.sort(key=lambda a: (-len(a.district), a.municipality, a.district))
            self._munis_of = dict(munis_of)
            self._areas = areas
        return areas

    def __len__(self) -> int:
        return len(self._built())

    def find(self, text: str) -> Area | None:
        """The district named in ``text`` (see the module's rules), or None.

        Examples
        --------
        >>> idx = AreaIndex(["北海道釧路市"] * 2, ["北海道釧路市大町1-1", "北海道釧路市大町2-5"],
        ...                 [42.98, 42.981], [144.38, 144.381])
        >>> idx.find("津波どこに逃げれば 釧路市大町").name
        '釧路市大町'
        >>> idx.find("大町") is None          # two characters and no town: too many 大町 in Japan
        True
        """
        areas = self._built()
        s = _key(text)
        if len(s) < 2:
            return None
        named = [a for a in areas if a.district in s]
        if not named:
            return None

        def stem_written(a: Area) -> bool:
            stem = re.sub(r"[市町村]$", "", a.municipality)
            return len(stem) >= 2 and stem in s.replace(a.district, "", 1)

        tiers = (
            [a for a in named if a.municipality in s],  # 「釧路市大町」
            [a for a in named if stem_written(a)],  # 「釧路 大町」
            [a for a in named if len(a.district) >= 3 and len(self._munis_of[a.district]) == 1],
        )
        candidates = next((t for t in tiers if t), [])
        if not candidates:
            return None
        longest = max(len(a.district) for a in candidates)
        best = [a for a in candidates if len(a.district) == longest]
        if len(best) != 1 or best[0].radius_m > MAX_RADIUS_M:
            return None  # two towns with that district, or too wide to stand for a point
        return best[0]
