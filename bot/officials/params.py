"""Bounded parsing of query parameters and JSON bodies (every failure is a 400 ApiError)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sanic.request import Request

from bot.officials.errors import ApiError

JST = ZoneInfo("Asia/Tokyo")
MIN_TIME = datetime(2000, 1, 1, tzinfo=timezone.utc)
MAX_TIME = datetime(2100, 1, 1, tzinfo=timezone.utc)


def bad(message: str) -> ApiError:
    return ApiError(400, message)


def check_known(request: Request, allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    for key in request.args:
        if key not in allowed:
            raise bad(f"unknown parameter {key!r}; allowed: {', '.join(sorted(allowed))}")


def single(request: Request, name: str, max_len: int = 200) -> str | None:
    values = request.args.getlist(name) if name in request.args else []
    if not values:
        return None
    if len(values) > 1:
        raise bad(f"parameter {name!r} may be given only once")
    value = values[0].strip()
    if len(value) > max_len:
        raise bad(f"parameter {name!r} is longer than {max_len} characters")
    return value


def choices(request: Request, name: str, allowed: Iterable[str], max_items: int = 20) -> list[str]:
    allowed = list(allowed)
    out: list[str] = []
    for raw in request.args.getlist(name) if name in request.args else []:
        for value in raw.split(","):
            value = value.strip()
            if not value:
                continue
            if value not in allowed:
                raise bad(f"{name} {value[:40]!r} is not one of: {', '.join(allowed)}")
            if value not in out:
                out.append(value)
    if len(out) > max_items:
        raise bad(f"too many values for {name!r} (at most {max_items})")
    return out


def parse_time(value: str, name: str) -> datetime:
    """ISO 8601 date or datetime; without an offset it is Japan time (JST)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise bad(
            f"{name} must be an ISO 8601 date or datetime, e.g. 2025-11-26T09:00:00+09:00"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=JST)
    if not (MIN_TIME <= parsed <= MAX_TIME):
        raise bad(f"{name} must be between 2000-01-01 and 2100-01-01")
    return parsed


def time_param(request: Request, name: str) -> datetime | None:
    value = single(request, name, 40)
    return None if value is None else parse_time(value, name)


def bbox_param(request: Request, name: str = "bbox") -> tuple[float, float, float, float] | None:
    value = single(request, name, 120)
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) != 4:
        raise bad(f"{name} must be minLon,minLat,maxLon,maxLat (four numbers)")
    try:
        min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
    except ValueError as exc:
        raise bad(f"{name} must be minLon,minLat,maxLon,maxLat (four numbers)") from exc
    if not all(math.isfinite(v) for v in (min_lon, min_lat, max_lon, max_lat)):
        raise bad(f"{name} values must be finite numbers")
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise bad(f"{name} longitudes must be between -180 and 180")
    if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise bad(f"{name} latitudes must be between -90 and 90")
    if min_lon > max_lon or min_lat > max_lat:
        raise bad(f"{name} minimums must not exceed maximums (minLon,minLat,maxLon,maxLat)")
    return min_lon, min_lat, max_lon, max_lat


def int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    value = single(request, name, 12)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise bad(f"{name} must be an integer between {lo} and {hi}") from exc
    if not (lo <= number <= hi):
        raise bad(f"{name} must be an integer between {lo} and {hi}")
    return number


def float_param(request: Request, name: str, lo: float, hi: float) -> float | None:
    value = single(request, name, 24)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise bad(f"{name} must be a number between {lo} and {hi}") from exc
    if not (lo <= number <= hi):
        raise bad(f"{name} must be a number between {lo} and {hi}")
    return number


def json_object(
    request: Request, allowed: Iterable[str], max_bytes: int = 64 * 1024
) -> dict[str, Any]:
    """The request body as a JSON object with only ``allowed`` keys."""
    if len(request.body or b"") > max_bytes:
        raise ApiError(413, f"body larger than {max_bytes} bytes")
    try:
        body = request.json
    except Exception as exc:  # sanic raises InvalidUsage on bad JSON
        raise bad("body must be valid JSON") from exc
    if not isinstance(body, dict):
        raise bad("body must be a JSON object")
    allowed = set(allowed)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise bad(f"unknown field {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
    return body
