"""Render domain responses to text inside actions (for lists composed of several templates).

Every user-facing word stays in the domain: an action that lists three shelters renders the
``utter_shelter_item`` template for each site with :func:`render` and utters the list through
``utter_shelter_results``. Labels of fixed vocabularies come from ``utter_label_<group>_<key>``.
"""

from __future__ import annotations

import string
from typing import Any

from rasa_sdk import Tracker

DomainDict = dict[str, Any]


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def language(tracker: Tracker) -> str:
    """``en`` or ``ja`` (default) from the ``language`` slot."""
    return "en" if tracker.get_slot("language") == "en" else "ja"


def _matches(variation: dict[str, Any], lang: str) -> bool:
    for cond in variation.get("condition") or []:
        if cond.get("type") == "slot" and cond.get("name") == "language":
            if cond.get("value") != lang:
                return False
    return True


def template(domain: DomainDict, name: str, lang: str, /) -> str:
    """The text of response ``name`` for ``lang`` (conditional variation first, as Rasa does)."""
    variations = (domain.get("responses") or {}).get(name) or []
    conditional = [v for v in variations if v.get("condition") and _matches(v, lang)]
    plain = [v for v in variations if not v.get("condition")]
    for v in conditional + plain:
        if v.get("text") is not None:
            return str(v["text"])
    raise KeyError(f"response {name!r} has no text in the domain")


def render(domain: DomainDict, response: str, lang: str, /, **values: Any) -> str:
    """Fill the response text with ``values``; unknown placeholders render empty."""
    text = template(domain, response, lang)
    fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
    data = _Blank({k: "" if v is None else v for k, v in values.items()})
    for f in fields:
        data.setdefault(f, "")
    return text.format_map(data)


def label(domain: DomainDict, group: str, key: str | None, lang: str) -> str:
    """Label of a fixed value (``label(d, "hazard", "tsunami", "ja")`` → ``津波``)."""
    if not key:
        return ""
    try:
        return template(domain, f"utter_label_{group}_{key}", lang)
    except KeyError:
        return str(key)


def join(items: list[str], lang: str) -> str:
    """Join labels the way each language lists them."""
    return (", " if lang == "en" else "、").join(i for i in items if i)
