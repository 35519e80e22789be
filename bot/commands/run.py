"""``bosai run``, ``bosai actions`` and ``bosai train``."""

from __future__ import annotations

import argparse


def _run(args: argparse.Namespace) -> int:
    from bot.supervisor import run

    return run(verbose=args.verbose, ready_timeout=args.ready_timeout)


def _actions(args: argparse.Namespace) -> int:
    """rasa_sdk's action server on ``actions/``, with the GIS index and store loaded at start;
    on 127.0.0.1 always, with the request-size bound (:mod:`bot.limits`)."""
    from rasa_sdk.plugin import plugin_manager

    from actions.resources import StartHook
    from bot.limits import serve_actions
    from bot.settings import get_settings

    port = args.port or get_settings().action_port
    plugin_manager().register(StartHook())
    serve_actions(port)
    return 0


def _train(args: argparse.Namespace) -> int:
    from bot.settings import get_settings
    from bot.training import train

    train(get_settings().repo_root, force=args.force)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="start Rasa server, action server and officials' app")
    p.add_argument("--verbose", action="store_true", help="show the services' logs here")
    p.add_argument("--ready-timeout", type=float, default=300.0, help="seconds to wait for start")
    p.set_defaults(func=_run)
    a = sub.add_parser("actions", help="start only the action server (bosai run starts it too)")
    a.add_argument("--port", type=int, default=None, help="default: BOSAI_ACTION_PORT (5055)")
    a.set_defaults(func=_actions)
    t = sub.add_parser("train", help="train the Rasa model if config, domain or data changed")
    t.add_argument("--force", action="store_true", help="train even when nothing changed")
    t.set_defaults(func=_train)
