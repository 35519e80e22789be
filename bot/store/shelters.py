"""Shelter status updates (append-only; the latest row per shelter is the current one)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from bot.store import validation as v
from bot.store import vocab
from bot.store.database import Database
from bot.store.errors import InvalidInput
from bot.store.models import ShelterStatus, utcnow


class ShelterStatuses:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self,
        shelter_id: str,
        status: str,
        congestion: str | None,
        shortages: Iterable[str] | None,
        by: str,
    ) -> ShelterStatus:
        sid = v.opt_shelter_id(shelter_id)
        if sid is None:
            raise InvalidInput("shelter_id is required")
        v.one_of(status, vocab.SHELTER_STATES, "status")
        if congestion is not None:
            v.one_of(congestion, vocab.CONGESTION, "congestion")
        if status == "closed":
            congestion = "closed"
        short = v.str_list(shortages, "shortages")
        unknown = [x for x in short if x not in vocab.SUPPLIES]
        if unknown:
            raise InvalidInput(f"unknown shortage {unknown[0]!r}; use {', '.join(vocab.SUPPLIES)}")
        v.check_by(by)
        row = ShelterStatus(
            shelter_id=sid,
            status=status,
            congestion=congestion,
            shortages=short,
            by=by,
            at=utcnow(),
        )
        with self.db.session() as s:
            s.add(row)
            s.commit()
        return row

    def latest(self, shelter_ids: Iterable[str] | None = None) -> dict[str, ShelterStatus]:
        """Latest status per shelter (all shelters with a status when ``shelter_ids`` is None)."""
        out: dict[str, ShelterStatus] = {}
        ids = None if shelter_ids is None else list(dict.fromkeys(shelter_ids))
        chunks: list[list[str] | None] = (
            [None] if ids is None else [ids[i : i + 500] for i in range(0, len(ids), 500)]
        )
        with self.db.session() as s:
            for chunk in chunks:
                latest = select(func.max(ShelterStatus.id).label("id")).group_by(
                    ShelterStatus.shelter_id
                )
                if chunk is not None:
                    latest = latest.where(ShelterStatus.shelter_id.in_(chunk))
                sub = latest.subquery()
                rows = s.execute(select(ShelterStatus).join(sub, ShelterStatus.id == sub.c.id))
                for row in rows.scalars():
                    out[row.shelter_id] = row
        return out
