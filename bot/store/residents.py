"""Resident pseudonyms: a keyed hash of the channel user id (the raw id is never stored here).

The hashing itself is :mod:`bot.identity` (one place for every channel and the actions).
"""

from __future__ import annotations

from bot import identity


class Residents(identity.KeyedBySecret):
    """Pseudonyms keyed with ``secret`` (:func:`bot.settings.resident_secret` when omitted,
    read on first use)."""

    def pseudonym(self, channel: str, user_id: str) -> str:
        """The resident's pseudonym: read from a sender id (``<channel>:<hash>``, see
        :func:`bot.identity.resident_of`), or the keyed hash of a raw channel user id."""
        return identity.resident_of(self.secret, channel, user_id)

    def sender(self, channel: str, user_id: str) -> str:
        """The sender id Rasa sees for a raw channel user id (``<channel>:<pseudonym>``)."""
        return identity.sender_id(self.secret, channel, user_id)
