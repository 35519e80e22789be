"""Evacuee registrations (dispersed evacuation included): one per resident, and their summary."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.store import validation as v
from bot.store import vocab
from bot.store.database import Database
from bot.store.errors import InvalidInput, StoreError
from bot.store.models import Evacuee, utcnow

#: No aggregate of evacuee registrations covers fewer households than this (docs/privacy.md).
MIN_HOUSEHOLDS = 3
#: Grid (degrees) a bbox is widened to when no cell size is asked (0.01° ≈ 1 km).
DEFAULT_CELL_DEG = 0.01
#: A cell below MIN_HOUSEHOLDS is merged into the cell this many times larger around it.
MERGE_FACTOR = 4


class Evacuees:
    def __init__(self, db: Database) -> None:
        self.db = db

    def upsert(
        self,
        resident: str,
        channel: str,
        place_type: str,
        headcount: int,
        vulnerable: dict[str, Any] | None,
        needs: Iterable[str] | None,
        consent: bool,
        lat: float | None = None,
        lon: float | None = None,
        place_text: str | None = None,
    ) -> Evacuee:
        """Create or update the one registration of ``resident``."""
        if not resident or len(resident) > 64:
            raise InvalidInput("resident must be the 1-64 character resident hash")
        v.check_channel(channel)
        v.one_of(place_type, vocab.PLACE_TYPES, "place_type")
        count = v.opt_int(headcount, "headcount", 1, v.MAX_HEADCOUNT)
        vuln = v.vulnerable(vulnerable)
        need_list = v.str_list(needs, "needs")
        lat, lon = v.check_point(lat, lon)
        place = v.opt_text(place_text, "place_text", v.MAX_PLACE_TEXT)
        for attempt in range(2):
            with self.db.session() as s:
                row = s.execute(
                    select(Evacuee).where(Evacuee.resident == resident)
                ).scalar_one_or_none()
                now = utcnow()
                if row is None:
                    row = Evacuee(resident=resident, created_at=now)
                    s.add(row)
                row.channel = channel
                row.place_type = place_type
                row.headcount = count
                row.vulnerable = vuln
                row.needs = need_list
                row.consent = bool(consent)
                row.lat, row.lon, row.place_text = lat, lon, place
                row.updated_at = now
                try:
                    s.commit()
                except IntegrityError:  # a concurrent first registration won the race
                    s.rollback()
                    if attempt:
                        raise
                    continue
                return row
        raise StoreError("unreachable")  # pragma: no cover

    def summary(
        self,
        bbox: tuple[float, float, float, float] | None = None,
        cell_deg: float | None = None,
        min_households: int = MIN_HOUSEHOLDS,
    ) -> dict[str, Any]:
        """Aggregate registrations: people per place type, people needing help, grid cells.

        No answer singles out a household (docs/privacy.md): a grid cell with fewer than
        ``min_households`` registrations is merged into the cell :data:`MERGE_FACTOR` times
        larger around it, and left out when that one has too few as well (``merged`` and
        ``size_deg`` say which). With ``bbox``, the area is widened to whole cells of the grid
        (``cell_deg``, else :data:`DEFAULT_CELL_DEG`) and only cells with at least
        ``min_households`` registrations are counted in the totals, so that two areas that
        differ by one household never give different totals. Without ``bbox`` the totals are
        the whole municipality's.
        """
        grid = cell_deg or DEFAULT_CELL_DEG
        stmt = select(
            Evacuee.place_type, Evacuee.headcount, Evacuee.vulnerable, Evacuee.lat, Evacuee.lon
        )
        keys: tuple[int, int, int, int] | None = None
        if bbox is not None:
            min_lon, min_lat, max_lon, max_lat = bbox
            keys = (_key(min_lat, grid), _key(min_lon, grid), _key(max_lat, grid),
                    _key(max_lon, grid))
            stmt = stmt.where(
                Evacuee.lat.between(min_lat - grid, max_lat + grid),
                Evacuee.lon.between(min_lon - grid, max_lon + grid),
            )
        with self.db.session() as s:
            rows = [tuple(r) for r in s.execute(stmt)]
        by_cell: dict[tuple[int, int], list[tuple[Any, ...]]] = {}
        for row in rows:
            lat, lon = row[3], row[4]
            if lat is not None and lon is not None:
                by_cell.setdefault((_key(lat, grid), _key(lon, grid)), []).append(row)
        if keys is not None:
            lat0, lon0, lat1, lon1 = keys
            by_cell = {
                key: rs
                for key, rs in by_cell.items()
                if lat0 <= key[0] <= lat1 and lon0 <= key[1] <= lon1
            }
            counted = [r for rs in by_cell.values() if len(rs) >= min_households for r in rs]
        else:
            counted = rows
        out = _totals(counted)
        if cell_deg:
            out["cell_deg"] = cell_deg
            out["cells"] = _cells(by_cell, cell_deg, min_households)
        return out


def _key(value: float, grid: float) -> int:
    return int(value // grid)


def _needs_help(vuln: dict[str, Any]) -> bool:
    return any(int(vuln.get(k) or 0) > 0 for k in vocab.VULNERABLE_KEYS)


def _totals(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    by_place = {k: {"registrations": 0, "people": 0} for k in vocab.PLACE_TYPES}
    vulnerable_people = dict.fromkeys(vocab.VULNERABLE_KEYS, 0)
    total = {
        "registrations": 0,
        "people": 0,
        "households_needing_help": 0,
        "households_with_medical_needs": 0,
    }
    for place_type, headcount, vuln, _lat, _lon in rows:
        vuln = vuln or {}
        by_place[place_type]["registrations"] += 1
        by_place[place_type]["people"] += headcount
        total["registrations"] += 1
        total["people"] += headcount
        for k in vocab.VULNERABLE_KEYS:
            vulnerable_people[k] += int(vuln.get(k) or 0)
        total["households_needing_help"] += int(_needs_help(vuln))
        total["households_with_medical_needs"] += int(int(vuln.get("medical") or 0) > 0)
    return {"total": total, "by_place_type": by_place, "vulnerable_people": vulnerable_people}


def _cell(rows: list[tuple[Any, ...]], key: tuple[int, int], size: float, merged: bool) -> dict:
    return {
        "min_lat": round(key[0] * size, 6),
        "min_lon": round(key[1] * size, 6),
        "size_deg": round(size, 6),
        "merged": merged,
        "registrations": len(rows),
        "people": sum(r[1] for r in rows),
        "households_needing_help": sum(int(_needs_help(r[2] or {})) for r in rows),
    }


def _cells(
    by_cell: dict[tuple[int, int], list[tuple[Any, ...]]], cell_deg: float, k: int
) -> list[dict[str, Any]]:
    """Cells with at least ``k`` registrations; smaller ones merged into the larger cell around
    them (:data:`MERGE_FACTOR`), and left out when that one is still below ``k``."""
    shown = [_cell(rows, key, cell_deg, False) for key, rows in by_cell.items() if len(rows) >= k]
    coarse: dict[tuple[int, int], list[tuple[Any, ...]]] = {}
    for key, rows in by_cell.items():
        if len(rows) < k:
            parent = (key[0] // MERGE_FACTOR, key[1] // MERGE_FACTOR)
            coarse.setdefault(parent, []).extend(rows)
    size = cell_deg * MERGE_FACTOR
    shown += [_cell(rows, key, size, True) for key, rows in coarse.items() if len(rows) >= k]
    return sorted(shown, key=lambda c: (c["min_lat"], c["min_lon"], c["size_deg"]))
