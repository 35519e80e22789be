"""Personal data: a resident's erasure (「データを削除」) and the retention purge.

What is kept, for how long and who sees it is written down in ``docs/privacy.md``; this module is
the code behind it.

Erasure (:meth:`Privacy.erase_resident`): the resident's evacuee registration is deleted, their
photos are deleted (files included, unless another report still uses the same file), and their
reports and inbox messages stay for the disaster response but lose every link to the resident
(the pseudonym is cleared) and any free text that carries personal data
(:func:`has_personal_data`). Reports that are closed also get their place rounded to about
100 m. The conversation itself (Rasa's tracker) is deleted by the tracker store
(:mod:`bot.tracker_store`).

Retention (:meth:`Privacy.purge` for the report store, :func:`bot.store.trackers.purge_trackers`
for Rasa's tracker store): everything that only serves a conversation in progress is removed once it is older
than the retention (``BOSAI_RETENTION_DAYS``): tracker events, de-duplication rows, answered
intake events, residents' addresses whose conversation is gone, the text of inbox messages an
official has handled, and the pseudonym on reports. Photo files that no report uses are removed
after a day. The counts returned never contain personal data.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from bot.store.addresses import ResidentAddress
from bot.store.database import Database
from bot.store.intake import DONE, FAILED, IntakeEvent
from bot.store.models import (
    Evacuee,
    InboundMessage,
    InboxMessage,
    Report,
    ReportPhoto,
)
from bot.store.photos import Photos

#: What replaces a resident's free text that is removed (shown to officials as is).
ERASED_TEXT = "［本人の求めにより削除］"
EXPIRED_TEXT = "［保存期間経過のため削除］"
#: Report states after which the exact place is no longer needed for the response.
CLOSED_STATUSES = ("resolved", "duplicate", "rejected")
#: Decimal places a place is rounded to when exactness is no longer needed (0.001° ≈ 100 m).
ROUND_DECIMALS = 3
#: Photos no report uses are kept this long (a form in progress attaches them at its end).
ORPHAN_PHOTO_GRACE = timedelta(days=1)

_DASH = r"\-‐‑‒–—―−ー－"
# A run of digits or word characters starts a match only at its first character (lookbehind):
# otherwise every position of a long run is tried to the run's end, and the check costs the
# run's length squared (tests/fuzz/test_linear_time.py).
_PERSONAL_PATTERNS = [
    # telephone numbers: 090-1234-5678, 0138 12 3456, 0120123456, +81 90 ...
    re.compile(rf"(?:\+81[\s{_DASH}]?|0)\d{{1,4}}[\s{_DASH}]?\d{{1,4}}[\s{_DASH}]?\d{{3,4}}"),
    # e-mail addresses
    re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    # postal codes
    re.compile(rf"〒\s*\d{{3}}|\b\d{{3}}[{_DASH}]\d{{4}}\b"),
    # block and house numbers of an address: 3丁目12-4, 12番地, 5番3号, 3-12-4, 北4条東3
    re.compile(r"(?<![0-9一二三四五六七八九十])[0-9一二三四五六七八九十]+\s*(?:丁目|番地|番|号)"),
    re.compile(rf"(?<!\d)\d+[{_DASH}]\d+(?:[{_DASH}]\d+)?"),
    re.compile(r"(?<!\d)\d+条[東西南北]?\d+"),
    # a person named with an honorific: 山田さん, 佐藤様
    re.compile(r"[\u4e00-\u9fff]{1,4}(?:さん|様|さま|くん|君|ちゃん|殿)"),
    # age of a person
    re.compile(r"(?<!\d)\d+\s*(?:歳|才)"),
    # health and care needs (要配慮個人情報 under the APPI)
    re.compile(
        r"透析|持病|病気|病院|入院|通院|障害|障がい|認知症|妊娠|妊婦|寝たきり|車いす|車椅子"
        r"|酸素|人工呼吸|インスリン|服薬|薬|介護|要介護|要支援|けが|怪我|骨折|出血|意識"
    ),
    re.compile(
        r"dialysis|disab|dementia|pregnan|wheelchair|oxygen|insulin|medicat|injur|bleed",
        re.IGNORECASE,
    ),
]


def has_personal_data(text: str | None) -> bool:
    """True when ``text`` may identify or describe a person (kept only when this is False).

    The check errs on the side of removal: a telephone number, an e-mail address, a postal
    code, the block or house number of an address, a name with an honorific, an age, or a word
    about health or care (要配慮個人情報).

    Examples
    --------
    >>> has_personal_data("道路が冠水しています")
    False
    >>> has_personal_data("緑町3丁目12-4の青い屋根の家")
    True
    >>> has_personal_data("人工透析の母がいます")
    True
    """
    if not text:
        return False
    norm = unicodedata.normalize("NFKC", text)
    return any(p.search(norm) for p in _PERSONAL_PATTERNS)


def _scrubbed(text: str | None, replacement: str | None) -> str | None:
    return replacement if has_personal_data(text) else text


def rounded(value: float | None) -> float | None:
    """``value`` rounded to :data:`ROUND_DECIMALS` decimal places (about 100 m), None stays."""
    return None if value is None else round(float(value), ROUND_DECIMALS)


@dataclass
class Erasure:
    """What :meth:`Privacy.erase_resident` did (counts only)."""

    registrations: int = 0
    photos: int = 0
    reports: int = 0
    inbox_messages: int = 0
    intake_events: int = 0
    photo_refs: list[str] = field(default_factory=list, repr=False)


class Privacy:
    def __init__(self, db: Database, photos: Photos) -> None:
        self.db = db
        self.photos = photos

    # ------------------------------------------------------------------ erasure
    def erase_resident(self, resident: str, photo_refs: Iterable[str] = ()) -> Erasure:
        """Delete a resident's registration and photos; anonymise their reports and messages.

        ``photo_refs`` are photos the resident sent that may not be on a report yet (a form in
        progress); they are deleted too unless another report uses the same file. Everything in
        the database changes in one transaction; files are deleted after it commits.
        """
        out = Erasure()
        if not resident:
            return out
        refs: set[str] = {r for r in photo_refs if isinstance(r, str) and r}
        with self.db.engine.begin() as conn:
            out.registrations = conn.execute(
                delete(Evacuee.__table__).where(Evacuee.resident == resident)
            ).rowcount
            reports = conn.execute(
                select(
                    Report.id, Report.status, Report.text, Report.place_text, Report.lat, Report.lon
                ).where(Report.resident == resident)
            ).all()
            ids = [r.id for r in reports]
            if ids:
                refs.update(
                    conn.execute(
                        select(ReportPhoto.photo_ref).where(ReportPhoto.report_id.in_(ids))
                    ).scalars()
                )
                conn.execute(delete(ReportPhoto.__table__).where(ReportPhoto.report_id.in_(ids)))
            for r in reports:
                closed = r.status in CLOSED_STATUSES
                conn.execute(
                    update(Report.__table__)
                    .where(Report.id == r.id)
                    .values(
                        resident=None,
                        text=_scrubbed(r.text, ERASED_TEXT),
                        place_text=_scrubbed(r.place_text, None),
                        lat=rounded(r.lat) if closed else r.lat,
                        lon=rounded(r.lon) if closed else r.lon,
                    )
                )
            out.reports = len(reports)
            messages = conn.execute(
                select(
                    InboxMessage.id,
                    InboxMessage.text,
                    InboxMessage.place_text,
                    InboxMessage.handled,
                    InboxMessage.lat,
                    InboxMessage.lon,
                ).where(InboxMessage.resident == resident)
            ).all()
            for m in messages:
                conn.execute(
                    update(InboxMessage.__table__)
                    .where(InboxMessage.id == m.id)
                    .values(
                        resident="",
                        text=_scrubbed(m.text, ERASED_TEXT) or "",
                        place_text=_scrubbed(m.place_text, None),
                        lat=rounded(m.lat) if m.handled else m.lat,
                        lon=rounded(m.lon) if m.handled else m.lon,
                    )
                )
            out.inbox_messages = len(messages)
            conn.execute(
                update(InboundMessage.__table__)
                .where(InboundMessage.sender_hash == resident)
                .values(sender_hash="")
            )
            out.intake_events = _erase_intake(conn, resident)
            still_used = (
                set(
                    conn.execute(
                        select(ReportPhoto.photo_ref).where(ReportPhoto.photo_ref.in_(refs))
                    ).scalars()
                )
                if refs
                else set()
            )
        for ref in sorted(refs - still_used):
            if self._delete_photo(ref):
                out.photos += 1
        out.photo_refs = sorted(refs - still_used)
        return out

    def _delete_photo(self, ref: str) -> bool:
        try:
            path = self.photos.path(ref)
        except Exception:  # noqa: BLE001 - not a ref of ours: nothing to delete
            return False
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    # ------------------------------------------------------------------ retention
    def purge(self, cutoff: datetime, now: datetime | None = None) -> dict[str, int]:
        """Remove what only served conversations older than ``cutoff``; returns counts."""
        out: dict[str, int] = {}
        with self.db.engine.begin() as conn:
            out["inbound_ids"] = conn.execute(
                delete(InboundMessage.__table__).where(InboundMessage.received_at < cutoff)
            ).rowcount
            out.update(_purge_intake(conn, cutoff))
            out["inbox_texts"] = conn.execute(
                update(InboxMessage.__table__)
                .where(
                    InboxMessage.handled.is_(True),
                    InboxMessage.received_at < cutoff,
                    InboxMessage.text != EXPIRED_TEXT,
                )
                .values(text=EXPIRED_TEXT, place_text=None, resident="")
            ).rowcount
            out["report_pseudonyms"] = conn.execute(
                update(Report.__table__)
                .where(Report.resident.is_not(None), Report.updated_at < cutoff)
                .values(resident=None)
            ).rowcount
        out["orphan_photos"] = self.purge_orphan_photos(now=now)
        return out

    def purge_orphan_photos(self, now: datetime | None = None) -> int:
        """Delete photo files no report uses, once they are older than a day."""
        directory = self.photos.directory
        if not directory.is_dir():
            return 0
        with self.db.session() as s:
            used = set(s.execute(select(ReportPhoto.photo_ref).distinct()).scalars())
        limit = (now.timestamp() if now else time.time()) - ORPHAN_PHOTO_GRACE.total_seconds()
        removed = 0
        for path in directory.glob("*/*"):
            if not path.is_file() or path.name in used:
                continue
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def purge_addresses(self, cutoff: datetime, live_senders: set[str]) -> int:
        """Delete residents' addresses (raw platform ids) older than ``cutoff`` whose
        conversation no longer exists in the tracker store (``live_senders``)."""
        with self.db.engine.begin() as conn:
            stale = [
                sender
                for sender in conn.execute(
                    select(ResidentAddress.sender).where(ResidentAddress.updated_at < cutoff)
                ).scalars()
                if sender not in live_senders
            ]
            removed = 0
            for start in range(0, len(stale), 500):
                chunk = stale[start : start + 500]
                removed += conn.execute(
                    delete(ResidentAddress.__table__).where(ResidentAddress.sender.in_(chunk))
                ).rowcount
        return removed


# ---------------------------------------------------------------------- durable intake
def _erase_intake(conn: Connection, resident: str) -> int:
    """Delete the resident's answered intake events (durable intake); pending ones are left
    alone (the message being answered now is one of them)."""
    return int(
        conn.execute(
            delete(IntakeEvent.__table__).where(
                IntakeEvent.resident == resident, IntakeEvent.status == DONE
            )
        ).rowcount
    )


def _purge_intake(conn: Connection, cutoff: datetime) -> dict[str, int]:
    """Answered intake events older than ``cutoff`` are deleted (they only served to drop
    redeliveries); failed ones stay for the operators but lose the message itself."""
    done = conn.execute(
        delete(IntakeEvent.__table__).where(
            IntakeEvent.status == DONE, IntakeEvent.received_at < cutoff
        )
    ).rowcount
    failed = conn.execute(
        update(IntakeEvent.__table__)
        .where(
            IntakeEvent.status == FAILED,
            IntakeEvent.received_at < cutoff,
            IntakeEvent.payload.is_not(None),
        )
        .values(payload=sa.null(), replies=sa.null())
    ).rowcount
    return {"intake_events": int(done), "failed_intake_texts": int(failed)}
