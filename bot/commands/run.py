"""``bosai run`` and ``bosai train``."""

from __future__ import annotations

import argparse


def _run(args: argparse.Namespace) -> int:
    from bot.supervisor import run

    return run(verbose=args.verbose, ready_timeout=args.ready_timeout)


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
    t = sub.add_parser("train", help="train the Rasa model if config, domain or data changed")
    t.add_argument("--force", action="store_true", help="train even when nothing changed")
    t.set_defaults(func=_train)
