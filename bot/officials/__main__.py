"""Serve the officials' app: ``python -m bot.officials [--host H] [--port P]``."""

from __future__ import annotations

import argparse

from bot.officials.app import create_app
from bot.settings import get_settings


def main() -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m bot.officials")
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.officials_port)
    args = parser.parse_args()
    app = create_app(settings)
    app.run(host=args.host, port=args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
