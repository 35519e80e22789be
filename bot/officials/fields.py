"""Value types of the API's models: vocabulary codes, times, boxes, numbers, and the OpenAPI
touch-ups of a model's schema.

A code type checks its vocabulary (:mod:`bot.store.vocab`) when a value is validated and lists
it when the document is built, never at import time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConstrainedFloat, ConstrainedInt, ConstrainedStr

from bot.store import validation as v
from bot.store import vocab

JST = ZoneInfo("Asia/Tokyo")
MIN_TIME = datetime(2000, 1, 1, tzinfo=timezone.utc)
MAX_TIME = datetime(2100, 1, 1, tzinfo=timezone.utc)


class Code(str):
    """A stored code of one vocabulary; the document lists the codes as an enum."""

    vocabulary: ClassVar[str] = ""

    @classmethod
    def choices(cls) -> Mapping[str, str]:
        return getattr(vocab, cls.vocabulary)

    @classmethod
    def __get_validators__(cls) -> Iterator[Callable[..., Any]]:
        yield cls.validate

    @classmethod
    def validate(cls, value: Any) -> str:
        choices = cls.choices()
        if not isinstance(value, str) or value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value

    @classmethod
    def __modify_schema__(cls, field_schema: dict[str, Any]) -> None:
        field_schema.update(type="string", enum=list(cls.choices()))


class Category(Code):
    vocabulary = "CATEGORIES"


class ReportStatus(Code):
    vocabulary = "REPORT_STATUSES"


class Urgency(Code):
    vocabulary = "URGENCIES"


class PlaceType(Code):
    vocabulary = "PLACE_TYPES"


class ShelterState(Code):
    vocabulary = "SHELTER_STATES"


class Congestion(Code):
    vocabulary = "CONGESTION"


class Supply(Code):
    vocabulary = "SUPPLIES"


class NoticeSeverity(Code):
    vocabulary = "NOTICE_SEVERITIES"


class BroadcastStatus(Code):
    vocabulary = "BROADCAST_STATUSES"


class Role(Code):
    vocabulary = "ROLES"


class InboxReason(Code):
    @classmethod
    def choices(cls) -> Mapping[str, str]:
        from bot.store.inbox import INBOX_REASONS

        return INBOX_REASONS


class InboxAction(Code):
    @classmethod
    def choices(cls) -> Mapping[str, str]:
        from bot.store.inbox import INBOX_ACTIONS

        return INBOX_ACTIONS


def parse_time(value: str) -> datetime:
    """ISO 8601 date or datetime; without an offset it is Japan time (JST)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(
            "must be an ISO 8601 date or datetime, e.g. 2025-11-26T09:00:00+09:00"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=JST)
    if not (MIN_TIME <= parsed <= MAX_TIME):
        raise ValueError("must be between 2000-01-01 and 2100-01-01")
    return parsed


class Time(datetime):
    """An ISO 8601 string: date or datetime, no offset = JST, 2000-2100."""

    @classmethod
    def __get_validators__(cls) -> Iterator[Callable[..., Any]]:
        yield cls.validate

    @classmethod
    def validate(cls, value: Any) -> datetime:
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 string, e.g. 2025-11-26T09:00:00+09:00")
        return parse_time(value)

    @classmethod
    def __modify_schema__(cls, field_schema: dict[str, Any]) -> None:
        field_schema.update(type="string", format="date-time")


class BBox(tuple):
    """``minLon,minLat,maxLon,maxLat`` in degrees (WGS84 / JGD2011)."""

    @classmethod
    def __get_validators__(cls) -> Iterator[Callable[..., Any]]:
        yield cls.validate

    @classmethod
    def validate(cls, value: Any) -> BBox:
        parts = str(value).split(",")
        if len(parts) != 4:
            raise ValueError("must be minLon,minLat,maxLon,maxLat (four numbers)")
        try:
            min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
        except ValueError as exc:
            raise ValueError("must be minLon,minLat,maxLon,maxLat (four numbers)") from exc
        if not all(math.isfinite(x) for x in (min_lon, min_lat, max_lon, max_lat)):
            raise ValueError("values must be finite numbers")
        if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
            raise ValueError("longitudes must be between -180 and 180")
        if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
            raise ValueError("latitudes must be between -90 and 90")
        if min_lon > max_lon or min_lat > max_lat:
            raise ValueError("minimums must not exceed maximums (minLon,minLat,maxLon,maxLat)")
        return cls((min_lon, min_lat, max_lon, max_lat))

    @classmethod
    def __modify_schema__(cls, field_schema: dict[str, Any]) -> None:
        field_schema.update(type="string", pattern=r"^[^,]+,[^,]+,[^,]+,[^,]+$")


class JsonNumber(ConstrainedFloat):
    """A JSON number (integer or not; never a string or a boolean) within ``ge``..``le``."""

    @classmethod
    def __get_validators__(cls) -> Generator[Callable[..., Any], None, None]:
        yield cls.only_numbers
        yield from super().__get_validators__()

    @classmethod
    def only_numbers(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError("not a number")
        return value


class Latitude(JsonNumber):
    ge, le = v.LAT_RANGE


class Longitude(JsonNumber):
    ge, le = v.LON_RANGE


class AccuracyM(JsonNumber):
    ge, le = 0.0, float(v.MAX_ACCURACY_M)


class Headcount(ConstrainedInt):
    strict = True
    ge, le = 0, v.MAX_HEADCOUNT


class ReportId(ConstrainedInt):
    strict = True
    ge, le = 1, 2**31 - 1


class ListItem(ConstrainedStr):
    """An item of a list of words (needs): 1-64 characters."""

    strict = True
    min_length, max_length = 1, v.MAX_ITEM_LEN


# ---------------------------------------------------------------------- documents
def document_schema(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """OpenAPI 3.0 touch-ups of a model's schema: ``nullable`` fields, no property titles, and
    the model's ``example``."""
    if not model.__dict__.get("__doc__"):
        schema.pop("description", None)  # not the base class's docstring
    props = schema.get("properties", {})
    required_only = getattr(model, "null_when_required_only", False)
    for field in model.__fields__.values():
        prop = props.get(field.alias)
        if prop is None:
            continue
        prop.pop("title", None)
        if field.allow_none and (field.required or not required_only):
            if "$ref" in prop:
                props[field.alias] = {"allOf": [{"$ref": prop["$ref"]}], "nullable": True}
            else:
                prop["nullable"] = True
                if "enum" in prop and None not in prop["enum"]:
                    prop["enum"] = [*prop["enum"], None]  # OpenAPI 3.0.3: null listed too
    example = getattr(model, "example", None)
    if example is not None:
        schema["example"] = example
