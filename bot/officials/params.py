"""Query parameters and JSON bodies parsed into the models of :mod:`bot.officials.schemas`.

Every failure is a 400 :class:`ApiError` (413 for a body too large) whose message names the
parameter or field and says what is allowed, in the API's one error shape.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, StrictBool, ValidationError
from pydantic.fields import SHAPE_LIST, ModelField
from sanic.request import Request

from bot.officials.errors import ApiError
from bot.officials.fields import JST, Code

__all__ = ["JST", "bad", "describe", "json_body", "query", "validate"]

M = TypeVar("M", bound=BaseModel)
MAX_BODY = 64 * 1024
MAX_RAW_PARAM = 200  # any query value, before the model's own bounds


def bad(message: str) -> ApiError:
    return ApiError(400, message)


# ---------------------------------------------------------------------- entry points
def query(request: Request, model: type[M]) -> M:
    """The query string as ``model``: unknown or repeated parameters and bad values are 400."""
    fields = model.__fields__
    data: dict[str, Any] = {}
    for key in request.args:
        if key not in fields:
            raise bad(f"unknown parameter {key!r}; allowed: {', '.join(sorted(fields)) or 'none'}")
    for name, field in fields.items():
        values = request.args.getlist(name) if name in request.args else []
        if not values:
            continue
        if field.shape == SHAPE_LIST:
            items = [part.strip() for raw in values for part in raw.split(",")]
            data[name] = list(dict.fromkeys(item for item in items if item))
            continue
        if len(values) > 1:
            raise bad(f"parameter {name!r} may be given only once")
        value = values[0].strip()
        if len(value) > MAX_RAW_PARAM:
            raise bad(f"parameter {name!r} is longer than {MAX_RAW_PARAM} characters")
        if value:
            data[name] = value
    return validate(model, data, in_query=True)


def json_body(request: Request, model: type[M], max_bytes: int = MAX_BODY) -> M:
    """The request body, a JSON object, as ``model`` (only the model's fields are allowed)."""
    if len(request.body or b"") > max_bytes:
        raise ApiError(413, f"body larger than {max_bytes} bytes")
    try:
        body = request.json
    except Exception as exc:  # sanic raises InvalidUsage on bad JSON
        raise bad("body must be valid JSON") from exc
    if not isinstance(body, dict):
        raise bad("body must be a JSON object")
    return validate(model, body, in_query=False)


def validate(model: type[M], data: dict[str, Any], *, in_query: bool = False) -> M:
    """``data`` as ``model``, or a 400 :class:`ApiError` naming the first bad field."""
    try:
        return model.parse_obj(data)
    except ValidationError as exc:
        errors = exc.errors()
        # an unknown field first: it is most often a misspelt one
        errors.sort(key=lambda e: e["type"] != "value_error.extra")
        raise bad(describe(errors[0], model, in_query)) from exc


# ---------------------------------------------------------------------- messages
def _kind(field: ModelField) -> str:
    """What a field holds, for messages: code, choice, boolean, integer, number, string, other."""
    type_ = field.type_
    if typing.get_origin(type_) is typing.Literal:
        return "choice"
    if isinstance(type_, type):
        if issubclass(type_, Code):
            return "code"
        if issubclass(type_, (bool, StrictBool)):  # StrictBool is an int subclass
            return "boolean"
        if issubclass(type_, int):
            return "integer"
        if issubclass(type_, float):
            return "number"
        if issubclass(type_, str):
            return "string"
    return "other"


def _bounds(field: ModelField) -> tuple[Any, Any]:
    info, type_ = field.field_info, field.type_
    lo = info.ge if info.ge is not None else getattr(type_, "ge", None)
    hi = info.le if info.le is not None else getattr(type_, "le", None)
    return lo, hi


def _hint(field: ModelField) -> str:
    kind = _kind(field)
    if kind == "code":
        return f": one of {', '.join(field.type_.choices())}"
    if kind == "choice":
        return f": one of {', '.join(map(str, typing.get_args(field.type_)))}"
    if kind == "boolean":
        return ": true or false"
    if kind == "string":
        return " (a string)"
    return ""


EXPECTED = {
    "boolean": "true or false",
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
}


def describe(error: Mapping[str, Any], model: type[BaseModel], in_query: bool) -> str:
    """One pydantic error as a sentence that names the parameter or field."""
    loc, etype, ctx = error["loc"], error["type"], error.get("ctx") or {}
    if loc[0] == "__root__":
        return str(error["msg"])
    name = str(loc[0])
    if etype == "value_error.extra":
        return f"unknown field {name!r}; allowed: {', '.join(model.__fields__)}"
    field = model.__fields__[name]
    item = len(loc) > 1 and field.shape == SHAPE_LIST
    subject = f"{name} items" if item else name
    kind = _kind(field)
    if etype == "value_error.missing":
        return f"{name} is required{_hint(field)}"
    if etype == "value_error":  # our own validators (codes, times, bbox): the message says why
        return f"{subject} {error['msg']}"
    if etype == "value_error.const":
        return f"{subject} must be one of {', '.join(map(str, ctx['permitted']))}"
    if etype == "value_error.any_str.max_length":
        limit = ctx["limit_value"]
        if in_query:
            return f"parameter {name!r} is longer than {limit} characters"
        return f"{subject} must be at most {limit} characters"
    if etype == "value_error.any_str.min_length":
        if field.required and not item:
            return f"{name} is required{_hint(field)}"
        return f"{subject} must be at least {ctx['limit_value']} characters"
    if etype == "value_error.list.max_items":
        if in_query:
            return f"too many values for {name!r} (at most {ctx['limit_value']})"
        return f"{name} may have at most {ctx['limit_value']} items"
    if kind in ("integer", "number"):
        lo, hi = _bounds(field)
        what = EXPECTED[kind]
        if in_query and lo is not None and hi is not None:
            return f"{name} must be {what} between {lo} and {hi}"
        if etype.startswith("value_error.number") and lo is not None and hi is not None:
            return f"{subject} must be between {lo} and {hi}"
        return f"{subject} must be {what}"
    if field.required and not item:
        return f"{name} is required{_hint(field)}"
    if field.shape == SHAPE_LIST and not item:
        return f"{name} must be a list"
    return f"{subject} must be {EXPECTED.get(kind, 'valid')}"
