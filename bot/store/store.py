"""The report store: every read and write of reports, evacuees, shelter status and officials.

All methods are blocking; async callers run them in an executor (CONVENTIONS rule 4).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import and_, event, false, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.future import create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.store import vocab
from bot.store.inbox import (
    DEFAULT_INBOX_LIMIT,
    INBOX_REASONS,
    MAX_INBOX_LIMIT,
    MAX_MESSAGE_TEXT,
    MAX_NOTE,
    decode_inbox_cursor,
    encode_inbox_cursor,
)
from bot.store.models import (
    Evacuee,
    InboundMessage,
    InboxMessage,
    InboxMessageChange,
    Notice,
    Official,
    Report,
    ReportPhoto,
    ReportStatusChange,
    ShelterStatus,
    utcnow,
)

MAX_TEXT = 4000
MAX_PLACE_TEXT = 500
MAX_HEADCOUNT = 10_000
MAX_LIST_ITEMS = 20
MAX_ITEM_LEN = 64
MAX_NOTICE_TITLE = 100
MAX_NOTICE_BODY = 1000
MAX_NOTICE_LIMIT = 100
MAX_BROADCAST_DETAIL = 500
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
PHOTO_REF_RE = re.compile(r"^[0-9a-f]{64}\.(jpg|png|webp|gif)$")
CHANNEL_RE = re.compile(r"^[a-z0-9_]{1,32}$")
SHELTER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
NAME_RE = re.compile(r"^[\w.@ -]{1,100}$")


class StoreError(Exception):
    """Base class of store errors."""


class InvalidInput(StoreError, ValueError):
    """A field failed validation; the message says which and why."""


class NotFound(StoreError, LookupError):
    """The report / official / object does not exist."""


class InvalidTransition(StoreError):
    """A status move not allowed by :data:`bot.store.vocab.TRANSITIONS`."""


@dataclass
class ReportQuery:
    """Filters for :meth:`Store.list_reports` (already validated by the caller or the API)."""

    since: datetime | None = None
    until: datetime | None = None
    categories: Sequence[str] = ()
    statuses: Sequence[str] = ()
    bbox: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    q: str | None = None
    limit: int = 100
    cursor: str | None = None


@dataclass
class InboxPage:
    """One page of :meth:`Store.list_inbox`."""

    items: list[InboxMessage]
    next_cursor: str | None = None


@dataclass
class ReportPage:
    reports: list[Report]
    next_cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL + synchronous=FULL: a committed report survives power loss, not only a crash.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def build_engine(url: str) -> Engine:
    """Create the engine for ``url`` (SQLite: WAL, foreign keys, parent folder created)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            future=True,
            poolclass=QueuePool,
            pool_size=5,
            max_overflow=10,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


class Store:
    """Report store bound to one database URL.

    Parameters
    ----------
    url
        SQLAlchemy URL (``sqlite:///path`` or ``postgresql://...``).
    photo_dir
        Folder for photo files; ``<var_dir>/photos`` when omitted.
    secret
        Key for resident pseudonyms; :func:`bot.settings.resident_secret` when omitted.
    """

    def __init__(
        self, url: str, photo_dir: Path | str | None = None, secret: bytes | None = None
    ) -> None:
        self.url = url
        self.engine = build_engine(url)
        self._session = sessionmaker(self.engine, future=True, expire_on_commit=False)
        self._photo_dir = Path(photo_dir) if photo_dir is not None else None
        self._secret = secret
        # SQLite ignores FOR UPDATE: serialise read-modify-write of a notice's JSON in-process
        self._notice_lock = threading.Lock()
        # ... and the claim of an inbox message by report_from_message (PostgreSQL locks the row)
        self._inbox_lock = threading.Lock()

    # ------------------------------------------------------------------ schema
    def upgrade(self, revision: str = "head") -> None:
        """Run the Alembic migrations up to ``revision`` (idempotent)."""
        from bot.store.migrate import upgrade

        upgrade(self.engine, revision)

    def dispose(self) -> None:
        self.engine.dispose()

    def session(self) -> Session:
        return self._session()

    # ------------------------------------------------------------------ residents
    def resident_id(self, channel: str, user_id: str) -> str:
        """Keyed hash (HMAC-SHA256) of a channel user id; the raw id is never stored."""
        if self._secret is None:
            from bot.settings import resident_secret

            self._secret = resident_secret()
        msg = f"{channel}:{user_id}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()

    def record_inbound(
        self,
        channel: str,
        channel_message_id: str,
        sender_hash: str,
        received_at: datetime | None = None,
    ) -> bool:
        """Record an inbound message id; False when (channel, id) was already seen."""
        _check_channel(channel)
        mid = str(channel_message_id)
        if not mid or len(mid) > 255:
            raise InvalidInput("channel_message_id must be 1-255 characters")
        row = InboundMessage(
            channel=channel,
            channel_message_id=mid,
            sender_hash=str(sender_hash)[:64],
            received_at=_aware(received_at, "received_at") or utcnow(),
        )
        with self.session() as s:
            s.add(row)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                return False
        return True

    # ------------------------------------------------------------------ reports
    def create_report(
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
    ) -> Report:
        """Validate and commit a report; returns it with ``.id`` (committed before returning)."""
        now = utcnow()
        values = _report_values(
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
        refs = [_check_photo_ref(ref) for ref in photos or ()]
        # Core inserts in one transaction (the hot path of every resident report): committed
        # before this returns, so the bot acknowledges only what is stored.
        with self.engine.begin() as conn:
            report = _insert_report(conn, values, refs, by=by or f"channel:{channel}", now=now)
        return report

    def create_reports_bulk(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert many already-valid reports in one transaction (imports and benchmarks)."""
        now = utcnow()
        with self.session() as s:
            for fields in rows:
                r = Report(
                    status="new",
                    needs=[],
                    urgency="normal",
                    received_at=now,
                    updated_at=now,
                    **fields,
                )
                s.add(r)
            s.commit()
        return len(rows)

    def get_report(self, report_id: int) -> Report:
        with self.session() as s:
            report = s.get(Report, report_id)
            if report is None:
                raise NotFound(f"report {report_id} not found")
            return report

    def report_history(self, report_id: int) -> list[ReportStatusChange]:
        with self.session() as s:
            rows = s.execute(
                select(ReportStatusChange)
                .where(ReportStatusChange.report_id == report_id)
                .order_by(ReportStatusChange.id)
            ).scalars()
            return list(rows)

    def attach_photo(self, report_id: int, photo_ref: str) -> None:
        ref = _check_photo_ref(photo_ref)
        with self.session() as s:
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
        if new_status not in vocab.REPORT_STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(vocab.REPORT_STATUSES)}")
        if not by or len(by) > 100:
            raise InvalidInput("by must be 1-100 characters")
        note = _opt_text(note, "note", 2000)
        if new_status == "duplicate":
            if duplicate_of is None:
                raise InvalidInput("duplicate_of is required when status is duplicate")
            if duplicate_of == report_id:
                raise InvalidInput("a report cannot be a duplicate of itself")
        elif duplicate_of is not None:
            raise InvalidInput("duplicate_of is only allowed with status duplicate")
        with self.session() as s:
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

    def list_reports(self, query: ReportQuery) -> ReportPage:
        """Reports newest first (reported_at, id), keyset-paginated by an opaque cursor."""
        stmt = select(Report)
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
            pattern = "%" + _like_escape(query.q.lower()) + "%"
            conds.append(
                or_(
                    func.lower(Report.text).like(pattern, escape="\\"),
                    func.lower(Report.place_text).like(pattern, escape="\\"),
                )
            )
        if query.cursor:
            c_at, c_id = decode_cursor(query.cursor)
            conds.append(
                or_(Report.reported_at < c_at, and_(Report.reported_at == c_at, Report.id < c_id))
            )
        if conds:
            stmt = stmt.where(and_(*conds))
        stmt = stmt.order_by(Report.reported_at.desc(), Report.id.desc()).limit(query.limit + 1)
        with self.session() as s:
            rows = list(s.execute(stmt).scalars())
        next_cursor = None
        if len(rows) > query.limit:
            rows = rows[: query.limit]
            last = rows[-1]
            next_cursor = encode_cursor(last.reported_at, last.id)
        return ReportPage(rows, next_cursor)

    def count_reports(self) -> int:
        with self.session() as s:
            return int(s.execute(select(func.count(Report.id))).scalar_one())

    # ------------------------------------------------------------------ photos
    @property
    def photo_dir(self) -> Path:
        if self._photo_dir is None:
            from bot.settings import get_settings

            self._photo_dir = get_settings().var_dir / "photos"
        return self._photo_dir

    def save_photo(self, data: bytes, content_type: str) -> str:
        """Write a photo under the var folder; returns its ref (content hash + extension)."""
        ctype = (content_type or "").split(";")[0].strip().lower()
        ext = PHOTO_TYPES.get(ctype)
        if ext is None:
            raise InvalidInput(f"photo content type must be one of {', '.join(PHOTO_TYPES)}")
        if not data:
            raise InvalidInput("photo is empty")
        if len(data) > MAX_PHOTO_BYTES:
            raise InvalidInput(f"photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MiB")
        ref = f"{hashlib.sha256(data).hexdigest()}.{ext}"
        path = self.photo_path(ref)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + f".{secrets.token_hex(4)}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return ref

    def photo_path(self, photo_ref: str) -> Path:
        ref = _check_photo_ref(photo_ref)
        return self.photo_dir / ref[:2] / ref

    def photo_content_type(self, photo_ref: str) -> str:
        ext = _check_photo_ref(photo_ref).rsplit(".", 1)[1]
        return {v: k for k, v in PHOTO_TYPES.items()}[ext]

    # ------------------------------------------------------------------ evacuees
    def upsert_evacuee(
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
        _check_channel(channel)
        if place_type not in vocab.PLACE_TYPES:
            raise InvalidInput(f"place_type must be one of {', '.join(vocab.PLACE_TYPES)}")
        count = _opt_int(headcount, "headcount", 1, MAX_HEADCOUNT)
        vuln = _vulnerable(vulnerable)
        need_list = _str_list(needs, "needs")
        lat, lon = _check_point(lat, lon)
        place = _opt_text(place_text, "place_text", MAX_PLACE_TEXT)
        for attempt in range(2):
            with self.session() as s:
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

    def evacuee_summary(
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
        with self.session() as s:
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

    # ------------------------------------------------------------------ shelters
    def set_shelter_status(
        self,
        shelter_id: str,
        status: str,
        congestion: str | None,
        shortages: Iterable[str] | None,
        by: str,
    ) -> ShelterStatus:
        sid = _opt_shelter_id(shelter_id)
        if sid is None:
            raise InvalidInput("shelter_id is required")
        if status not in vocab.SHELTER_STATES:
            raise InvalidInput(f"status must be one of {', '.join(vocab.SHELTER_STATES)}")
        if congestion is not None and congestion not in vocab.CONGESTION:
            raise InvalidInput(f"congestion must be one of {', '.join(vocab.CONGESTION)}")
        if status == "closed":
            congestion = "closed"
        short = _str_list(shortages, "shortages")
        unknown = [x for x in short if x not in vocab.SUPPLIES]
        if unknown:
            raise InvalidInput(f"unknown shortage {unknown[0]!r}; use {', '.join(vocab.SUPPLIES)}")
        if not by or len(by) > 100:
            raise InvalidInput("by must be 1-100 characters")
        row = ShelterStatus(
            shelter_id=sid,
            status=status,
            congestion=congestion,
            shortages=short,
            by=by,
            at=utcnow(),
        )
        with self.session() as s:
            s.add(row)
            s.commit()
        return row

    def latest_shelter_status(
        self, shelter_ids: Iterable[str] | None = None
    ) -> dict[str, ShelterStatus]:
        """Latest status per shelter (all shelters with a status when ``shelter_ids`` is None)."""
        out: dict[str, ShelterStatus] = {}
        ids = None if shelter_ids is None else list(dict.fromkeys(shelter_ids))
        chunks: list[list[str] | None] = (
            [None] if ids is None else [ids[i : i + 500] for i in range(0, len(ids), 500)]
        )
        with self.session() as s:
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

    # ------------------------------------------------------------------ notices
    def create_notice(self, title: str, body: str, severity: str, by: str) -> Notice:
        """Store a notice from an official (committed before returning, with ``.id``).

        ``title``: one line, 1-100 characters; ``body``: 1-1000 characters; ``severity``: one of
        :data:`bot.store.vocab.NOTICE_SEVERITIES`; ``by``: the official's name.
        """
        title_s = _opt_text(title, "title", MAX_NOTICE_TITLE)
        if title_s is None:
            raise InvalidInput("title is required (1-100 characters)")
        if "\n" in title_s or "\r" in title_s:
            raise InvalidInput("title must be one line")
        body_s = _opt_text(body, "body", MAX_NOTICE_BODY)
        if body_s is None:
            raise InvalidInput("body is required (1-1000 characters)")
        if severity not in vocab.NOTICE_SEVERITIES:
            raise InvalidInput(f"severity must be one of {', '.join(vocab.NOTICE_SEVERITIES)}")
        if not isinstance(by, str) or not by or len(by) > 100:
            raise InvalidInput("by must be 1-100 characters")
        row = Notice(
            title=title_s,
            body=body_s.replace("\r\n", "\n"),
            severity=severity,
            created_at=utcnow(),
            created_by=by,
            broadcast={},
        )
        with self.session() as s:
            s.add(row)
            s.commit()
        return row

    def latest_notices(self, limit: int = 3) -> list[Notice]:
        """The ``limit`` (1-100) most recent notices, newest first."""
        count = _opt_int(limit, "limit", 1, MAX_NOTICE_LIMIT)
        with self.session() as s:
            rows = s.execute(
                select(Notice).order_by(Notice.created_at.desc(), Notice.id.desc()).limit(count)
            ).scalars()
            return list(rows)

    def get_notice(self, notice_id: int) -> Notice:
        with self.session() as s:
            row = s.get(Notice, notice_id)
            if row is None:
                raise NotFound(f"notice {notice_id} not found")
            return row

    def record_broadcast(
        self, notice_id: int, channel: str, ok: bool | None, detail: str = ""
    ) -> Notice:
        """Record how sending ``notice_id`` on ``channel`` went; returns the updated notice.

        ``ok``: True = sent, False = failed, None = skipped (channel not configured). ``detail``
        (cut to 500 characters) says why, or what the platform answered. A later call for the
        same channel replaces the earlier outcome (a re-send).
        """
        _check_channel(channel)
        if ok is not None and not isinstance(ok, bool):
            raise InvalidInput("ok must be true, false or null (skipped)")
        status = "skipped" if ok is None else ("sent" if ok else "failed")
        text = str(detail or "")[:MAX_BROADCAST_DETAIL]
        with self._notice_lock, self.session() as s:
            row = s.execute(
                select(Notice).where(Notice.id == notice_id).with_for_update()
            ).scalar_one_or_none()
            if row is None:
                raise NotFound(f"notice {notice_id} not found")
            outcome = dict(row.broadcast or {})
            outcome[channel] = {"status": status, "detail": text, "at": utcnow().isoformat()}
            row.broadcast = outcome  # a new dict: the JSON column sees the change
            s.commit()
            return row

    # ------------------------------------------------------------------ inbox
    def add_inbox_message(
        self,
        *,
        channel: str,
        user_id: str,
        text: str,
        reason: str,
        intent: str | None = None,
        confidence: float | None = None,
        danger: bool = False,
        danger_terms: Sequence[str] = (),
        place_text: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        channel_message_id: str | None = None,
        received_at: datetime | None = None,
    ) -> InboxMessage:
        """Keep a resident message the bot could not act on for the officials' inbox.

        The resident is stored as :meth:`resident_id` (never ``user_id`` itself); ``text`` is cut
        to 2,000 characters and ``place_text`` to 500 (a resident's words are never refused for
        length); a danger term marks the message as danger. The same ``(channel,
        channel_message_id)`` again (a redelivery) returns the stored row unchanged. The arrival
        is the first row of the message's audit log. Bad input raises :class:`InvalidInput`.
        """
        _check_channel(channel)
        if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > 255:
            raise InvalidInput("user_id must be the channel's user id (1-255 characters)")
        body = _capped_text(text, "text", MAX_MESSAGE_TEXT)
        if body is None:
            raise InvalidInput("text is required")
        if reason not in INBOX_REASONS:
            raise InvalidInput(f"reason must be one of {', '.join(INBOX_REASONS)}")
        if not isinstance(danger, bool):
            raise InvalidInput("danger must be true or false")
        terms = list(dict.fromkeys(_str_list(danger_terms, "danger_terms")))
        lat, lon = _check_point(lat, lon)
        place = _capped_text(place_text, "place_text", MAX_PLACE_TEXT)
        mid = None
        if channel_message_id is not None:
            mid = str(channel_message_id)
            if not mid or len(mid) > 255:
                raise InvalidInput("channel_message_id must be 1-255 characters")
        values: dict[str, Any] = {
            "channel": channel,
            "channel_message_id": mid,
            "resident": self.resident_id(channel, user_id),
            "text": body,
            "reason": reason,
            "intent": _opt_text(intent, "intent", 64),
            "confidence": _opt_number(confidence, "confidence", 0, 1),
            "danger": danger or bool(terms),
            "danger_terms": terms,
            "place_text": place,
            "lat": lat,
            "lon": lon,
            "has_place": place is not None or lat is not None,
            "received_at": _aware(received_at, "received_at") or utcnow(),
            "handled": False,
            "handled_at": None,
            "handled_by": None,
            "handled_note": None,
            "report_id": None,
        }
        if mid is not None:
            existing = self._inbox_by_channel_id(channel, mid)
            if existing is not None:
                return existing
        table = InboxMessage.__table__
        try:
            with self.engine.begin() as conn:
                message_id = conn.execute(insert(table), values).inserted_primary_key[0]
                _log_inbox(
                    conn, message_id, "received", f"channel:{channel}", values["received_at"]
                )
        except IntegrityError:
            existing = self._inbox_by_channel_id(channel, mid) if mid is not None else None
            if existing is None:
                raise
            return existing  # a concurrent redelivery won the race
        return InboxMessage(id=message_id, **values)

    def _inbox_by_channel_id(self, channel: str, mid: str) -> InboxMessage | None:
        with self.session() as s:
            return s.execute(
                select(InboxMessage).where(
                    InboxMessage.channel == channel, InboxMessage.channel_message_id == mid
                )
            ).scalar_one_or_none()

    def get_inbox_message(self, message_id: int) -> InboxMessage:
        with self.session() as s:
            row = s.get(InboxMessage, message_id)
            if row is None:
                raise NotFound(f"message {message_id} not found")
            return row

    def list_inbox(
        self,
        *,
        handled: bool | None = False,
        since: datetime | None = None,
        limit: int = DEFAULT_INBOX_LIMIT,
        cursor: str | None = None,
    ) -> InboxPage:
        """Inbox messages: danger first, then those with a place, then newest (keyset pages).

        ``handled``: False = still open (default), True = handled, None = all; ``since``: received
        at or after; ``limit``: 1-200; ``cursor``: ``next_cursor`` of the previous page.
        """
        if handled is not None and not isinstance(handled, bool):
            raise InvalidInput("handled must be true, false or None (all)")
        since = _aware(since, "since")
        count = _opt_int(limit, "limit", 1, MAX_INBOX_LIMIT) or DEFAULT_INBOX_LIMIT
        m = InboxMessage
        conds = []
        if handled is not None:
            conds.append(m.handled == handled)
        if since is not None:
            conds.append(m.received_at >= since)
        if cursor:
            try:
                key = decode_inbox_cursor(cursor)
            except ValueError as exc:
                raise InvalidInput(str(exc)) from exc
            conds.append(
                _keyset_after(
                    [
                        (m.danger, key[0]),
                        (m.has_place, key[1]),
                        (m.received_at, key[2]),
                        (m.id, key[3]),
                    ]
                )
            )
        stmt = select(m)
        if conds:
            stmt = stmt.where(and_(*conds))
        stmt = stmt.order_by(
            m.danger.desc(), m.has_place.desc(), m.received_at.desc(), m.id.desc()
        ).limit(count + 1)
        with self.session() as s:
            rows = list(s.execute(stmt).scalars())
        next_cursor = None
        if len(rows) > count:
            rows = rows[:count]
            last = rows[-1]
            next_cursor = encode_inbox_cursor(
                (bool(last.danger), bool(last.has_place), last.received_at, last.id)
            )
        return InboxPage(rows, next_cursor)

    def count_inbox(self, handled: bool | None = False) -> int:
        """Number of inbox messages (open ones by default; None = all)."""
        stmt = select(func.count(InboxMessage.id))
        if handled is not None:
            stmt = stmt.where(InboxMessage.handled == bool(handled))
        with self.session() as s:
            return int(s.execute(stmt).scalar_one())

    def message_history(self, message_id: int) -> list[InboxMessageChange]:
        """The audit log of one inbox message, oldest first."""
        with self.session() as s:
            rows = s.execute(
                select(InboxMessageChange)
                .where(InboxMessageChange.message_id == message_id)
                .order_by(InboxMessageChange.id)
            ).scalars()
            return list(rows)

    def set_message_handled(
        self, message_id: int, *, handled: bool, by: str, note: str | None = None
    ) -> InboxMessage:
        """Mark an inbox message handled (or open again); audited in the same transaction.

        Asking for the state the message already has changes nothing and writes no log row.
        """
        if not isinstance(handled, bool):
            raise InvalidInput("handled must be true or false")
        _check_by(by)
        note = _opt_text(note, "note", MAX_NOTE)
        t = InboxMessage.__table__
        now = utcnow()
        with self.engine.begin() as conn:
            # write first: the row is locked (PostgreSQL) / the database is (SQLite) before reading
            changed = conn.execute(
                update(t)
                .where(t.c.id == message_id, t.c.handled == (not handled))
                .values(
                    handled=handled,
                    handled_at=now if handled else None,
                    handled_by=by if handled else None,
                    handled_note=note if handled else None,
                )
            ).rowcount
            row = conn.execute(select(t).where(t.c.id == message_id)).mappings().one_or_none()
            if row is None:
                raise NotFound(f"message {message_id} not found")
            if changed:
                _log_inbox(conn, message_id, "handled" if handled else "reopened", by, now, note)
        return InboxMessage(**dict(row))

    def report_from_message(
        self,
        message_id: int,
        *,
        category: str,
        urgency: str = "high",
        place_text: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        by: str,
    ) -> Report:
        """Turn an inbox message into a report in one transaction.

        The report gets the message's text, channel, resident and time (``reported_at`` = when the
        resident wrote); ``place_text`` / ``lat``, ``lon`` default to the message's own. The
        message is marked handled and linked (``report_id``); the report's audit log starts with
        the official, the message's log gets a ``reported`` row. A message already turned into a
        report raises :class:`InvalidTransition` (never a second report for one message).
        """
        _check_by(by)
        lat, lon = _check_point(lat, lon)
        place = _opt_text(place_text, "place_text", MAX_PLACE_TEXT)
        t = InboxMessage.__table__
        now = utcnow()
        with self._inbox_lock, self.engine.begin() as conn:
            claimed = conn.execute(
                update(t)
                .where(t.c.id == message_id, t.c.report_id.is_(None))
                .values(handled=True, handled_at=now, handled_by=by)
            ).rowcount
            row = conn.execute(select(t).where(t.c.id == message_id)).mappings().one_or_none()
            if row is None:
                raise NotFound(f"message {message_id} not found")
            if not claimed:
                raise InvalidTransition(
                    f"message {message_id} is already report {row['report_id']}"
                )
            if lat is None:
                lat, lon = row["lat"], row["lon"]
            values = _report_values(
                now,
                category=category,
                text=row["text"],
                lat=lat,
                lon=lon,
                place_text=place or row["place_text"],
                accuracy_m=None,
                headcount=None,
                needs=None,
                urgency=urgency,
                shelter_id=None,
                channel=row["channel"],
                resident=row["resident"],
                reported_at=row["received_at"],
            )
            report = _insert_report(
                conn, values, (), by=by, now=now, note=f"受信メッセージ #{message_id} から作成"
            )
            conn.execute(update(t).where(t.c.id == message_id).values(report_id=report.id))
            _log_inbox(conn, message_id, "reported", by, now, report_id=report.id)
        return report

    # ------------------------------------------------------------------ officials
    def add_official(self, name: str, role: str) -> tuple[Official, str]:
        """Create an official; returns it and the plain token (shown once, stored hashed)."""
        if not NAME_RE.match(name or ""):
            raise InvalidInput("name must be 1-100 letters, digits, spaces or . @ _ -")
        if role not in vocab.ROLES:
            raise InvalidInput(f"role must be one of {', '.join(vocab.ROLES)}")
        token = "bosai_" + secrets.token_urlsafe(32)
        row = Official(name=name, role=role, token_hash=hash_token(token), created_at=utcnow())
        with self.session() as s:
            s.add(row)
            try:
                s.commit()
            except IntegrityError as exc:
                raise InvalidInput(f"an official named {name!r} already exists") from exc
        return row, token

    def revoke_official(self, name: str) -> bool:
        """Revoke an official's token; False when no active official has that name."""
        with self.session() as s:
            row = s.execute(
                select(Official).where(Official.name == name, Official.revoked_at.is_(None))
            ).scalar_one_or_none()
            if row is None:
                return False
            row.revoked_at = utcnow()
            s.commit()
            return True

    def list_officials(self) -> list[Official]:
        with self.session() as s:
            return list(s.execute(select(Official).order_by(Official.name)).scalars())

    def authenticate(self, token: str) -> Official | None:
        """The active official holding ``token``, or None."""
        if not token or len(token) > 200:
            return None
        with self.session() as s:
            return s.execute(
                select(Official).where(
                    Official.token_hash == hash_token(token), Official.revoked_at.is_(None)
                )
            ).scalar_one_or_none()


# ---------------------------------------------------------------------- helpers
def _report_values(
    now: datetime,
    *,
    category: str,
    text: str | None,
    lat: float | None,
    lon: float | None,
    place_text: str | None,
    accuracy_m: float | None,
    headcount: int | None,
    needs: Iterable[str] | None,
    urgency: str,
    shelter_id: str | None,
    channel: str,
    resident: str | None,
    reported_at: datetime | None,
) -> dict[str, Any]:
    """The validated column values of a new report (raises :class:`InvalidInput`)."""
    if category not in vocab.CATEGORIES:
        raise InvalidInput(f"category must be one of {', '.join(vocab.CATEGORIES)}")
    if urgency not in vocab.URGENCIES:
        raise InvalidInput(f"urgency must be one of {', '.join(vocab.URGENCIES)}")
    _check_channel(channel)
    lat, lon = _check_point(lat, lon)
    return {
        "category": category,
        "status": "new",
        "text": _opt_text(text, "text", MAX_TEXT),
        "lat": lat,
        "lon": lon,
        "place_text": _opt_text(place_text, "place_text", MAX_PLACE_TEXT),
        "accuracy_m": _opt_number(accuracy_m, "accuracy_m", 0, 100_000),
        "headcount": _opt_int(headcount, "headcount", 0, MAX_HEADCOUNT),
        "needs": _str_list(needs, "needs"),
        "urgency": urgency,
        "shelter_id": _opt_shelter_id(shelter_id),
        "channel": channel,
        "resident": _opt_text(resident, "resident", 64),
        "reported_at": _aware(reported_at, "reported_at") or now,
        "received_at": now,
        "updated_at": now,
        "duplicate_of": None,
    }


def _insert_report(
    conn: Connection,
    values: dict[str, Any],
    refs: Sequence[str],
    *,
    by: str,
    now: datetime,
    note: str | None = None,
) -> Report:
    """Insert a validated report, its creation row of the audit log and its photos on ``conn``
    (the caller's transaction)."""
    report_id = conn.execute(insert(Report.__table__), values).inserted_primary_key[0]
    conn.execute(
        insert(ReportStatusChange.__table__),
        {
            "report_id": report_id,
            "old_status": None,
            "new_status": "new",
            "by": by[:100],
            "note": note,
            "duplicate_of": None,
            "at": now,
        },
    )
    if refs:
        conn.execute(
            insert(ReportPhoto.__table__),
            [{"report_id": report_id, "photo_ref": ref, "added_at": now} for ref in refs],
        )
    report = Report(id=report_id, **values)
    report.photos = [ReportPhoto(report_id=report_id, photo_ref=ref, added_at=now) for ref in refs]
    return report


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def encode_cursor(at: datetime, report_id: int) -> str:
    raw = f"{at.astimezone(timezone.utc).isoformat()}|{report_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at_s, id_s = raw.split("|")
        at = datetime.fromisoformat(at_s)
        if at.tzinfo is None:
            raise ValueError
        return at, int(id_s)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor is not valid (use next_cursor from a previous page)") from exc


def _keyset_after(keys: Sequence[tuple[Any, Any]]) -> Any:
    """Rows strictly after ``keys`` (column, value pairs) in descending order of the columns."""
    (col, value), rest = keys[0], keys[1:]
    if isinstance(value, bool):  # portable: no < on booleans
        less = col == False if value else false()  # noqa: E712
    else:
        less = col < value
    if not rest:
        return less
    return or_(less, and_(col == value, _keyset_after(rest)))


def _log_inbox(
    conn: Connection,
    message_id: int,
    action: str,
    by: str,
    at: datetime,
    note: str | None = None,
    report_id: int | None = None,
) -> None:
    conn.execute(
        insert(InboxMessageChange.__table__),
        {
            "message_id": message_id,
            "action": action,
            "by": by[:100],
            "note": note,
            "report_id": report_id,
            "at": at,
        },
    )


def _check_by(by: Any) -> str:
    if not isinstance(by, str) or not by or len(by) > 100:
        raise InvalidInput("by must be 1-100 characters")
    return by


def _capped_text(value: Any, name: str, max_len: int) -> str | None:
    """Like :func:`_opt_text` but cuts a long text instead of refusing it (residents' words)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string")
    return _opt_text(value.strip()[:max_len], name, max_len)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput(f"{name} must be a timezone-aware datetime")
    return value.astimezone(timezone.utc)


def _check_channel(channel: str) -> None:
    if not isinstance(channel, str) or not CHANNEL_RE.match(channel):
        raise InvalidInput("channel must be 1-32 lowercase letters, digits or _")


def _check_point(lat: Any, lon: Any) -> tuple[float | None, float | None]:
    if lat is None and lon is None:
        return None, None
    if lat is None or lon is None:
        raise InvalidInput("lat and lon must be given together")
    lat_f = _opt_number(lat, "lat", -90, 90)
    lon_f = _opt_number(lon, "lon", -180, 180)
    return lat_f, lon_f


def _opt_number(value: Any, name: str, lo: float, hi: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{name} must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be a number") from exc
    if not (lo <= number <= hi):  # also rejects NaN
        raise InvalidInput(f"{name} must be between {lo} and {hi}")
    return number


def _opt_int(value: Any, name: str, lo: int, hi: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be an integer")
    if not (lo <= value <= hi):
        raise InvalidInput(f"{name} must be between {lo} and {hi}")
    return value


def _opt_text(value: Any, name: str, max_len: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string")
    value = value.strip()
    if len(value) > max_len:
        raise InvalidInput(f"{name} must be at most {max_len} characters")
    return value or None


def _opt_shelter_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not SHELTER_ID_RE.match(value):
        raise InvalidInput("shelter_id must be a 共通ID (1-32 letters, digits, _ or -)")
    return value


def _str_list(values: Iterable[str] | None, name: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        raise InvalidInput(f"{name} must be a list of strings")
    out = list(values)
    if len(out) > MAX_LIST_ITEMS:
        raise InvalidInput(f"{name} may have at most {MAX_LIST_ITEMS} items")
    for item in out:
        if not isinstance(item, str) or not (0 < len(item) <= MAX_ITEM_LEN):
            raise InvalidInput(f"{name} items must be strings of 1-{MAX_ITEM_LEN} characters")
    return out


def _vulnerable(value: dict[str, Any] | None) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("vulnerable must be an object")
    out: dict[str, int] = {}
    for key, count in value.items():
        if key not in vocab.VULNERABLE_KEYS:
            raise InvalidInput(f"vulnerable keys must be among {', '.join(vocab.VULNERABLE_KEYS)}")
        if isinstance(count, bool):
            count = int(count)
        n = _opt_int(count, f"vulnerable.{key}", 0, MAX_HEADCOUNT)
        if n:
            out[key] = n
    return out


def _check_photo_ref(ref: Any) -> str:
    if not isinstance(ref, str) or not PHOTO_REF_RE.match(ref):
        raise InvalidInput("photo ref is not valid")
    return ref
