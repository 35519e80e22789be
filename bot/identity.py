"""Who a resident is to the bot: one pseudonymous sender id per resident and channel.

Rasa keys every conversation (tracker) by its sender id. Every channel gives Rasa the sender

    ``<channel>:<pseudonym>``   e.g. ``line:3f9a…`` (64 hex digits)

where ``<pseudonym>`` is the keyed hash (HMAC-SHA256 with ``BOSAI_RESIDENT_SECRET``) of
``"<channel>:<platform id>"`` — exactly the pseudonym the report store has always kept for a
resident (:class:`bot.store.residents.Residents`), so reports, registrations and inbox rows of a
resident stay linked across this change. The platform id is the LINE userId, the Telegram chat
id, the widget's server-signed session nonce (:mod:`bot.channels.webchat`) or the ``sender`` a
REST client gave (:mod:`bot.channels.rest`).

Consequences:

- a guessed or known platform id sent through another channel lands in *that* channel's
  namespace (``rest:<hash of "rest:U123…">``), never in the LINE or Telegram conversation;
- the same raw id on two channels gives two residents (the channel is inside the hash and in
  the prefix);
- the actions never hash again: :func:`resident_of` reads the pseudonym from the sender id
  (derived once, in the connector). A sender in another form (a tracker from before this
  change, a test) is hashed as before.

The raw platform id is kept only where a reply or push must be addressed: the
``resident_addresses`` table (:mod:`bot.store.addresses`), which no officials' route reads.
"""

from __future__ import annotations

import hashlib
import hmac
import re

#: ``<channel>:<64 hex digits>``; channels are the store's channel names.
SENDER_RE = re.compile(r"^([a-z0-9_]{1,32}):([0-9a-f]{64})$")


def pseudonym(secret: bytes, channel: str, platform_id: str) -> str:
    """Keyed hash (HMAC-SHA256, hex) of ``"<channel>:<platform id>"``.

    Examples
    --------
    >>> len(pseudonym(b"k", "line", "U1"))
    64
    """
    msg = f"{channel}:{platform_id}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


def sender_id(secret: bytes, channel: str, platform_id: str) -> str:
    """The sender id Rasa sees for ``platform_id`` on ``channel``: ``<channel>:<pseudonym>``."""
    return f"{channel}:{pseudonym(secret, channel, platform_id)}"


def parse_sender(sender: str) -> tuple[str, str] | None:
    """``(channel, pseudonym)`` of a sender id made by :func:`sender_id`, else None."""
    match = SENDER_RE.match(sender) if isinstance(sender, str) else None
    return (match.group(1), match.group(2)) if match else None


def resident_of(secret: bytes, channel: str, sender: str) -> str:
    """The stored pseudonym of the resident behind ``sender`` on ``channel``.

    A sender id of this channel carries it already; anything else (a sender from before the
    namespaced ids, a test) is treated as a platform id and hashed, as the store always did.
    """
    parsed = parse_sender(sender)
    if parsed is not None and parsed[0] == channel:
        return parsed[1]
    return pseudonym(secret, channel, sender)


def derived_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose (widget sessions) derived from the resident secret, so that one
    secret per installation is enough and the purposes never share a key."""
    return hmac.new(secret, f"bosai:{purpose}".encode(), hashlib.sha256).digest()


def default_secret() -> bytes:
    """The installation's resident secret (:func:`bot.settings.resident_secret`)."""
    from bot.settings import resident_secret

    return resident_secret()


class KeyedBySecret:
    """Holds the installation's resident secret, read on first use unless one is given (tests
    give their own); for the classes that hash or sign with it."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = default_secret()
        return self._secret
