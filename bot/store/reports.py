"""Reports: creation (with the first audit row; idempotent on the message that created it),
status moves, photos attached, listing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    and_,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import class_mapper

from bot.store import validation as v
from bot.store import vocab
from bot.store.database import Database, RowInsert
from bot.store.errors import InvalidInput, InvalidTransition, NotFound
from bot.store.models import Base, Report, ReportPhoto, ReportStatusChange, utcnow
from bot.store.paging import decode_cursor, encode_cursor, keyset_after, like_escape


class ReportSource(Base):
    """The channel's id of the message whose turn created a report (migration 0008): a turn
    run again (after a crash, or retried by the durable intake) finds the report instead of
    storing a second one. Its own table, so that ``reports`` and its readers stay unchanged."""

    __tablename__ = "report_sources"
    report_id = Column(Integer, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    channel = Column(String(32), nullable=False)
    message_id = Column(String(255), nullable=False)
    __table_args__ = (UniqueConstraint("channel", "message_id", name="uq_report_sources_message"),)


@dataclass
class ReportQuery:
    """Filters for :meth:`Reports.page` (already validated by the caller or the API)."""

    since: datetime | None = None
    until: datetime | None = None
    categories: Sequence[str] = ()
    statuses: Sequence[str] = ()
    bbox: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    q: str | None = None
    limit: int = 100
    cursor: str | None = None


@dataclass
class ReportPage:
    reports: list[Report]
    next_cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def report_values(
    now: datetime,
    *,
    category: str,
    text: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    place_text: str | None = None,
    accuracy_m: float | None = None,
    headcount: int | None = None,
    needs: Iterable[str] | None = None,
    urgency: str = "normal",
    shelter_id: str | None = None,
    channel: str,
    resident: str | None = None,
    reported_at: datetime | None = None,
) -> dict[str, Any]:
    """The validated column values of a new report (raises :class:`InvalidInput`)."""
    v.one_of(category, vocab.CATEGORIES, "category")
    v.one_of(urgency, vocab.URGENCIES, "urgency")
    v.check_channel(channel)
    lat, lon = v.check_point(lat, lon)
    return {
        "category": category,
        "status": "new",
        "text": v.opt_text(text, "text", v.MAX_TEXT),
        "lat": lat,
        "lon": lon,
        "place_text": v.opt_text(place_text, "place_text", v.MAX_PLACE_TEXT),
        "accuracy_m": v.opt_number(accuracy_m, "accuracy_m", 0, v.MAX_ACCURACY_M),
        "headcount": v.opt_int(headcount, "headcount", 0, v.MAX_HEADCOUNT),
        "needs": v.str_list(needs, "needs"),
        "urgency": urgency,
        "shelter_id": v.opt_shelter_id(shelter_id),
        "channel": channel,
        "resident": v.opt_text(resident, "resident", 64),
        "reported_at": v.aware(reported_at, "reported_at") or now,
        "received_at": now,
        "updated_at": now,
        "duplicate_of": None,
    }


# The columns report_values() fills, in its order (tests/store/test_report_insert.py checks it).
REPORT_KEYS = (
    "category",
    "status",
    "text",
    "lat",
    "lon",
    "place_text",
    "accuracy_m",
    "headcount",
    "needs",
    "urgency",
    "shelter_id",
    "channel",
    "resident",
    "reported_at",
    "received_at",
    "updated_at",
    "duplicate_of",
)


STATUS_CHANGE_KEYS = ("report_id", "old_status", "new_status", "by", "note", "duplicate_of", "at")
_INSERT_REPORT = RowInsert(Report.__table__, REPORT_KEYS, returns_id=True)
_INSERT_STATUS_CHANGE = RowInsert(ReportStatusChange.__table__, STATUS_CHANGE_KEYS)
_INSERT_SOURCE = RowInsert(ReportSource.__table__, ("report_id", "channel", "message_id"))
# Photos (a few reports have them): a Core insert, built once so that its cache key is memoised.
_INSERT_PHOTO = insert(ReportPhoto.__table__)


def insert_report(
    conn: Connection,
    values: dict[str, Any],
    refs: Sequence[str],
    *,
    by: str,
    now: datetime,
    note: str | None = None,
) -> Report:
    """Insert a validated report (:func:`report_values`), the creation row of its audit log and
    its photos on ``conn`` (the caller's transaction)."""
    report_id = _INSERT_REPORT(conn, values)
    _INSERT_STATUS_CHANGE(
        conn,
        {
            "report_id": report_id,
            "old_status": None,
            "new_status": "new",
            "by": by[: v.MAX_BY],
            "note": note,
            "duplicate_of": None,
            "at": now,
        },
    )
    if refs:
        conn.execute(
            _INSERT_PHOTO,
            [{"report_id": report_id, "photo_ref": ref, "added_at": now} for ref in refs],
        )
    # The returned object holds the committed row as if loaded: its attribute dict filled as the
    # ORM's loader fills it, with no pending history to track (about 2 us, against 37 us with one
    # set_committed_value() call per column and 55 us through the ORM constructor).
    report: Report = class_mapper(Report).class_manager.new_instance()  # mappers configured
    loaded = report.__dict__
    loaded.update(values)
    loaded["id"] = report_id
    loaded["photos"] = [
        ReportPhoto(report_id=report_id, photo_ref=ref, added_at=now) for ref in refs
    ]
    return report


class Reports:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        *,
        category: str,
        text: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        place_text: str | None = None,
        accuracy_m: float | None = None,
        headcount: int | None = None,
        needs: Iterable[str] | None = None,
        urgency: str = "normal",
        photos: Iterable[str] | None = None,
        shelter_id: str | None = None,
        channel: str,
        resident: str | None = None,
        reported_at: datetime | None = None,
        by: str | None = None,
        source_message: str | None = None,
    ) -> Report:
        """Validate and commit a report; returns it with ``.id`` (committed before returning).

        ``source_message`` is the channel's id of the message that created the report: a second
        call with the same channel and id (the same turn run again after a crash or a retry)
        stores nothing and returns the report the first call stored."""
        now = utcnow()
        values = report_values(
            now,
            category=category,
            text=text,
            lat=lat,
            lon=lon,
            place_text=place_text,
            accuracy_m=accuracy_m,
            headcount=headcount,
            needs=needs,
            urgency=urgency,
            shelter_id=shelter_id,
            channel=channel,
            resident=resident,
            reported_at=reported_at,
        )
        refs = [v.check_photo_ref(ref) for ref in photos or ()]
        source = None if source_message is None else v.check_message_id(source_message)
        # Core inserts in one transaction (the hot path of every resident report): committed
        # before this returns, so the bot acknowledges only what is stored.
        try:
            with self.db.engine.begin() as conn:
                report = insert_report(conn, values, refs, by=by or f"channel:{channel}", now=now)
                if source is not None:
                    row = {"report_id": report.id, "channel": channel, "message_id": source}
                    _INSERT_SOURCE(conn, row)
                return report
        except IntegrityError:  # the message already created a report: that one (nothing added)
            first = self.by_source(channel, source)
            if first is None:
                raise
            return first

    def by_source(self, channel: str, message_id: str | None) -> Report | None:
        """The report created by the channel's message ``message_id``, if any."""
        if not message_id:
            return None
        with self.db.session() as s:
            report_id = s.execute(
                select(ReportSource.report_id).where(
                    ReportSource.channel == channel, ReportSource.message_id == message_id
                )
            ).scalar_one_or_none()
            return s.get(Report, report_id) if report_id is not None else None

    def create_bulk(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert many already-valid reports in one transaction (imports and benchmarks)."""
        now = utcnow()
        with self.db.session() as s:
            for fields in rows:
                s.add(
                    Report(
                        status="new",
                        needs=[],
                        urgency="normal",
                        received_at=now,
                        updated_at=now,
                        **fields,
                    )
                )
            s.commit()
        return len(rows)

    def get(self, report_id: int) -> Report:
        with self.db.session() as s:
            report = s.get(Report, report_id)
            if report is None:
                raise NotFound(f"report {report_id} not found")
            return report

    def history(self, report_id: int) -> list[ReportStatusChange]:
        with self.db.session() as s:
            rows = s.execute(
                select(ReportStatusChange)
                .where(ReportStatusChange.report_id == report_id)
                .order_by(ReportStatusChange.id)
            ).scalars()
            return list(rows)

    def attach_photo(self, report_id: int, photo_ref: str) -> None:
        ref = v.check_photo_ref(photo_ref)
        with self.db.session() as s:
            report = s.get(Report, report_id)
            if report is None:
                raise NotFound(f"report {report_id} not found")
            s.add(ReportPhoto(report_id=report_id, photo_ref=ref))
            report.updated_at = utcnow()
            s.commit()

    def change_status(
        self,
        report_id: int,
        new_status: str,
        by: str,
        note: str | None = None,
        duplicate_of: int | None = None,
    ) -> Report:
        """The only way a report's status moves; writes the audit log in the same transaction."""
        v.one_of(new_status, vocab.REPORT_STATUSES, "status")
        v.check_by(by)
        note = v.opt_text(note, "note", v.MAX_NOTE)
        if new_status == "duplicate":
            if duplicate_of is None:
                raise InvalidInput("duplicate_of is required when status is duplicate")
            if duplicate_of == report_id:
                raise InvalidInput("a report cannot be a duplicate of itself")
        elif duplicate_of is not None:
            raise InvalidInput("duplicate_of is only allowed with status duplicate")
        with self.db.session() as s:
            report = s.execute(
                select(Report).where(Report.id == report_id).with_for_update()
            ).scalar_one_or_none()
            if report is None:
                raise NotFound(f"report {report_id} not found")
            old = report.status
            if new_status not in vocab.TRANSITIONS[old]:
                allowed = ", ".join(sorted(vocab.TRANSITIONS[old])) or "none"
                raise InvalidTransition(
                    f"cannot move report {report_id} from {old} to {new_status} (allowed: {allowed})"
                )
            if duplicate_of is not None and s.get(Report, duplicate_of) is None:
                raise InvalidInput(f"duplicate_of: report {duplicate_of} not found")
            now = utcnow()
            report.status = new_status
            report.duplicate_of = duplicate_of
            report.updated_at = now
            s.add(
                ReportStatusChange(
                    report_id=report_id,
                    old_status=old,
                    new_status=new_status,
                    by=by,
                    note=note,
                    duplicate_of=duplicate_of,
                    at=now,
                )
            )
            s.commit()
            return report

    def page(self, query: ReportQuery) -> ReportPage:
        """Reports newest first (reported_at, id), keyset-paginated by an opaque cursor."""
        conds = []
        if query.since is not None:
            conds.append(Report.reported_at >= query.since)
        if query.until is not None:
            conds.append(Report.reported_at < query.until)
        if query.categories:
            conds.append(Report.category.in_(list(query.categories)))
        if query.statuses:
            conds.append(Report.status.in_(list(query.statuses)))
        if query.bbox is not None:
            min_lon, min_lat, max_lon, max_lat = query.bbox
            conds.append(Report.lat.between(min_lat, max_lat))
            conds.append(Report.lon.between(min_lon, max_lon))
        if query.q:
            pattern = "%" + like_escape(query.q.lower()) + "%"
            conds.append(
                or_(
                    func.lower(Report.text).like(pattern, escape="\\"),
                    func.lower(Report.place_text).like(pattern, escape="\\"),
                )
            )
        if query.cursor:
            c_at, c_id = decode_cursor(query.cursor)
            conds.append(keyset_after([(Report.reported_at, c_at), (Report.id, c_id)]))
        stmt = select(Report)
        if conds:
            stmt = stmt.where(and_(*conds))
        stmt = stmt.order_by(Report.reported_at.desc(), Report.id.desc()).limit(query.limit + 1)
        with self.db.session() as s:
            rows = list(s.execute(stmt).scalars())
        next_cursor = None
        if len(rows) > query.limit:
            rows = rows[: query.limit]
            last = rows[-1]
            next_cursor = encode_cursor(last.reported_at, last.id)
        return ReportPage(rows, next_cursor)

    def count(self) -> int:
        with self.db.session() as s:
            return int(s.execute(select(func.count(Report.id))).scalar_one())
