"""Shared fixtures: the real bot stack (Rasa server + action server + officials' app).

``rasa_stack`` starts ``bosai run`` once per test session on free loopback ports, with a fresh
runtime folder (database, tracker store, logs) and the trained model from ``models/`` (trained by
``make test`` before pytest). The GIS cache imported by ``make data`` is
reused read-only.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
BOSAI = str(Path(sys.executable).with_name("bosai"))


# Fixtures that load the trained model. A test using one is marked `rasa` whether or not its
# module says so: `make test` runs the tests not marked `rasa` while the model trains.
MODEL_FIXTURES = {"rasa_stack", "agent"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.rasa)


def load_trained_agent(**kwargs: Any) -> Any:
    """The trained model in ``models/`` loaded in this process as ``bosai run`` loads and runs it:
    Rasa's ``Agent.load`` (keyword arguments passed on) after ``rasa_speedups.apply()``, the
    replacements of bot/rasa_speedups.py that ``bot.rasa_cli`` installs in the server (for the
    rest of the pytest process: they are installed once and stay, as in the server). About 10 s
    instead of Rasa's 40 here; tests/bot/test_rasa_speedups.py shows the two loads predict alike."""
    from rasa.core.agent import Agent

    from bot import rasa_speedups
    from bot.training import latest_model

    model = latest_model(REPO)
    if model is None:
        pytest.fail("no trained model in models/: run `make train` (make test does it first)")
    rasa_speedups.apply()
    return Agent.load(str(model), **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    rasa_url: str
    action_url: str
    officials_url: str
    var_dir: Path
    env: dict[str, str]
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)

    def rest(self, sender: str, text: str, timeout: float = 60.0) -> list[dict]:
        """Send one message over the REST channel (with the stack's ``BOSAI_REST_TOKEN``) and
        return the bot's replies."""
        import json

        body = json.dumps({"sender": sender, "message": text}).encode("utf-8")
        req = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook",
            data=body,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.env['BOSAI_REST_TOKEN']}",
            },
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read().decode("utf-8"))

    def sender(self, given: str) -> str:
        """The sender id Rasa keeps the conversation under for a REST ``sender`` (``rest:<hash>``,
        bot/identity.py)."""
        from bot import identity

        return identity.sender_id(self.env["BOSAI_RESIDENT_SECRET"].encode(), "rest", given)


def _ensure_model() -> None:
    from bot.training import current_model

    if current_model(REPO) is None:
        pytest.fail(
            "no model trained from the current config, domain and training data: "
            "run `make train` (make test does it before pytest)"
        )


def _ensure_gis_cache(env: dict[str, str]) -> None:
    subprocess.run([BOSAI, "data", "import", "--if-stale"], env=env, check=True, cwd=REPO)


def launch_stack(var_dir: Path, extra_env: dict[str, str] | None = None) -> Stack:
    """Start ``bosai run`` on free loopback ports with a fresh runtime folder (does not wait)."""
    ports = {name: free_port() for name in ("rasa", "actions", "officials")}
    env = dict(os.environ)
    env.pop("TRACKER_STORE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(
        {
            "BOSAI_VAR_DIR": str(var_dir),
            "BOSAI_GIS_CACHE": os.environ.get("BOSAI_GIS_CACHE", str(REPO / "var" / "gis")),
            "DATABASE_URL": f"sqlite:///{var_dir / 'bosai.db'}",
            "BOSAI_RASA_PORT": str(ports["rasa"]),
            "BOSAI_ACTION_PORT": str(ports["actions"]),
            "BOSAI_OFFICIALS_PORT": str(ports["officials"]),
            "BOSAI_RESIDENT_SECRET": "test-secret",
            "BOSAI_REST_TOKEN": secrets.token_urlsafe(24),  # REST is off without it
            "BOSAI_TILES_URL": "about:blank",
        }
    )
    env.update(extra_env or {})
    _ensure_gis_cache(env)
    subprocess.run([BOSAI, "db", "upgrade"], env=env, check=True, cwd=REPO)
    proc = subprocess.Popen(
        [BOSAI, "run"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return Stack(
        rasa_url=f"http://127.0.0.1:{ports['rasa']}",
        action_url=f"http://127.0.0.1:{ports['actions']}",
        officials_url=f"http://127.0.0.1:{ports['officials']}",
        var_dir=var_dir,
        env=env,
        process=proc,
    )


def wait_ready(stack: Stack, timeout: float = 400) -> Stack:
    """Wait until the supervisor says all three services are up; fail with their logs if not."""
    proc = stack.process
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        if line:
            stack.output.append(line)
        if "Press Ctrl-C to stop." in line:
            return stack
        if (not line and proc.poll() is not None) or time.monotonic() > deadline:
            proc.kill()
            logs = ""
            for log in (stack.var_dir / "logs").glob("*.log"):
                logs += f"\n--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:])
            pytest.fail("bosai run did not start:\n" + "".join(stack.output) + logs)


def stop_stack(stack: Stack) -> None:
    """Ctrl-C must stop all three services cleanly."""
    proc = stack.process
    proc.send_signal(signal.SIGINT)
    try:
        rest, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        rest, _ = proc.communicate()
    stack.output.append(rest or "")
    assert proc.returncode == 0, "".join(stack.output)[-3000:]
    assert "Stopped." in "".join(stack.output)


@pytest.fixture(scope="session")
def rasa_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    _ensure_model()
    stack = wait_ready(launch_stack(tmp_path_factory.mktemp("stack-var")))
    yield stack
    stop_stack(stack)
