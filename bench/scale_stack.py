"""The scale-out stack on loopback: two bot instances behind nginx, on PostgreSQL and Redis.

Started from the files in ``deploy/`` (docs/deploy.md), so running it tests them:

- PostgreSQL: the server on 127.0.0.1:5432 (trust auth for ``postgres``), two throwaway databases
  (report store, Rasa tracker store), dropped at the end;
- Redis: a private ``redis-server`` with ``deploy/redis/bosai.conf`` on a free port;
- instance 1 and 2: a Rasa server and its action server each, started with
  ``deploy/bosai_service.py`` as the systemd units start them (own ``BOSAI_VAR_DIR``, ports);
- one officials' app;
- nginx: ``deploy/nginx/bosai.conf.in`` rendered with the loopback ports by
  ``deploy/render_nginx.py --standalone`` (private prefix: pid, logs and temporary files in the
  work folder; no system configuration used).

::

    .venv/bin/python bench/scale_stack.py            # prints the front URL, Ctrl-C tears down

    with ScaleStack() as stack:                      # tests
        stack.rest("resident-1", "こんにちは")        # through nginx
        stack.upstreams()                            # which Rasa served each request

    target = start(Path("/tmp/x"))                   # bench/load.py --profile scale: the stack in
    target.url, target.token, target.pid             # a child process (CPU of its tree = servers)
    target.stop()

Needs the trained model (``make train``), nginx and redis-server (``make test`` installs nginx).
One module of about 450 lines: the stack, its child-process form and its command line share every
part, and the tests, ``bench/load.py`` and a person at the terminal use it as one file.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _p in (ROOT, ROOT / "deploy"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from render_nginx import render_site, write_standalone  # noqa: E402  (deploy/render_nginx.py)

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
SERVICE = ROOT / "deploy" / "bosai_service.py"
REDIS_CONF = ROOT / "deploy" / "redis" / "bosai.conf"


class StackError(RuntimeError):
    """The stack could not start (what is missing or which service failed, with its log)."""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback)
            return 200 <= resp.status < 300
    except OSError:
        return False


def _pg_admin() -> Any:
    import psycopg2

    conn = psycopg2.connect(dbname="postgres", connect_timeout=3, **PG)
    conn.autocommit = True
    return conn


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path


@dataclass
class ScaleStack:
    """Start with :meth:`start` (or ``with``); everything is removed by :meth:`stop`."""

    workdir: Path | None = None
    instances: int = 2
    env: dict[str, str] = field(default_factory=dict)
    keep_workdir: bool = False
    procs: list[Proc] = field(default_factory=list)
    databases: dict[str, str] = field(default_factory=dict)
    rasa_ports: list[int] = field(default_factory=list)
    front_port: int = 0
    officials_port: int = 0
    token: str = ""
    api_token: str = ""

    # ------------------------------------------------------------------ start
    def start(self, timeout: float = 900.0) -> ScaleStack:
        self._check_tools()
        self._own_workdir = self.workdir is None
        self.workdir = Path(self.workdir or tempfile.mkdtemp(prefix="bosai-scale-")).resolve()
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        try:
            self._start_all(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _check_tools(self) -> None:
        from bot.training import current_model, latest_model

        missing = [t for t in ("nginx", "redis-server") if shutil.which(t) is None]
        if missing:
            raise StackError(
                f"not installed: {', '.join(missing)} (apt-get install nginx redis-server)"
            )
        if (current_model(ROOT) or latest_model(ROOT)) is None:
            raise StackError("no trained model in models/: run `make train`")

    def _start_all(self, timeout: float) -> None:
        assert self.workdir is not None
        suffix = uuid.uuid4().hex[:8]
        self.databases = {
            "reports": f"bosai_scale_reports_{suffix}",
            "tracker": f"bosai_scale_tracker_{suffix}",
        }
        try:
            admin = _pg_admin()
        except Exception as exc:  # noqa: BLE001 - psycopg2.OperationalError, missing driver
            raise StackError(
                f"PostgreSQL not reachable on {PG['host']}:{PG['port']}: {exc}"
            ) from exc
        try:
            with admin.cursor() as cur:
                for name in self.databases.values():
                    cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            admin.close()
        redis_port = free_port()
        (self.workdir / "redis").mkdir(exist_ok=True)
        self._spawn(
            "redis",
            [
                "redis-server",
                str(REDIS_CONF),
                "--bind",
                "127.0.0.1",
                "--port",
                str(redis_port),
                "--dir",
                str(self.workdir / "redis"),
                "--daemonize",
                "no",
            ],
            dict(os.environ),
        )
        pg = f"{PG['user']}@{PG['host']}:{PG['port']}"
        self.token = self.env.get("BOSAI_REST_TOKEN") or secrets.token_urlsafe(24)
        self.api_token = self.env.get("RASA_API_TOKEN") or secrets.token_urlsafe(24)
        common = {
            **os.environ,
            "DATABASE_URL": f"postgresql+psycopg2://{pg}/{self.databases['reports']}",
            "TRACKER_STORE_URL": f"postgresql://{pg}/{self.databases['tracker']}",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "BOSAI_RESIDENT_SECRET": secrets.token_hex(32),
            "BOSAI_GIS_CACHE": os.environ.get("BOSAI_GIS_CACHE", str(ROOT / "var" / "gis")),
            "BOSAI_HOST": "127.0.0.1",
            "BOSAI_TILES_URL": "about:blank",
            **self.env,
            "BOSAI_REST_TOKEN": self.token,
            "RASA_API_TOKEN": self.api_token,
        }
        bosai = str(Path(sys.executable).with_name("bosai"))
        setup = {**common, "BOSAI_VAR_DIR": str(self.workdir / "setup")}
        for cmd in ([bosai, "data", "import", "--if-stale", "-q"], [bosai, "db", "upgrade"]):
            done = subprocess.run(cmd, env=setup, cwd=ROOT, capture_output=True, text=True)
            if done.returncode != 0:
                raise StackError(f"{' '.join(cmd[1:])} failed:\n{done.stdout}{done.stderr}")
        self.officials_port = free_port()
        for i in range(1, self.instances + 1):
            rasa_port, action_port = free_port(), free_port()
            self.rasa_ports.append(rasa_port)
            env = {
                **common,
                "BOSAI_VAR_DIR": str(self.workdir / f"instance-{i}"),
                "BOSAI_RASA_PORT": str(rasa_port),
                "BOSAI_ACTION_PORT": str(action_port),
                "BOSAI_OFFICIALS_PORT": str(self.officials_port),
            }
            self._spawn(f"actions-{i}", [sys.executable, str(SERVICE), "actions"], env)
            self._spawn(f"rasa-{i}", [sys.executable, str(SERVICE), "rasa"], env)
        officials_env = {
            **common,
            "BOSAI_VAR_DIR": str(self.workdir / "officials"),
            "BOSAI_OFFICIALS_PORT": str(self.officials_port),
            "SANIC_REAL_IP_HEADER": "x-real-ip",
        }  # as deploy/systemd
        self._spawn("officials", [sys.executable, str(SERVICE), "officials"], officials_env)
        self.front_port = free_port()
        prefix = self.workdir / "nginx"
        site = render_site(
            [f"127.0.0.1:{p}" for p in self.rasa_ports],
            [f"127.0.0.1:{self.officials_port}"],
            listen=f"127.0.0.1:{self.front_port}",
            log_dir=str(prefix),
        )
        conf = write_standalone(site, prefix)
        nginx = ["nginx", "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")]
        check = subprocess.run([*nginx, "-t"], capture_output=True, text=True)
        if check.returncode != 0:
            raise StackError(f"nginx -t refused the rendered site:\n{check.stderr}")
        self._spawn("nginx", [*nginx, "-g", "daemon off;"], dict(os.environ))
        self._wait_ready(timeout)

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        assert self.workdir is not None
        log = self.workdir / "logs" / f"{name}.log"
        with open(log, "ab") as out:
            popen = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.procs.append(Proc(name, popen, log))

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = {f"rasa-{i + 1}": f"http://127.0.0.1:{p}/" for i, p in enumerate(self.rasa_ports)}
        pending["officials"] = f"http://127.0.0.1:{self.officials_port}/health"
        pending["front"] = f"{self.front_url}/health"
        while pending:
            for proc in self.procs:
                if proc.popen.poll() is not None:
                    tail = "\n".join(proc.log.read_text(errors="replace").splitlines()[-30:])
                    raise StackError(f"{proc.name} exited with {proc.popen.returncode}:\n{tail}")
            for name, url in list(pending.items()):
                if _get(url):
                    del pending[name]
            if time.monotonic() > deadline:
                raise StackError(f"not ready within {timeout:.0f} s: {', '.join(pending)}")
            time.sleep(0.5)
        # a real turn on every instance (NLU, policies, action server, tracker and lock stores)
        for port in self.rasa_ports:
            url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
            while not self.rest(
                f"scale-ready-{port}",
                '/share_location{"latitude": 41.7737, "longitude": 140.7265}',
                url=url,
            ):
                if time.monotonic() > deadline:
                    raise StackError(f"Rasa on port {port} does not answer a turn")
                time.sleep(1)

    # ------------------------------------------------------------------ use
    @property
    def front_url(self) -> str:
        return f"http://127.0.0.1:{self.front_port}"

    @property
    def rest_url(self) -> str:
        return f"{self.front_url}/webhooks/rest/webhook"

    def rest(self, sender: str, text: str, url: str | None = None, timeout: float = 120) -> list:
        """One REST turn (through nginx unless ``url`` is given); the bot's replies."""
        body = json.dumps({"sender": sender, "message": text}).encode("utf-8")
        req = urllib.request.Request(
            url or self.rest_url,
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (loopback)
                return list(json.loads(resp.read().decode("utf-8")))
        except OSError:
            if url is None:
                raise
            return []

    def upstreams(self, path: str = "/webhooks/rest/webhook") -> list[int]:
        """The Rasa port that served each request to ``path`` so far (nginx's access log)."""
        assert self.workdir is not None
        log = self.workdir / "nginx" / "bosai.access.log"
        ports = []
        for line in log.read_text().splitlines() if log.exists() else []:
            if f' {path}" ' not in line or "upstream=" not in line:
                continue
            # "127.0.0.1:5005", "-" (answered by nginx itself, e.g. 413), or "a, b" after a retry
            upstream = line.rsplit("upstream=", 1)[1].split(" rt=")[0].split(", ")[-1]
            if upstream != "-":
                ports.append(int(upstream.rsplit(":", 1)[1]))
        return ports

    # ------------------------------------------------------------------ stop
    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.popen.poll() is None:
                try:
                    os.killpg(proc.popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 60
        for proc in self.procs:
            try:
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait()
        self.procs.clear()
        if self.databases:
            admin = _pg_admin()
            with admin.cursor() as cur:
                for name in self.databases.values():
                    cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
            self.databases = {}
        if (
            self.workdir is not None
            and getattr(self, "_own_workdir", False)
            and not self.keep_workdir
        ):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> ScaleStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


# ---------------------------------------------------------------------- bench/load.py


@dataclass
class RunningStack:
    """The stack served by a child process (``bench/scale_stack.py --ready-file``)."""

    url: str  # REST webhook through nginx
    front_url: str
    token: str
    pid: int  # the child: its process tree is every server of the stack except PostgreSQL
    process: subprocess.Popen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=120)


def start(workdir: Path, env: dict[str, str] | None = None, timeout: float = 900) -> RunningStack:
    """Start the stack in a child process and wait until it answers (for ``bench/load.py``).

    ``env`` overrides settings of every instance. By default the per-resident rate limit is
    raised as ``bench/load.py`` does for its other stack (a simulated resident types faster than
    the 20 messages a minute a person does).
    """
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    ready = workdir / "ready.json"
    ready.unlink(missing_ok=True)
    settings = {"BOSAI_RATE_LIMIT_PER_MINUTE": "100000", **(env or {})}
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--workdir",
        str(workdir / "stack"),
        "--ready-file",
        str(ready),
    ]
    for key, value in settings.items():
        cmd += ["--set", f"{key}={value}"]
    with open(workdir / "scale_stack.log", "ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=120)
            raise StackError(f"the scale stack did not start; see {workdir / 'scale_stack.log'}")
        time.sleep(1)
    info = json.loads(ready.read_text())
    return RunningStack(info["rest_url"], info["front_url"], info["token"], proc.pid, proc)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, help="keep logs and data here (kept afterwards)")
    ap.add_argument("--instances", type=int, default=2)
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="VAR=VALUE",
        help="a setting for every instance (e.g. BOSAI_RATE_LIMIT_PER_MINUTE=0)",
    )
    ap.add_argument("--ready-file", type=Path, help="write the URLs here as JSON when ready")
    args = ap.parse_args(argv)
    env = dict(item.split("=", 1) for item in args.set)
    stack = ScaleStack(
        workdir=args.workdir,
        instances=args.instances,
        env=env,
        keep_workdir=args.workdir is not None,
    )
    stopping: list[int] = []
    state = {"ready": False}

    def on_signal(*_: object) -> None:
        stopping.append(1)
        if not state["ready"]:
            raise KeyboardInterrupt  # while starting: stop at once (finally tears down)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        print(f"Starting {args.instances} instances behind nginx ...", flush=True)
        stack.start()
        state["ready"] = True
        info = {
            "front_url": stack.front_url,
            "rest_url": stack.rest_url,
            "token": stack.token,
            "rasa": [f"http://127.0.0.1:{p}" for p in stack.rasa_ports],
            "workdir": str(stack.workdir),
        }
        if args.ready_file:
            tmp = args.ready_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(info))
            tmp.replace(args.ready_file)
        print(
            f"Front (nginx): {stack.front_url}   REST: {stack.rest_url}\n"
            f"REST token: {stack.token}\nLogs: {stack.workdir}/logs\nCtrl-C stops.",
            flush=True,
        )
        while not stopping:
            dead = [p.name for p in stack.procs if p.popen.poll() is not None]
            if dead:
                print(f"stopped unexpectedly: {', '.join(dead)}", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        print("Stopping ...", flush=True)
        stack.stop()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
