"""Who sees what in the officials' API, and the log of every export (docs/privacy.md).

- **viewer**: a report's place is rounded to 3 decimals (about 100 m) and free text that may
  carry an address or a name is left out: the resident's description (``text``), the written
  place (``place_text``) and officials' notes in the status history are null. Photos (a face,
  a house number, a name plate) are left out too: ``photos`` and ``photo_urls`` are empty,
  ``photo_count`` says how many there are, and ``GET /api/v1/photos/{ref}`` needs the operator
  role. The text search ``q`` (which would reveal the text) needs the operator role. The inbox
  is operator-only.
- **operator**, **admin**: everything, exact.

An export is a list request that asks for a file format (``format=csv`` or ``format=geojson``)
or more than :data:`BULK_LIMIT` rows at once; each writes one row to the audit log
(:mod:`bot.store.audit`) before the answer is sent: who, role, filters and how many rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sanic.request import Request

from bot.officials.errors import ApiError
from bot.officials.runtime import run_blocking, store_of
from bot.store import Report, vocab

#: A page larger than this is a bulk download (the dashboard's map asks for 500).
BULK_LIMIT = 500
#: Decimal places of a place a viewer sees (0.001° ≈ 100 m).
VIEWER_DECIMALS = 3


def sees_everything(request: Request) -> bool:
    """True for operators and admins; viewers get places rounded and no free text."""
    role = request.ctx.official.role
    return vocab.ROLES.get(role, 0) >= vocab.ROLES["operator"]


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), VIEWER_DECIMALS)


class ViewerReport:
    """A report as a viewer may see it: same attributes, place rounded, free text left out.

    Serialisers (JSON, CSV) read it like a :class:`~bot.store.Report`.
    """

    def __init__(self, report: Report) -> None:
        self._report = report
        self.lat = _round(report.lat)
        self.lon = _round(report.lon)
        self.text = None
        self.place_text = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._report, name)

    def to_dict(self) -> dict[str, Any]:
        data = self._report.to_dict()
        data.update(lat=self.lat, lon=self.lon, text=None, place_text=None, photos=[])
        return data


def for_role(request: Request, reports: list[Report]) -> list[Any]:
    """The reports as the requesting official may see them."""
    if sees_everything(request):
        return list(reports)
    return [ViewerReport(r) for r in reports]


def history_for_role(request: Request, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A report's status history; officials' notes (free text) are left out for viewers."""
    if sees_everything(request):
        return rows
    return [dict(row, note=None) for row in rows]


def check_text_search(request: Request, q: str | None) -> None:
    if q and not sees_everything(request):
        raise ApiError(403, "q searches the residents' text; this needs the operator role")


def is_export(request: Request, limit: int) -> bool:
    return "format" in request.args or limit > BULK_LIMIT


def _plain(value: Any) -> Any:
    """A filter value as JSON (times as ISO 8601)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


async def audit_export(
    request: Request, resource: str, fmt: str, rows: int, filters: dict[str, Any]
) -> None:
    """Write the export's audit row (before the answer leaves; a failure is a 500, and nothing
    is handed out unlogged)."""
    official = request.ctx.official
    detail = {
        "format": fmt,
        "rows": rows,
        "filters": {k: _plain(v) for k, v in filters.items() if v not in (None, [], "")},
        "path": request.path,
    }
    await run_blocking(
        store_of(request.app).audit.record,
        official.name,
        official.role,
        "export",
        resource,
        detail,
    )
