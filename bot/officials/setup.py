"""Register the officials' API and dashboard on the app built by ``create_app``."""

from __future__ import annotations

import asyncio

from sanic import Sanic

from bot.officials import api, dashboard
from bot.officials.errors import install_error_shape
from bot.officials.notices import BroadcastConfig, warm_up
from bot.officials.runtime import run_blocking, start_gis_loading
from bot.store import get_store


def install(app: Sanic) -> None:
    """Add ``/api/v1``, ``/`` and the start listeners (store upgrade, notice channels, GIS)."""
    app.blueprint(api.blueprint)
    app.blueprint(dashboard.blueprint)
    install_error_shape(app)

    @app.before_server_start
    async def open_store(app: Sanic, _loop: object) -> None:
        store = get_store(app.config.BOSAI.database_url)
        await run_blocking(store.upgrade)
        app.ctx.store = store
        app.ctx.broadcast_config = BroadcastConfig.from_settings(app.config.BOSAI)

    @app.after_server_start
    async def load_gis(app: Sanic, _loop: object) -> None:
        start_gis_loading(app)
        # the first notice should not wait for the connector modules (they import Rasa)
        app.ctx.notice_warm_up = asyncio.get_running_loop().create_task(
            warm_up(app.ctx.broadcast_config)
        )
