"""Request-size bounds of the Sanic apps, and the action server bound to loopback.

Sanic 21.12 accepts bodies of up to 100 MB by default (``REQUEST_MAX_SIZE``) and reads the whole
body before any handler or middleware runs. Every app of the project lowers it
(docs/security.md lists every bound):

- the Rasa server (REST, socket.io, LINE and Telegram webhooks): :data:`REQUEST_MAX_BYTES`
  through ``SANIC_REQUEST_MAX_SIZE`` in its environment (Sanic reads ``SANIC_*`` variables when
  Rasa builds its app; :func:`service_environment`, used by ``bosai run``);
- the action server: the same bound, and Rasa compresses its calls to it
  (``COMPRESS_ACTION_SERVER_REQUEST``: a long conversation's tracker fits in the bound);
  it listens on 127.0.0.1 whatever ``BOSAI_HOST`` says (only the Rasa server on the same machine
  calls it; :func:`serve_actions`);
- the officials' app: :data:`REQUEST_MAX_BYTES`, except the two photo uploads
  (:data:`PHOTO_ROUTES`), which take :data:`PHOTO_REQUEST_MAX_BYTES`, 12 MiB
  (:func:`install_body_limits`).

A larger body is refused with 413 while it arrives, before it is stored or parsed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # light at import: bosai run and the nginx renderer read the numbers only
    from sanic import Sanic

__all__ = [
    "ACTION_SERVER_HOST",
    "PHOTO_REQUEST_MAX_BYTES",
    "PHOTO_ROUTES",
    "REQUEST_MAX_BYTES",
    "create_actions_app",
    "install_body_limits",
    "serve_actions",
    "service_environment",
]

#: Any request body of any app (a message, a webhook call, an API body, an action call).
REQUEST_MAX_BYTES = 1024 * 1024
#: The largest photo (``bot.store.validation.MAX_PHOTO_BYTES``; a test checks they agree).
MAX_PHOTO_BYTES = 10 * 1024 * 1024
#: A photo upload: the photo (at most ``MAX_PHOTO_BYTES``, 10 MiB), its multipart framing, and
#: room for the route to answer a photo a little over 10 MiB itself (its JSON 413 says why; a
#: body refused while it arrives often reaches the client as a dropped connection).
PHOTO_REQUEST_MAX_BYTES = MAX_PHOTO_BYTES + 2 * 1024 * 1024
#: (method, route path as Sanic writes it) of the officials' app that take a photo.
PHOTO_ROUTES = frozenset(
    {
        ("POST", "widget/photo"),
        ("POST", "api/v1/reports/<report_id>/photos"),
    }
)
ACTION_SERVER_HOST = "127.0.0.1"
_PARAM_TYPE = re.compile(r"<(\w+):[^>]*>")  # Sanic writes <report_id:str>


def service_environment() -> dict[str, str]:
    """Variables ``bosai run`` gives the Rasa server and the action server."""
    return {
        "SANIC_REQUEST_MAX_SIZE": str(REQUEST_MAX_BYTES),
        "COMPRESS_ACTION_SERVER_REQUEST": "true",
    }


def install_body_limits(app: Sanic) -> None:
    """:data:`REQUEST_MAX_BYTES` for every route of ``app``, more for :data:`PHOTO_ROUTES`.

    The app-wide bound is the small one; the photo routes raise it for their own request right
    after routing (signal ``http.routing.after``, before Sanic reads the body), so a route that
    is not a photo upload can never take a photo-sized body.
    """
    app.config.REQUEST_MAX_SIZE = REQUEST_MAX_BYTES

    async def larger_for_photos(request: Any, route: Any, **_: Any) -> None:
        path = _PARAM_TYPE.sub(r"<\1>", str(getattr(route, "path", ""))).strip("/")
        stream = getattr(request, "stream", None)
        if stream is not None and (request.method, path) in PHOTO_ROUTES:
            stream.request_max_size = PHOTO_REQUEST_MAX_BYTES

    app.signal("http.routing.after")(larger_for_photos)


def create_actions_app() -> Sanic:
    """rasa_sdk's app on ``actions/`` whose executor fills in the model's domain when a call
    comes without it (Rasa's selective domain, :mod:`bot.action_domain`); the newest model's
    domain is read in a worker thread when the server starts."""
    import asyncio

    from rasa_sdk import endpoint

    from bot.action_domain import DomainFillingExecutor, preload

    original = endpoint.ActionExecutor
    endpoint.ActionExecutor = DomainFillingExecutor  # type: ignore[misc]
    try:
        app = endpoint.create_app("actions", cors_origins=None)
    finally:
        endpoint.ActionExecutor = original  # type: ignore[misc]

    async def read_domain(_app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        from bot.settings import get_settings

        loop.run_in_executor(None, preload, get_settings().models_dir)  # not awaited

    app.register_listener(read_domain, "before_server_start")
    return app


def serve_actions(port: int) -> None:
    """Run rasa_sdk's action server on ``actions/`` at 127.0.0.1:``port`` (blocks).

    As ``rasa_sdk``'s own ``run`` (logging, plugins such as the start hook of
    ``actions.resources``), but on loopback always (rasa_sdk listens on ``SANIC_HOST`` or
    0.0.0.0) and with :data:`REQUEST_MAX_BYTES`.
    """
    import logging

    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.plugin import plugin_manager
    from sanic.exceptions import PayloadTooLarge
    from sanic.response import HTTPResponse, json

    utils.configure_colored_logging(logging.INFO)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), None, logging.INFO, None
    )
    utils.update_sanic_log_level()
    app = create_actions_app()
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    app.config.REQUEST_MAX_SIZE = REQUEST_MAX_BYTES

    @app.exception(PayloadTooLarge)
    async def too_large(_request: Any, _exc: Exception) -> HTTPResponse:
        # rasa_sdk's catch-all handler would answer 500 (and echo the body)
        return json({"error": f"body larger than {REQUEST_MAX_BYTES} bytes"}, status=413)

    logging.getLogger(__name__).info(
        "Action endpoint is up and running on http://%s:%s", ACTION_SERVER_HOST, port
    )
    app.run(ACTION_SERVER_HOST, port, workers=1, access_log=False)
