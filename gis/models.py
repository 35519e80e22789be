"""Normalised models returned by :mod:`gis.service` (plain dataclasses with ``to_dict()``).

The ``to_dict()`` keys are the stable JSON keys of ``bosai gis ... --json`` (docs/gis.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "HAZARD_KINDS",
    "ZONE_KINDS",
    "GSI_FLAG_COLUMNS",
    "HAZARD_LABELS_JA",
    "SITE_KINDS",
    "Site",
    "SiteResult",
    "SiteMatch",
    "Zone",
    "HazardAnswer",
]

#: The eight hazard kinds, in the order of the GSI flags.
HAZARD_KINDS: tuple[str, ...] = (
    "flood",
    "landslide",
    "storm_surge",
    "earthquake",
    "tsunami",
    "large_fire",
    "inland_flood",
    "volcano",
)

#: Hazard kinds that have zone polygons.
ZONE_KINDS: tuple[str, ...] = ("flood", "landslide", "tsunami", "storm_surge", "inland_flood")

#: GSI column name of each hazard flag.
GSI_FLAG_COLUMNS: dict[str, str] = {
    "flood": "洪水",
    "landslide": "崖崩れ、土石流及び地滑り",
    "storm_surge": "高潮",
    "earthquake": "地震",
    "tsunami": "津波",
    "large_fire": "大規模な火事",
    "inland_flood": "内水氾濫",
    "volcano": "火山現象",
}

HAZARD_LABELS_JA: dict[str, str] = {
    "flood": "洪水",
    "landslide": "崖崩れ・土石流・地滑り",
    "storm_surge": "高潮",
    "earthquake": "地震",
    "tsunami": "津波",
    "large_fire": "大規模な火事",
    "inland_flood": "内水氾濫",
    "volcano": "火山現象",
}

SITE_KINDS: tuple[str, ...] = ("emergency_site", "shelter", "welfare_shelter")


@dataclass(frozen=True)
class Site:
    """One designated emergency evacuation site or designated shelter."""

    id: str
    name: str
    address: str
    municipality: str
    lat: float
    lon: float
    hazards: list[str]
    kind: str
    same_as_shelter: bool
    remarks: str
    layer: str = ""
    same_as_emergency_site: bool = False
    target: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SiteResult:
    """A site answering a query, with its distance and bearing from the query point."""

    id: str
    name: str
    address: str
    municipality: str
    lat: float
    lon: float
    distance_m: float
    bearing_deg: float
    hazards: list[str]
    kind: str
    same_as_shelter: bool
    in_hazard_zone: list[dict[str, Any]]
    remarks: str
    layer: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SiteMatch:
    """A fuzzy name/address match. ``score`` in 0..1; ``confident`` when the caller may skip
    asking the resident to confirm."""

    site: Site
    score: float
    matched: str  # "name" | "address"
    confident: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "site": self.site.to_dict(),
            "score": self.score,
            "matched": self.matched,
            "confident": self.confident,
        }


@dataclass(frozen=True)
class Zone:
    """One hazard zone polygon containing the query point."""

    kind: str
    level: int | None
    label: str | None
    name: str | None
    depth_min_m: float | None
    depth_max_m: float | None
    phenomenon: str | None
    zone_class: str | None
    river: str | None
    source: str
    layer: str = ""
    zone_id: str | None = None
    scenario: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HazardAnswer:
    """Every zone containing a point, and which loaded layers cover the point's area.

    An empty ``zones`` list is *not* a statement of safety: check ``coverage``.
    """

    lat: float
    lon: float
    zones: list[Zone]
    coverage: list[dict[str, Any]]
    loaded_layers: list[str]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lat": self.lat,
            "lon": self.lon,
            "zones": [z.to_dict() for z in self.zones],
            "coverage": list(self.coverage),
            "loaded_layers": list(self.loaded_layers),
            "notes": list(self.notes),
        }
