"""One measured hot spot of Rasa 3.6 on our path, replaced by the same check done once.

Rasa checks every answer of the action server against its response schema with
``jsonschema.validate(result, schema)`` (``RemoteAction._validate_action_result``). That call first
validates the *schema itself* against the JSON-Schema meta-schema and builds a new validator, on
every call; the events schema is large, so on this machine it took about 45 ms of the Rasa
server's CPU per action call - more than the NLU pipeline - and every user turn makes at least one
call (the ``language`` slot's custom mapping). bench/profile_turn.py found it (docs/performance.md).

:func:`apply` replaces the method with one that checks the (constant) schema and builds the
validator once, then validates each answer exactly as ``jsonschema.validate`` does (same
validator class, ``best_match`` of the errors, the same message added to the error). It runs in
the Rasa server's process when our tracker store starts (:mod:`bot.tracker_cache`).
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_lock = threading.Lock()
_applied = False
#: Rasa's own method, kept for reference (tests compare both)
ORIGINAL = RemoteAction._validate_action_result


@functools.lru_cache(maxsize=1)
def response_validator() -> Any:
    """The validator of Rasa's action-response schema (schema checked once)."""
    from jsonschema.validators import validator_for

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the validator built once."""
    from jsonschema import exceptions

    error = exceptions.best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def apply() -> None:
    """Install :func:`validate_action_result` on Rasa's ``RemoteAction`` (idempotent)."""
    global _applied
    with _lock:
        if not _applied:
            RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
            _applied = True
