"""The model's domain in the action server, for action calls that come without it.

Rasa posts the whole domain (about 80 KiB of JSON: every response in two languages) with every
action call, and at least one call is made on every user turn; on this machine that was about
three quarters of a short conversation's round trip (docs/performance.md). With
``enable_selective_domain: true`` on the action endpoint (``bosai run`` writes it), Rasa 3.6
leaves the domain out of every call to an action not marked ``send_domain: true``. Our actions
still read it (responses they render, a form's required slots, rasa_sdk's slot mappings), so
the action server supplies it itself, the same dict Rasa would have posted:

- the domain comes from the model archive Rasa serves (``models/bosai-*.tar.gz``,
  ``metadata.json``: ``{"model_id": ..., "domain": domain.as_dict()}``), found by the
  ``model_id`` Rasa stamps on every event of the tracker (``tracker.model_id``); a test checks
  that it equals what Rasa posts (``Domain.from_dict(...).as_dict()`` of the loaded model);
- a call that does carry a domain (an action marked ``send_domain``, or Rasa with the option
  off) is used as it is, and remembered for its model;
- when no archive has the call's model (deleted after Rasa loaded it, before this server
  started), the newest model's domain is used and a warning logged.

:class:`DomainFillingExecutor` is rasa_sdk's ``ActionExecutor`` with that one step before
``run``; :func:`bot.limits.serve_actions` builds the app with it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tarfile
import threading
from pathlib import Path
from typing import Any

from rasa_sdk.executor import ActionExecutor

logger = logging.getLogger(__name__)

METADATA_FILE = "metadata.json"
#: domains kept per process (one per model; a model is rarely replaced while the server runs)
MAX_MODELS = 4

_lock = threading.Lock()
_domains: dict[str, dict[str, Any]] = {}  # model_id -> domain, oldest first
_read: dict[Path, tuple[float, str | None]] = {}  # archive -> (mtime, model_id) already read


def call_model_id(action_call: dict[str, Any]) -> str | None:
    """The ``model_id`` Rasa stamped on the latest event of the call's tracker, if any."""
    events = (action_call.get("tracker") or {}).get("events") or []
    for event in reversed(events):
        model_id = (event.get("metadata") or {}).get("model_id")
        if model_id:
            return str(model_id)
    return None


def read_archive(path: Path) -> tuple[str, dict[str, Any]]:
    """``(model_id, domain)`` from a Rasa 3 model archive's ``metadata.json``."""
    with tarfile.open(path, mode="r:gz") as tar:
        for member in tar:
            if member.isfile() and member.name.lstrip("./") == METADATA_FILE:
                handle = tar.extractfile(member)
                if handle is None:
                    break
                metadata = json.load(handle)
                return str(metadata["model_id"]), dict(metadata["domain"])
    raise ValueError(f"{path}: no {METADATA_FILE} in the model archive")


def _remember(model_id: str, domain: dict[str, Any]) -> None:
    _domains.pop(model_id, None)
    _domains[model_id] = domain
    while len(_domains) > MAX_MODELS:
        _domains.pop(next(iter(_domains)))


def _archives(models_dir: Path) -> list[Path]:
    """``bosai-*.tar.gz`` in ``models_dir``, newest first."""
    found = [p for p in models_dir.glob("bosai-*.tar.gz") if p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def domain_for(model_id: str | None, models_dir: Path) -> dict[str, Any]:
    """The domain of model ``model_id`` (blocking on a miss: reads archives).

    Raises
    ------
    LookupError
        When there is no readable model archive at all.
    """
    with _lock:
        if model_id and model_id in _domains:
            return _domains[model_id]
        newest: dict[str, Any] | None = None
        for path in _archives(models_dir):
            mtime = path.stat().st_mtime
            seen = _read.get(path)
            if seen is not None and seen[0] == mtime:
                seen_id = seen[1]
                if seen_id is None:
                    continue  # unreadable
                if seen_id in _domains:
                    if newest is None:
                        newest = _domains[seen_id]
                    if model_id is None or seen_id == model_id:
                        return _domains[seen_id]
                    continue
                if model_id is not None and seen_id != model_id:
                    continue  # read before, evicted since, not the wanted model
            try:
                found_id, domain = read_archive(path)
            except (OSError, ValueError, KeyError, tarfile.TarError) as exc:
                logger.warning("action domain: cannot read %s (%s)", path.name, exc)
                _read[path] = (mtime, None)
                continue
            _read[path] = (mtime, found_id)
            _remember(found_id, domain)
            if newest is None:
                newest = domain
            if model_id is None or found_id == model_id:
                return domain
        if newest is None:
            raise LookupError(f"no model archive in {models_dir} to take the domain from")
        logger.warning(
            "action domain: model %s not found in %s; using the newest model's domain",
            model_id, models_dir,
        )
        return newest


def preload(models_dir: Path) -> None:
    """Read the newest model's domain now (the server's start, off the event loop)."""
    try:
        domain_for(None, models_dir)
    except LookupError as exc:
        logger.warning("action domain: %s", exc)


class DomainFillingExecutor(ActionExecutor):
    """rasa_sdk's executor; a call without ``domain`` gets the domain of its model."""

    def __init__(self, models_dir: Path | None = None) -> None:
        super().__init__()
        if models_dir is None:
            from bot.settings import get_settings

            models_dir = get_settings().models_dir
        self.models_dir = models_dir

    async def run(self, action_call: Any) -> dict[str, Any] | None:
        if isinstance(action_call, dict):
            model_id = call_model_id(action_call)
            domain = action_call.get("domain")
            if domain:
                if model_id:
                    with _lock:
                        _remember(model_id, domain)
            else:
                cached = _domains.get(model_id) if model_id else None
                if cached is None:  # first call of a model: read its archive off the loop
                    loop = asyncio.get_running_loop()
                    cached = await loop.run_in_executor(
                        None, domain_for, model_id, self.models_dir
                    )
                action_call["domain"] = cached
        return await super().run(action_call)


def clear() -> None:
    """Forget every domain read (tests)."""
    with _lock:
        _domains.clear()
        _read.clear()
