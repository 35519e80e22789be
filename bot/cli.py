"""The ``bosai`` command line.

Each feature registers its own sub-commands from a module listed in ``_COMMAND_MODULES``; a module
exposes ``register(subparsers)`` that adds parsers whose ``func`` attribute takes the parsed
arguments and returns an exit code. Modules are imported only when the CLI runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

_COMMAND_MODULES = (
    "bot.commands.run",  # run, actions, train
    "bot.commands.data",  # data import / data status
    "bot.commands.gis",  # gis nearest / hazard / within
    "bot.commands.officials",  # officials add / revoke / list, db upgrade
    "bot.commands.telegram",  # telegram-poll
    "bot.commands.privacy",  # privacy purge
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bosai",
        description="防災チャットボット: disaster-response chatbot for Japanese municipalities.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0 if args.command is None else 2
    from bot.settings import ConfigurationError

    try:
        return int(func(args) or 0)
    except ConfigurationError as exc:
        print(f"bosai: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
