"""Run one of the bot's services in the foreground, exactly as ``bosai run`` starts it.

For process managers that start each service on its own (the systemd units in
``deploy/systemd/``, ``bench/scale_stack.py``)::

    .venv/bin/python deploy/bosai_service.py rasa        # Rasa server (channels, NLU, dialogue)
    .venv/bin/python deploy/bosai_service.py actions     # action server (127.0.0.1 only)
    .venv/bin/python deploy/bosai_service.py officials   # officials' app (dashboard, API, widget)

The command line and the environment come from the same code as ``bosai run``
(:func:`bot.supervisor.build_services`, :func:`bot.limits.service_environment`,
:meth:`bot.settings.Settings.channel_environment`), so both ways of running the bot stay the same.
Settings are read from the environment (the systemd units load ``/etc/bosai/bosai.env``).
``rasa`` needs a trained model in ``models/``; ``RASA_API_TOKEN`` should be set so that the
token is stable across restarts (else a random one is used, as by ``bosai run``).

The process replaces itself with the service (``exec``), so the process manager's signals
(SIGTERM: drain and stop) reach the service directly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERVICES = ("rasa", "actions", "officials")

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def command(name: str, settings=None) -> tuple[list[str], dict[str, str]]:
    """The argv and the full environment of service ``name`` (one of :data:`SERVICES`).

    Raises
    ------
    SystemExit
        When ``name`` is unknown, or ``rasa`` is asked for and no model is trained.
    """
    from bot.limits import service_environment
    from bot.settings import get_settings
    from bot.supervisor import build_services
    from bot.training import current_model, latest_model

    if name not in SERVICES:
        raise SystemExit(f"unknown service {name!r}: one of {', '.join(SERVICES)}")
    settings = settings or get_settings()
    model = current_model(settings.repo_root) or latest_model(settings.repo_root)
    if model is None:
        if name == "rasa":
            raise SystemExit("No trained model in models/: run `make train` (or `bosai train`).")
        model = settings.models_dir / "none"  # only the Rasa command names the model
    service = next(s for s in build_services(settings, model) if s.name == name)
    # the environment `bosai run` gives its children (bot/supervisor.py, Supervisor.start)
    env = {**os.environ, **settings.channel_environment()}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env["BOSAI_VAR_DIR"] = str(settings.var_dir)
    env.update(service_environment())
    env.update(service.env)
    return service.cmd, env


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    cmd, env = command(args[0])
    os.chdir(REPO)
    os.execvpe(cmd[0], cmd, env)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
