"""Disaster officials: a role and an API token stored only as its SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.store import validation as v
from bot.store import vocab
from bot.store.database import Database
from bot.store.errors import InvalidInput
from bot.store.models import Official, utcnow

MAX_TOKEN = 200


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Officials:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, name: str, role: str) -> tuple[Official, str]:
        """Create an official; returns it and the plain token (shown once, stored hashed)."""
        v.check_name(name)
        v.one_of(role, vocab.ROLES, "role")
        token = "bosai_" + secrets.token_urlsafe(32)
        row = Official(name=name, role=role, token_hash=hash_token(token), created_at=utcnow())
        with self.db.session() as s:
            s.add(row)
            try:
                s.commit()
            except IntegrityError as exc:
                raise InvalidInput(f"an official named {name!r} already exists") from exc
        return row, token

    def revoke(self, name: str) -> bool:
        """Revoke an official's token; False when no active official has that name."""
        with self.db.session() as s:
            row = s.execute(
                select(Official).where(Official.name == name, Official.revoked_at.is_(None))
            ).scalar_one_or_none()
            if row is None:
                return False
            row.revoked_at = utcnow()
            s.commit()
            return True

    def all(self) -> list[Official]:
        with self.db.session() as s:
            return list(s.execute(select(Official).order_by(Official.name)).scalars())

    def authenticate(self, token: str) -> Official | None:
        """The active official holding ``token``, or None."""
        if not token or len(token) > MAX_TOKEN:
            return None
        with self.db.session() as s:
            return s.execute(
                select(Official).where(
                    Official.token_hash == hash_token(token), Official.revoked_at.is_(None)
                )
            ).scalar_one_or_none()
