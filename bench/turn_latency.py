"""REST turn latency and cold start of the whole bot.

Starts ``bosai run`` on free loopback ports with a fresh runtime folder, measures the time from
launch to the first answered REST message (cold start), then sends N sequential turns and prints
p50 / p95 / max latency. With ``--train`` it also times a forced ``rasa train`` into a temporary
folder. Run: ``.venv/bin/python bench/turn_latency.py [--turns 200] [--train]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BOSAI = str(Path(sys.executable).with_name("bosai"))
MESSAGES = [
    "こんにちは",
    "何ができますか",
    "ありがとう",
    "あなたはロボット？",
    "さようなら",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def send(url: str, sender: str, text: str) -> list:
    body = json.dumps({"sender": sender, "message": text}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[idx]


def time_training() -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "rasa", "train", "--config", "config.yml", "--domain",
             "bot/domain", "--data", "data/nlu", "data/rules", "data/stories", "--out", out,
             "--force"],
            cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--train", action="store_true", help="also time a forced training")
    args = parser.parse_args()

    if args.train:
        print(f"model training (forced, full): {time_training():.1f} s", flush=True)

    var = tempfile.mkdtemp(prefix="bosai-bench-")
    ports = {k: free_port() for k in ("rasa", "actions", "officials")}
    env = dict(os.environ, BOSAI_VAR_DIR=var, DATABASE_URL=f"sqlite:///{var}/bosai.db",
               BOSAI_GIS_CACHE=str(REPO / "var" / "gis"), BOSAI_RESIDENT_SECRET="bench",
               BOSAI_RASA_PORT=str(ports["rasa"]), BOSAI_ACTION_PORT=str(ports["actions"]),
               BOSAI_OFFICIALS_PORT=str(ports["officials"]))
    subprocess.run([BOSAI, "db", "upgrade"], env=env, check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{ports['rasa']}/webhooks/rest/webhook"
    started = time.perf_counter()
    proc = subprocess.Popen([BOSAI, "run"], env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if send(url, "bench-cold", "こんにちは"):
                    break
            except OSError:
                pass
            if proc.poll() is not None:
                print("bosai run exited early; see", var + "/logs", file=sys.stderr)
                return 1
            time.sleep(0.25)
        cold = time.perf_counter() - started
        print(f"cold start (bosai run -> first REST answer): {cold:.1f} s", flush=True)
        lat: list[float] = []
        for i in range(args.turns):
            t0 = time.perf_counter()
            replies = send(url, f"bench-{i // 5}", MESSAGES[i % len(MESSAGES)])
            lat.append((time.perf_counter() - t0) * 1000)
            assert replies, "the bot did not answer"
        print(
            f"REST turn latency over {len(lat)} sequential turns: "
            f"p50 {statistics.median(lat):.0f} ms, p95 {percentile(lat, 0.95):.0f} ms, "
            f"max {max(lat):.0f} ms"
        )
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
