"""Fixed vocabularies of ARCHITECTURE.md (stored value -> Japanese label).

The codes and labels come from ``bot/vocabulary.yml`` (:mod:`bot.vocabulary`), read on first
access of a name below, not at import time. The dicts keep the order of the vocabulary file.
English labels: ``bot.vocabulary.labels(group, "en")``.
"""

from __future__ import annotations

from typing import Any

from bot import vocabulary

# Module attribute -> vocabulary group.
_GROUPS = {
    "CATEGORIES": "category",
    "REPORT_STATUSES": "report_status",
    "URGENCIES": "urgency",
    "PLACE_TYPES": "place_type",
    "CONGESTION": "congestion",
    "SHELTER_STATES": "shelter_state",
    "SUPPLIES": "supply",
    "VULNERABLE_KEYS": "vulnerable",
    # Severity of an officials' notice (避難指示 and other evacuation orders are "emergency").
    "NOTICE_SEVERITIES": "notice_severity",
    # Outcome of a notice's broadcast on one channel.
    "BROADCAST_STATUSES": "broadcast_status",
}

CATEGORIES: dict[str, str]
REPORT_STATUSES: dict[str, str]
URGENCIES: dict[str, str]
PLACE_TYPES: dict[str, str]
CONGESTION: dict[str, str]
SHELTER_STATES: dict[str, str]
SUPPLIES: dict[str, str]
VULNERABLE_KEYS: dict[str, str]
NOTICE_SEVERITIES: dict[str, str]
BROADCAST_STATUSES: dict[str, str]

# Allowed moves. The main path is new -> confirmed -> in_progress -> resolved (steps may be skipped
# forward); duplicate / rejected close a report from any open state; a closed report may be reopened.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"confirmed", "in_progress", "resolved", "duplicate", "rejected"}),
    "confirmed": frozenset({"in_progress", "resolved", "duplicate", "rejected"}),
    "in_progress": frozenset({"resolved", "duplicate", "rejected"}),
    "resolved": frozenset({"in_progress"}),
    "duplicate": frozenset({"new"}),
    "rejected": frozenset({"new"}),
}

ROLES: dict[str, int] = {"viewer": 1, "operator": 2, "admin": 3}


def __getattr__(name: str) -> Any:
    group = _GROUPS.get(name)
    if group is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = vocabulary.labels(group, "ja")
    globals()[name] = value  # later reads skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_GROUPS))
