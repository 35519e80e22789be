"""One JSON error shape for the API: ``{"error": {"status", "code", "message"}}``."""

from __future__ import annotations

import functools
import json as _stdlib_json
import logging
from typing import Any

from sanic import Sanic
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.store import InvalidInput, InvalidTransition, NotFound

log = logging.getLogger(__name__)

API_PREFIX = "/api/"

# UTF-8 JSON (Japanese stays readable), compact
dumps = functools.partial(_stdlib_json.dumps, ensure_ascii=False, separators=(",", ":"))

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(SanicException):
    """An API error with a status, a stable code and a message for humans."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, status_code=status)
        self.status_code = status
        self.code = code or _CODES.get(status, "error")
        self.message = message
        self.extra_headers = headers or {}


def error_response(
    status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None
) -> HTTPResponse:
    body: dict[str, Any] = {
        "error": {"status": status, "code": code or _CODES.get(status, "error"), "message": message}
    }
    return json(body, status=status, headers=headers, dumps=dumps)


def to_response(exception: BaseException) -> HTTPResponse:
    """Map any exception raised while serving an API request to the error shape."""
    if isinstance(exception, ApiError):
        return error_response(
            exception.status_code, exception.message, exception.code, exception.extra_headers
        )
    if isinstance(exception, InvalidInput):
        return error_response(400, str(exception))
    if isinstance(exception, NotFound):
        return error_response(404, str(exception))
    if isinstance(exception, InvalidTransition):
        return error_response(409, str(exception), "invalid_transition")
    if isinstance(exception, SanicException):
        status = int(getattr(exception, "status_code", 500) or 500)
        message = str(exception) if status < 500 else "internal error"
        if status == 404:
            message = "no such API endpoint"
        return error_response(status, message)
    log.exception("unhandled error in the officials API", exc_info=exception)
    return error_response(500, "internal error")


def install_error_shape(app: Sanic) -> None:
    """Route every error of an ``/api/`` request (404/405 included) through :func:`to_response`.

    Other paths keep Sanic's default handling (and handlers registered by other blueprints).
    """
    handler = app.error_handler
    original_default = handler.default

    def default(request: Request | None, exception: BaseException) -> HTTPResponse:
        if request is not None and request.path.startswith(API_PREFIX):
            return to_response(exception)
        return original_default(request, exception)

    handler.default = default  # type: ignore[method-assign]
