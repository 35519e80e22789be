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
    ) -> dict[str, Any]:
        """Aggregate registrations: people per place type, people needing help, grid cells."""
        stmt = select(
            Evacuee.place_type, Evacuee.headcount, Evacuee.vulnerable, Evacuee.lat, Evacuee.lon
        )
        if bbox is not None:
            min_lon, min_lat, max_lon, max_lat = bbox
            stmt = stmt.where(
                Evacuee.lat.between(min_lat, max_lat), Evacuee.lon.between(min_lon, max_lon)
            )
        by_place = {k: {"registrations": 0, "people": 0} for k in vocab.PLACE_TYPES}
        vulnerable_people = dict.fromkeys(vocab.VULNERABLE_KEYS, 0)
        total = {
            "registrations": 0,
            "people": 0,
            "households_needing_help": 0,
            "households_with_medical_needs": 0,
        }
        cells: dict[tuple[int, int], dict[str, Any]] = {}
        with self.db.session() as s:
            for place_type, headcount, vuln, lat, lon in s.execute(stmt):
                by_place[place_type]["registrations"] += 1
                by_place[place_type]["people"] += headcount
                total["registrations"] += 1
                total["people"] += headcount
                vuln = vuln or {}
                needs_help = any(int(vuln.get(k) or 0) > 0 for k in vocab.VULNERABLE_KEYS)
                for k in vocab.VULNERABLE_KEYS:
                    vulnerable_people[k] += int(vuln.get(k) or 0)
                if needs_help:
                    total["households_needing_help"] += 1
                if int(vuln.get("medical") or 0) > 0:
                    total["households_with_medical_needs"] += 1
                if cell_deg and lat is not None and lon is not None:
                    key = (int(lat // cell_deg), int(lon // cell_deg))
                    cell = cells.setdefault(
                        key,
                        {
                            "min_lat": round(key[0] * cell_deg, 6),
                            "min_lon": round(key[1] * cell_deg, 6),
                            "registrations": 0,
                            "people": 0,
                            "households_needing_help": 0,
                        },
                    )
                    cell["registrations"] += 1
                    cell["people"] += headcount
                    cell["households_needing_help"] += int(needs_help)
        out: dict[str, Any] = {
            "total": total,
            "by_place_type": by_place,
            "vulnerable_people": vulnerable_people,
        }
        if cell_deg:
            out["cell_deg"] = cell_deg
            out["cells"] = sorted(cells.values(), key=lambda c: (c["min_lat"], c["min_lon"]))
        return out
