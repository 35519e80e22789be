"""Resident pseudonyms: a keyed hash of the channel user id (the raw id is never stored)."""

from __future__ import annotations

import hashlib
import hmac


class Residents:
    """Pseudonyms keyed with ``secret`` (:func:`bot.settings.resident_secret` when omitted,
    read on first use)."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret

    def pseudonym(self, channel: str, user_id: str) -> str:
        """Keyed hash (HMAC-SHA256) of a channel user id; the raw id is never stored."""
        if self._secret is None:
            from bot.settings import resident_secret

            self._secret = resident_secret()
        msg = f"{channel}:{user_id}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()
