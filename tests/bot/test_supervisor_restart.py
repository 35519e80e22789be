"""`bosai run` starts a service that died again (kill -9, a crash), and gives up on one that
keeps dying. Real child processes (small Python sleepers) under the real supervisor."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from bot import supervisor
from bot.settings import get_settings
from bot.supervisor import Service, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def make_supervisor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *cmds: list[str]) -> Supervisor:
    monkeypatch.setenv("BOSAI_VAR_DIR", str(tmp_path))
    sup = Supervisor(get_settings(), tmp_path / "model.tar.gz")
    sup.services = [
        Service(name=f"svc{i}", label=f"Service {i}", cmd=cmd, port=0, health_url="")
        for i, cmd in enumerate(cmds)
    ]
    return sup


def watch_in_thread(sup: Supervisor) -> tuple[threading.Thread, list[int]]:
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(sup.watch()), daemon=True)
    thread.start()
    return thread, result


def wait_until(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_a_killed_service_is_started_again_and_the_others_keep_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sup = make_supervisor(tmp_path, monkeypatch, SLEEPER, SLEEPER)
    sup.start()
    sup.purge = None  # no `bosai privacy purge` child in this test
    try:
        first, other = (svc.process for svc in sup.services)
        assert first is not None and other is not None
        thread, result = watch_in_thread(sup)
        os.kill(first.pid, signal.SIGKILL)
        wait_until(lambda: sup.services[0].process is not first)
        again = sup.services[0].process
        assert again is not None and again.poll() is None  # running again
        assert sup.services[1].process is other and other.poll() is None  # untouched
        assert first.returncode == -signal.SIGKILL
        sup.request_stop()
        thread.join(timeout=5)
        assert result == [0]
    finally:
        sup.stop(grace=5)
    err = capsys.readouterr().err
    assert "Service 0 stopped unexpectedly (exit -9); starting it again (1/5" in err
    assert all(svc.process is not None and svc.process.poll() is not None for svc in sup.services)


def test_a_service_that_keeps_dying_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(supervisor, "MAX_RESTARTS", 2)
    dies = [sys.executable, "-c", "import sys; print('cannot open the model'); sys.exit(3)"]
    sup = make_supervisor(tmp_path, monkeypatch, dies, SLEEPER)
    sup.start()
    sup.purge = None
    try:
        thread, result = watch_in_thread(sup)
        thread.join(timeout=20)
        assert result == [1]  # run() then stops the others
        assert len(sup.services[0].restarts) == 2
    finally:
        sup.stop(grace=5)
    err = capsys.readouterr().err
    assert err.count("starting it again") == 2
    assert "Service 0 stopped unexpectedly (exit 3) 3 times within 600 s; stopping the others." in err
    assert "cannot open the model" in err  # the tail of its log tells why
