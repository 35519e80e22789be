"""The officials' app (Sanic): health, API, dashboard and the embeddable widget."""

from __future__ import annotations

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.settings import Settings, get_settings


def create_app(settings: Settings | None = None, name: str = "bosai_officials") -> Sanic:
    """Build the officials' app.

    Parameters
    ----------
    settings
        Resolved settings; ``get_settings()`` when omitted.
    name
        Sanic app name (unique per process; tests pass their own).
    """
    settings = settings or get_settings()
    app = Sanic(name)
    app.config.BOSAI = settings
    from bot.limits import install_body_limits

    install_body_limits(app)  # 1 MiB, the photo uploads 12 MiB

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return json({"status": "ok"})

    from bot.widget.routes import blueprint as widget_bp

    app.blueprint(widget_bp)
    from bot.officials.setup import install as install_officials

    install_officials(app)  # /api/v1 and the dashboard
    return app
