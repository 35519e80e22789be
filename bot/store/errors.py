"""Errors raised by the store (the officials' API maps them to 400, 404 and 409)."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of store errors."""


class InvalidInput(StoreError, ValueError):
    """A field failed validation; the message says which and why."""


class NotFound(StoreError, LookupError):
    """The report / official / object does not exist."""


class InvalidTransition(StoreError):
    """A status move not allowed by :data:`bot.store.vocab.TRANSITIONS` (or a message already
    turned into a report)."""
