"""``bosai run``: start the Rasa server, the action server and the officials' app together.

The three run as child processes in their own process group; logs go to ``var/logs``. The
supervisor checks the ports first, waits until every service answers its health URL, prints the
URLs and stops all three cleanly on Ctrl-C / SIGTERM. A service that dies while running (a crash,
``kill -9``) is started again (:data:`MAX_RESTARTS` times within :data:`RESTART_WINDOW_S`, then
the supervisor gives up and stops all three).

Slightly over 400 lines on purpose: starting, readiness (a real turn), restarts and the daily
privacy purge share the children's table and the one signal handler; split, each part would
reach into the others' state.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bot.commands.privacy import PurgeSchedule
from bot.limits import ACTION_SERVER_HOST, service_environment
from bot.settings import Settings, get_settings
from bot.training import current_model, latest_model

# Rasa's SQL tracker store that also deletes a conversation on the resident's request
# (bot/tracker_store.py, docs/privacy.md)
TRACKER_STORE_TYPE = "bot.tracker_store.ErasingSQLTrackerStore"


#: the conversation of the readiness turn (``Supervisor.turn_works``): Hakodate station, no resident
READY_SENDER = "bosai-readiness-check"
READY_LOCATION = {"latitude": 41.7737, "longitude": 140.7265}


#: a service that dies is started again, at most this many times within RESTART_WINDOW_S seconds
MAX_RESTARTS = 5
RESTART_WINDOW_S = 600.0


class SupervisorError(RuntimeError):
    """A problem the user must fix (port taken, model missing, a service died)."""


@dataclass
class Service:
    name: str
    label: str
    cmd: list[str]
    port: int
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    log_file: IO[bytes] | None = None
    restarts: list[float] = field(default_factory=list)  # when it was started again (monotonic)
    ready_s: float | None = None  # seconds from start until the health URL answered


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def write_endpoints(settings: Settings) -> Path:
    """Write ``var/endpoints.yml`` for this run (action URL, tracker and lock stores).

    ``settings.tracker_store_url`` (``TRACKER_STORE_URL``, ``postgresql://user:pass@host:port/db``)
    selects Rasa's SQL tracker store on PostgreSQL, ``settings.redis_url`` (``REDIS_URL``,
    ``redis://host:port/db``) the Redis lock store; the default is a SQLite tracker store in
    ``var/`` and the in-memory lock store.
    """
    from urllib.parse import urlsplit

    import yaml

    endpoints: dict = {
        # the action server listens on loopback only, whatever BOSAI_HOST says (bot/limits.py)
        "action_endpoint": {
            "url": f"http://{ACTION_SERVER_HOST}:{settings.action_port}/webhook",
            # the domain is not posted with every action call; our action server reads it from
            # the model archive (bot/action_domain.py)
            "enable_selective_domain": True,
        }
    }
    tracker_url = settings.tracker_store_url
    if tracker_url:
        u = urlsplit(tracker_url)
        endpoints["tracker_store"] = {
            "type": TRACKER_STORE_TYPE,
            "dialect": "postgresql",
            "url": u.hostname or "127.0.0.1",
            "port": u.port or 5432,
            "db": (u.path or "/rasa").lstrip("/"),
            "username": u.username or "postgres",
            "password": u.password or "",
        }
    else:
        endpoints["tracker_store"] = {
            "type": TRACKER_STORE_TYPE,
            "dialect": "sqlite",
            "db": str(settings.var_dir / "tracker.db"),
        }
    redis_url = settings.redis_url
    if redis_url:
        u = urlsplit(redis_url)
        endpoints["lock_store"] = {
            # Rasa's own "redis" type is not safe for simultaneous messages on several instances
            "type": "bot.lock_store.AtomicRedisLockStore",
            "url": u.hostname or "127.0.0.1",
            "port": u.port or 6379,
            "db": int((u.path or "/0").lstrip("/") or 0),
        }
    path = settings.var_dir / "endpoints.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(endpoints, allow_unicode=True, sort_keys=False))
    return path


def build_services(settings: Settings, model: Path) -> list[Service]:
    py = sys.executable
    host = settings.host
    endpoints = write_endpoints(settings)
    token = settings.rasa_api_token
    rasa_token = token.get_secret_value() if token is not None else secrets.token_urlsafe(24)
    cors = list(settings.allowed_origins) or ["*"]
    # Rasa first: it is the slowest to start (TensorFlow, ja_ginza, the model); all three start at
    # once and the supervisor waits for them together.
    return [
        Service(
            name="rasa",
            label="Rasa server",
            cmd=[
                py, "-m", "rasa", "run",
                "--model", str(model),
                # one argument: a random token may begin with "-" (argparse took it for an option)
                "--enable-api", f"--auth-token={rasa_token}",
                "--cors", *cors,
                "--credentials", str(settings.credentials_file),
                "--endpoints", str(endpoints),
                "--interface", host,
                "--port", str(settings.rasa_port),
            ],
            port=settings.rasa_port,
            health_url=f"http://{host}:{settings.rasa_port}/",
            env={"RASA_API_TOKEN": rasa_token},
        ),
        Service(
            name="actions",
            label="Action server",
            # rasa_sdk's server with the GIS index and store loaded at start (actions/resources.py)
            cmd=[py, "-m", "bot.cli", "actions", "--port", str(settings.action_port)],
            port=settings.action_port,
            # on loopback whatever BOSAI_HOST says (bot/limits.py)
            health_url=f"http://{ACTION_SERVER_HOST}:{settings.action_port}/health",
        ),
        Service(
            name="officials",
            label="Officials' app",
            cmd=[py, "-m", "bot.officials", "--host", host, "--port", str(settings.officials_port)],
            port=settings.officials_port,
            health_url=f"http://{host}:{settings.officials_port}/health",
        ),
    ]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (loopback URL)
            return 200 <= resp.status < 300
    except (urllib.error.URLError, OSError):
        return False


def _post_json(url: str, body: dict) -> object:
    """POST JSON on loopback; the decoded answer, or None when it failed."""
    req = urllib.request.Request(
        url, data=json.dumps(body).encode("utf-8"), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 (loopback URL)
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _tail(path: Path | None, lines: int = 25) -> str:
    if path is None or not path.exists():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:])


class Supervisor:
    def __init__(self, settings: Settings, model: Path, verbose: bool = False):
        self.settings = settings
        self.services = build_services(settings, model)
        self.verbose = verbose
        self._env: dict[str, str] = {}  # the children's environment (start())
        self._stopping = False
        self.first_turn_s: float | None = None
        self.purge: PurgeSchedule | None = None  # bosai privacy purge at start, then daily

    def _host(self, svc: Service) -> str:
        return ACTION_SERVER_HOST if svc.name == "actions" else self.settings.host

    def check_ports(self) -> None:
        taken = [s for s in self.services if not port_is_free(self._host(s), s.port)]
        if taken:
            lines = [
                f"  port {s.port} ({s.label}) on {self._host(s)} is already in use"
                for s in taken
            ]
            raise SupervisorError(
                "Cannot start:\n" + "\n".join(lines) + "\nStop the other process, or choose other "
                "ports with BOSAI_RASA_PORT / BOSAI_ACTION_PORT / BOSAI_OFFICIALS_PORT."
            )

    def start(self) -> None:
        log_dir = self.settings.var_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        # the children read the same environment; credentials.yml's ${...} need every channel
        # variable set (Rasa refuses an unset one), so unset ones go in as ""
        base_env = {**os.environ, **self.settings.channel_environment()}
        base_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        base_env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
        # Rasa's usage telemetry would post to its vendor from a municipal server (and costs a
        # network timeout at start where there is no internet)
        base_env.setdefault("RASA_TELEMETRY_ENABLED", "false")
        base_env["BOSAI_VAR_DIR"] = str(self.settings.var_dir)
        base_env.update(service_environment())  # request-size bound of Rasa and the actions
        self.purge = PurgeSchedule(self.settings.repo_root, log_dir / "privacy.log", base_env)
        self._env = base_env
        for svc in self.services:
            svc.log_path = log_dir / f"{svc.name}.log"
            if not self.verbose:
                svc.log_file = open(svc.log_path, "ab")  # noqa: SIM115 (closed in stop())
            self._spawn(svc)

    def _spawn(self, svc: Service) -> None:
        out = svc.log_file
        svc.process = subprocess.Popen(
            svc.cmd,
            cwd=self.settings.repo_root,
            env={**self._env, **svc.env},
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 300.0) -> None:
        """Wait until every health URL answers and then a real turn works (:meth:`turn_works`)."""
        started = time.monotonic()
        deadline = started + timeout
        pending = list(self.services)
        while True:
            for svc in self.services:
                assert svc.process is not None
                if svc.process.poll() is not None:
                    raise SupervisorError(
                        f"{svc.label} exited with code {svc.process.returncode} while starting. "
                        f"Last lines of {svc.log_path}:\n{_tail(svc.log_path)}"
                    )
            for svc in list(pending):
                if _healthy(svc.health_url):
                    svc.ready_s = time.monotonic() - started
                    pending.remove(svc)
            if not pending and self.turn_works():
                self.first_turn_s = time.monotonic() - started
                return
            if time.monotonic() > deadline:
                names = ", ".join(s.label for s in pending) or "The first turn (Rasa + actions)"
                raise SupervisorError(f"{names} did not become ready within {timeout:.0f} s")
            time.sleep(0.2)

    def turn_works(self) -> bool:
        """One real turn through Rasa's HTTP API (token known only to this supervisor).

        ``/model/parse`` runs the whole NLU pipeline (spaCy, DIET, our vocabulary extractor and
        danger detector) on a greeting; ``trigger_intent`` ``share_location`` then runs the
        dialogue policies and the action server (``action_receive_location``, whose reply only
        exists when the action server answered). The first predictions also trace TensorFlow's
        graphs, so the first resident does not pay for that. The turn is the conversation
        :data:`READY_SENDER` (a fixed place, no resident data).
        """
        rasa = next(s for s in self.services if s.name == "rasa")
        base = rasa.health_url.rstrip("/")
        query = urllib.parse.urlencode({"token": rasa.env["RASA_API_TOKEN"]})
        parsed = _post_json(f"{base}/model/parse?{query}", {"text": "こんにちは"})
        if not isinstance(parsed, dict) or not (parsed.get("intent") or {}).get("name"):
            return False
        turn = _post_json(
            f"{base}/conversations/{READY_SENDER}/trigger_intent?{query}",
            {"name": "share_location", "entities": READY_LOCATION},
        )
        return isinstance(turn, dict) and bool(turn.get("messages"))

    def print_urls(self) -> None:
        s = self.settings
        h = s.host
        rest = (
            f"http://{h}:{s.rasa_port}/webhooks/rest/webhook"
            if s.rest_token is not None
            else "off (set BOSAI_REST_TOKEN to serve it)"
        )
        print(
            "\n防災チャットボット is running:\n"
            f"  Rasa server (REST):    {rest}\n"
            f"  Rasa socket.io:        http://{h}:{s.rasa_port}/socket.io/\n"
            f"  Action server:         http://{ACTION_SERVER_HOST}:{s.action_port}/health\n"
            f"  Officials' dashboard:  http://{h}:{s.officials_port}/\n"
            f"  Officials' API:        http://{h}:{s.officials_port}/api/v1/openapi.json\n"
            f"  Widget script:         http://{h}:{s.officials_port}/widget.js\n"
            f"  Logs:                  {s.var_dir / 'logs'}\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )

    def watch(self) -> int:
        """Block until a signal arrives; a child that dies is started again (:meth:`restart`),
        unless it died too often: then return 1 (the caller stops the others)."""
        while not self._stopping:
            if self.purge is not None:
                self.purge.tick()
            for svc in self.services:
                assert svc.process is not None
                code = svc.process.poll()
                if code is not None and not self._stopping and not self.restart(svc, code):
                    return 1
            time.sleep(0.5)
        return 0

    def restart(self, svc: Service, code: int) -> bool:
        """Start a service that died again; False when it died :data:`MAX_RESTARTS` times within
        :data:`RESTART_WINDOW_S` (something is wrong that a restart does not fix)."""
        now = time.monotonic()
        svc.restarts = [t for t in svc.restarts if now - t < RESTART_WINDOW_S]
        if len(svc.restarts) >= MAX_RESTARTS:
            print(
                f"{svc.label} stopped unexpectedly (exit {code}) {len(svc.restarts) + 1} times "
                f"within {RESTART_WINDOW_S:.0f} s; stopping the others.\n{_tail(svc.log_path)}",
                file=sys.stderr,
            )
            return False
        svc.restarts.append(now)
        print(
            f"{svc.label} stopped unexpectedly (exit {code}); starting it again "
            f"({len(svc.restarts)}/{MAX_RESTARTS} within {RESTART_WINDOW_S:.0f} s).",
            file=sys.stderr,
            flush=True,
        )
        self._spawn(svc)
        return True

    def stop(self, grace: float = 20.0) -> None:
        if self.purge is not None:
            self.purge.stop()
        for svc in self.services:
            if svc.process and svc.process.poll() is None:
                try:
                    os.killpg(svc.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for svc in self.services:
            if svc.process is None:
                continue
            try:
                svc.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(svc.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                svc.process.wait()
            if svc.log_file:
                svc.log_file.close()

    def request_stop(self, *_: object) -> None:
        self._stopping = True


def run(verbose: bool = False, ready_timeout: float = 300.0) -> int:
    settings = get_settings()
    root = settings.repo_root
    model = current_model(root)
    if model is None:
        stale = latest_model(root)
        if stale is None:
            print("No trained model in models/. Run `make train` (or `make run`).", file=sys.stderr)
            return 2
        print(
            f"Warning: {stale.name} was trained from older config/domain/data; "
            "run `make train` to refresh it.",
            file=sys.stderr,
        )
        model = stale
    sup = Supervisor(settings, model, verbose=verbose)
    try:
        sup.check_ports()
    except SupervisorError as exc:
        print(exc, file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, sup.request_stop)
    signal.signal(signal.SIGTERM, sup.request_stop)
    print("Starting the Rasa server, the action server and the officials' app...", flush=True)
    started = time.monotonic()
    sup.start()
    try:
        sup.wait_ready(ready_timeout)
        each = ", ".join(f"{s.label} {s.ready_s:.1f} s" for s in sup.services)
        print(
            f"All services ready in {time.monotonic() - started:.1f} s "
            f"(health: {each}; first turn through Rasa and actions: {sup.first_turn_s:.1f} s).",
            flush=True,
        )
        sup.print_urls()
        code = sup.watch()
    except SupervisorError as exc:
        print(exc, file=sys.stderr)
        code = 1
    finally:
        print("Stopping...", flush=True)
        sup.stop()
        print("Stopped.", flush=True)
    return code
