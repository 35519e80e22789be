"""The one auth decorator of the API: bearer token -> official, with a minimum role."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any

from sanic.request import Request
from sanic.response import HTTPResponse

from bot.officials.errors import ApiError
from bot.officials.runtime import run_blocking, store_of
from bot.store import vocab

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_role(role: str) -> Callable[[Handler], Handler]:
    """Allow the handler only to an active official whose role is at least ``role``.

    No or unknown token: 401 (with ``WWW-Authenticate``); role too low: 403. The official is put
    on ``request.ctx.official``.
    """
    if role not in vocab.ROLES:
        raise ValueError(f"unknown role {role!r}")
    needed = vocab.ROLES[role]

    def decorator(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            token = bearer_token(request)
            official = None
            if token is not None:
                official = await run_blocking(store_of(request.app).authenticate, token)
            if official is None:
                raise ApiError(
                    401,
                    "a valid API token is required (Authorization: Bearer <token>)",
                    headers={"WWW-Authenticate": 'Bearer realm="bosai"'},
                )
            if vocab.ROLES.get(official.role, 0) < needed:
                raise ApiError(403, f"this needs the {role} role; you are {official.role}")
            request.ctx.official = official
            return await handler(request, *args, **kwargs)

        wrapper.required_role = role  # type: ignore[attr-defined]
        return wrapper

    return decorator
