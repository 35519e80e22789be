"""The deployment files in deploy/: the env template names every setting, the nginx site carries
the apps' body limits and passes ``nginx -t``, the systemd units verify, the service launcher runs
what ``bosai run`` runs, and the PostgreSQL / Redis settings are accepted by the servers."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.limits import PHOTO_REQUEST_MAX_BYTES, PHOTO_ROUTES, REQUEST_MAX_BYTES
from bot.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
sys.path.insert(0, str(DEPLOY))

import bosai_service  # noqa: E402  (deploy/bosai_service.py)
import render_nginx  # noqa: E402  (deploy/render_nginx.py)

ENV_LINE = re.compile(r"^#?([A-Z][A-Z0-9_]+)=(.*)$")


def env_template() -> dict[str, tuple[str, bool]]:
    """name -> (value, set) of deploy/bosai.env.example (set: not commented out)."""
    out = {}
    for line in (DEPLOY / "bosai.env.example").read_text(encoding="utf-8").splitlines():
        m = ENV_LINE.match(line)
        if m:
            out[m.group(1)] = (m.group(2), not line.startswith("#"))
    return out


def site(**kw) -> str:
    return render_nginx.render_site(["10.0.0.11:5005", "10.0.0.12:5005"], ["10.0.0.11:8000"], **kw)


def test_env_template_lists_exactly_the_settings() -> None:
    assert set(env_template()) == set(Settings.environment_variables())


def test_env_template_values_are_accepted_by_the_settings(monkeypatch) -> None:
    for name in Settings.environment_variables():
        monkeypatch.delenv(name, raising=False)
    for name, (value, is_set) in env_template().items():
        if is_set:
            monkeypatch.setenv(name, value)
    settings = Settings()  # type: ignore[call-arg]
    assert settings.env == "production"
    assert settings.allowed_origins == ("https://www.city.example.lg.jp",)
    assert settings.database_url.startswith("postgresql+psycopg2://")
    assert settings.var_dir == Path("/var/lib/bosai")


def test_site_body_limits_are_the_apps() -> None:
    text = site()
    sizes = re.findall(r"client_max_body_size (\d+);", text)
    assert sizes == [
        str(REQUEST_MAX_BYTES),
        str(PHOTO_REQUEST_MAX_BYTES),
        str(PHOTO_REQUEST_MAX_BYTES),
    ]
    # the two larger locations are exactly the apps' photo routes
    assert ("POST", "widget/photo") in PHOTO_ROUTES and "location = /widget/photo {" in text
    assert ("POST", "api/v1/reports/<report_id>/photos") in PHOTO_ROUTES
    pattern = re.search(r"location ~ (\S+) \{", text).group(1)
    assert re.match(pattern, "/api/v1/reports/123/photos")
    assert not re.match(pattern, "/api/v1/reports/123/photos/x")
    assert len(PHOTO_ROUTES) == 2


def test_site_routes_and_upstreams() -> None:
    text = site(server_name="bot.city.example.lg.jp", listen="443 ssl")
    assert "server_name bot.city.example.lg.jp;" in text and "listen 443 ssl;" in text
    rasa = re.search(r"upstream bosai_rasa \{(.*?)\}", text, re.S).group(1)
    assert "hash" not in rasa and "ip_hash" not in rasa  # plain round robin
    assert rasa.count("server 10.0.0.1") == 2
    assert "hash $remote_addr consistent;" in re.search(
        r"upstream bosai_rasa_socketio \{(.*?)\}", text, re.S
    ).group(1)
    socketio = re.search(r"location /socket.io/ \{(.*?)\n    \}", text, re.S).group(1)
    assert "proxy_set_header Upgrade $http_upgrade;" in socketio
    assert "proxy_set_header Connection $bosai_connection;" in socketio
    assert "location /webhooks/ {" in text
    # Rasa's HTTP API and the action servers are not reachable through the front
    assert "/model" not in re.sub(r"#.*", "", text) and ":5055" not in text
    assert "@" not in re.sub(r"#.*", "", text)


@pytest.mark.parametrize(
    "rasa, officials",
    [([], ["10.0.0.1:8000"]), (["10.0.0.1"], ["10.0.0.1:8000"]), (["a;b:1"], ["x:1"])],
)
def test_render_refuses_bad_addresses(rasa, officials, capsys) -> None:
    with pytest.raises(ValueError):
        render_nginx.render_site(rasa, officials)
    args = [a for r in rasa for a in ("--rasa", r)] + [
        a for o in officials for a in ("--officials", o)
    ]
    assert render_nginx.main(args) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (make nginx)")
def test_nginx_accepts_the_rendered_site(tmp_path: Path) -> None:
    text = render_nginx.render_site(
        ["127.0.0.1:5005", "127.0.0.1:5006"],
        ["127.0.0.1:8000"],
        listen="127.0.0.1:8080",
        log_dir=str(tmp_path),
    )
    conf = render_nginx.write_standalone(text, tmp_path)
    done = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_units_verify(tmp_path: Path) -> None:
    venv_python = Path(sys.executable)
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text(encoding="utf-8")
        text = text.replace("/opt/bosai/.venv/bin/", f"{venv_python.parent}/")
        text = text.replace("/opt/bosai", str(REPO))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    units = [
        "bosai-rasa@1.service",
        "bosai-actions@1.service",
        "bosai-officials.service",
        "bosai-purge.service",
        "bosai-purge.timer",
        "bosai.target",
    ]
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if "bosai" in line and "EnvironmentFile" not in line
    ]
    assert done.returncode == 0 and not problems, done.stdout + done.stderr
    for unit in ("bosai-rasa@.service", "bosai-actions@.service", "bosai-officials.service"):
        exec_start = re.search(r"^ExecStart=(.*)$", (DEPLOY / "systemd" / unit).read_text(), re.M)
        service = exec_start.group(1).split()[-1]
        assert exec_start.group(1).split()[1] == "/opt/bosai/deploy/bosai_service.py"
        assert service in bosai_service.SERVICES and unit.startswith(f"bosai-{service}")


def test_service_launcher_runs_what_bosai_run_runs(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BOSAI_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("BOSAI_OFFICIALS_PORT", "18123")
    monkeypatch.setenv("BOSAI_ACTION_PORT", "18124")
    settings = Settings()  # type: ignore[call-arg]
    cmd, env = bosai_service.command("officials", settings)
    assert cmd[1:] == ["-m", "bot.officials", "--host", settings.host, "--port", "18123"]
    assert env["SANIC_REQUEST_MAX_SIZE"] == str(REQUEST_MAX_BYTES)
    assert env["BOSAI_VAR_DIR"] == str(tmp_path.resolve())
    assert "LINE_CHANNEL_SECRET" in env  # credentials.yml's ${...} are all set
    cmd, env = bosai_service.command("actions", settings)
    assert cmd[-2:] == ["--port", "18124"] and "actions" in cmd
    assert (tmp_path / "endpoints.yml").exists()
    with pytest.raises(SystemExit, match="unknown service"):
        bosai_service.command("nginx", settings)


@pytest.mark.postgres
def test_postgresql_settings_are_known_to_the_server() -> None:
    from tests.store.conftest import _pg_admin

    try:
        admin = _pg_admin()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    lines = (DEPLOY / "postgresql" / "bosai.conf").read_text(encoding="utf-8").splitlines()
    wanted = dict(
        (m.group(1), m.group(2).strip().strip("'"))
        for m in (re.match(r"^([a-z_]+)\s*=\s*('[^']*'|\S+)", line) for line in lines)
        if m
    )
    with admin.cursor() as cur:
        cur.execute("SELECT name, vartype, enumvals FROM pg_settings")
        known = {name: (vartype, enumvals) for name, vartype, enumvals in cur.fetchall()}
    admin.close()
    assert set(wanted) - set(known) == set()
    assert wanted["synchronous_commit"] == "on" and wanted["fsync"] == "on"
    for name, value in wanted.items():
        vartype, enumvals = known[name]
        if vartype == "bool":
            assert value in ("on", "off"), name
        if vartype == "enum":
            assert value in enumvals, (name, value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
def test_redis_starts_with_the_settings(tmp_path: Path) -> None:
    import redis

    port = _free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            str(DEPLOY / "redis" / "bosai.conf"),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(tmp_path),
            "--daemonize",
            "no",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
        for _ in range(50):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (make nginx)")
def test_private_nginx_applies_the_body_limits(tmp_path: Path) -> None:
    """A photo-sized body is buffered and passed on (502 here: no app behind), a larger message
    body is refused with 413 at the front."""
    import urllib.error
    import urllib.request

    port = _free_port()
    dead = f"127.0.0.1:{_free_port()}"  # nothing listens: what passes the front gets 502
    text = render_nginx.render_site(
        [dead], [dead], listen=f"127.0.0.1:{port}", log_dir=str(tmp_path)
    )
    conf = render_nginx.write_standalone(text, tmp_path)
    cmd = ["nginx", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")]
    subprocess.run(cmd, check=True, capture_output=True)

    def status(path: str, size: int) -> int:
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=b"x" * size)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    try:
        assert status("/widget/photo", 3 * 1024 * 1024) == 502
        assert status("/api/v1/reports/7/photos", PHOTO_REQUEST_MAX_BYTES) == 502
        assert status("/api/v1/reports/7/photos", PHOTO_REQUEST_MAX_BYTES + 1) == 413
        assert status("/webhooks/rest/webhook", REQUEST_MAX_BYTES + 1) == 413
        assert status("/webhooks/rest/webhook", 1000) == 502
    finally:
        subprocess.run([*cmd, "-s", "quit"], capture_output=True)
