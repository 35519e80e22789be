"""The report store: one facade over the store's parts, one engine and session factory.

Each concern lives in its own module, as a part that shares :class:`~bot.store.database.Database`:

=====================  ==========================================================
``store.residents``    pseudonyms (:mod:`bot.store.residents`)
``store.inbound``      inbound message ids, redeliveries (:mod:`bot.store.inbound`)
``store.intake``       webhook events until answered (:mod:`bot.store.intake`)
``store.reports``      reports, their status log (:mod:`bot.store.reports`)
``store.photos``       photo files (:mod:`bot.store.photos`)
``store.evacuees``     evacuee registrations (:mod:`bot.store.evacuees`)
``store.shelters``     shelter status (:mod:`bot.store.shelters`)
``store.notices``      notices to residents (:mod:`bot.store.notices`)
``store.officials``    officials and tokens (:mod:`bot.store.officials`)
``store.inbox``        the 未対応メッセージ inbox (:mod:`bot.store.inbox`)
``store.addresses``    raw platform ids for replies and pushes only (:mod:`bot.store.addresses`)
``store.privacy``      a resident's erasure, the retention purge (:mod:`bot.store.privacy`)
``store.audit``        the officials' access log: every export (:mod:`bot.store.audit`)
=====================  ==========================================================

Field checks and limits are in :mod:`bot.store.validation`. The methods below
(``store.create_report(...)`` and so on) are the parts' own methods, kept under the names callers
have always used. All methods are blocking; async callers run them in an executor (CONVENTIONS
rule 4).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from sqlalchemy.orm import Session

from bot.store.addresses import Addresses
from bot.store.audit import Audit
from bot.store.database import Database, build_engine
from bot.store.errors import InvalidInput, InvalidTransition, NotFound, StoreError
from bot.store.evacuees import Evacuees
from bot.store.inbound import InboundMessages
from bot.store.inbox import Inbox, InboxPage
from bot.store.intake import ClaimedEvent, Intake, IntakeItem
from bot.store.notices import Notices
from bot.store.officials import Officials, hash_token
from bot.store.paging import decode_cursor, encode_cursor
from bot.store.photos import Photos
from bot.store.privacy import Privacy
from bot.store.reports import ReportPage, ReportQuery, Reports
from bot.store.residents import Residents
from bot.store.shelters import ShelterStatuses
from bot.store.validation import (
    MAX_BROADCAST_DETAIL,
    MAX_HEADCOUNT,
    MAX_NOTICE_BODY,
    MAX_NOTICE_LIMIT,
    MAX_NOTICE_TITLE,
    MAX_PHOTO_BYTES,
    MAX_PLACE_TEXT,
    MAX_TEXT,
    PHOTO_TYPES,
)

__all__ = [
    "MAX_BROADCAST_DETAIL",
    "MAX_HEADCOUNT",
    "MAX_NOTICE_BODY",
    "MAX_NOTICE_LIMIT",
    "MAX_NOTICE_TITLE",
    "MAX_PHOTO_BYTES",
    "MAX_PLACE_TEXT",
    "MAX_TEXT",
    "PHOTO_TYPES",
    "InboxPage",
    "InvalidInput",
    "InvalidTransition",
    "NotFound",
    "ReportPage",
    "ReportQuery",
    "Store",
    "StoreError",
    "ClaimedEvent",
    "IntakeItem",
    "build_engine",
    "decode_cursor",
    "encode_cursor",
    "hash_token",
]

P = ParamSpec("P")
R = TypeVar("R")


class _Part(Generic[P, R]):
    """``name = _Part("reports", Reports.create)``: ``store.name`` is ``store.reports.create``
    (the part's bound method: same signature, docstring and types)."""

    def __init__(self, part: str, method: Callable[Concatenate[Any, P], R]) -> None:
        self.part = part
        self.method = method.__name__
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, obj: None, owner: type) -> _Part[P, R]: ...

    @overload
    def __get__(self, obj: object, owner: type) -> Callable[P, R]: ...

    def __get__(self, obj: object | None, owner: type) -> Any:
        if obj is None:
            return self
        return getattr(getattr(obj, self.part), self.method)


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
        self.db = Database(url)
        self.engine = self.db.engine
        self.residents = Residents(secret)
        self.inbound = InboundMessages(self.db)
        self.intake = Intake(self.db, self.residents)
        self.reports = Reports(self.db)
        self.photos = Photos(photo_dir)
        self.evacuees = Evacuees(self.db)
        self.shelters = ShelterStatuses(self.db)
        self.notices = Notices(self.db)
        self.officials = Officials(self.db)
        self.inbox = Inbox(self.db, self.residents)
        self.addresses = Addresses(self.db)
        self.privacy = Privacy(self.db, self.photos)
        self.audit = Audit(self.db)

    # ------------------------------------------------------------------ schema and sessions
    def upgrade(self, revision: str = "head") -> None:
        """Run the Alembic migrations up to ``revision`` (idempotent)."""
        self.db.upgrade(revision)

    def dispose(self) -> None:
        self.db.dispose()

    def session(self) -> Session:
        return self.db.session()

    @property
    def photo_dir(self) -> Path:
        return self.photos.directory

    # ------------------------------------------------------------------ the parts' methods
    resident_id = _Part("residents", Residents.pseudonym)
    sender_id = _Part("residents", Residents.sender)
    remember_address = _Part("addresses", Addresses.remember)
    address_of = _Part("addresses", Addresses.lookup)
    forget_address = _Part("addresses", Addresses.forget)
    record_inbound = _Part("inbound", InboundMessages.record)

    create_report = _Part("reports", Reports.create)
    create_reports_bulk = _Part("reports", Reports.create_bulk)
    get_report = _Part("reports", Reports.get)
    report_history = _Part("reports", Reports.history)
    attach_photo = _Part("reports", Reports.attach_photo)
    change_status = _Part("reports", Reports.change_status)
    list_reports = _Part("reports", Reports.page)
    count_reports = _Part("reports", Reports.count)

    save_photo = _Part("photos", Photos.save)
    photo_path = _Part("photos", Photos.path)
    photo_content_type = _Part("photos", Photos.content_type)

    upsert_evacuee = _Part("evacuees", Evacuees.upsert)
    evacuee_summary = _Part("evacuees", Evacuees.summary)

    set_shelter_status = _Part("shelters", ShelterStatuses.record)
    latest_shelter_status = _Part("shelters", ShelterStatuses.latest)

    create_notice = _Part("notices", Notices.create)
    latest_notices = _Part("notices", Notices.latest)
    get_notice = _Part("notices", Notices.get)
    record_broadcast = _Part("notices", Notices.record_broadcast)

    add_official = _Part("officials", Officials.add)
    revoke_official = _Part("officials", Officials.revoke)
    list_officials = _Part("officials", Officials.all)
    authenticate = _Part("officials", Officials.authenticate)

    add_inbox_message = _Part("inbox", Inbox.add)
    get_inbox_message = _Part("inbox", Inbox.get)
    list_inbox = _Part("inbox", Inbox.page)
    count_inbox = _Part("inbox", Inbox.count)
    message_history = _Part("inbox", Inbox.history)
    set_message_handled = _Part("inbox", Inbox.set_handled)
    report_from_message = _Part("inbox", Inbox.to_report)

    add_intake = _Part("intake", Intake.add)
    claim_intake = _Part("intake", Intake.claim)
    intake_counts = _Part("intake", Intake.counts)
    intake_event = _Part("intake", Intake.get)
    failed_intake = _Part("intake", Intake.failed)
