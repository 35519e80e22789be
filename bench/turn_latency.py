"""REST turn latency and cold start of the whole bot.

Starts ``bosai run`` as the tests do (``tests/conftest.py`` ``launch_stack``: free loopback ports,
a fresh runtime folder, the GIS cache and the database prepared before the clock starts) and
measures the time from launching ``bosai run`` to the first answered REST message (cold start)
and to the supervisor's "ready" (which it says only after a real turn through Rasa and the
action server worked). ``--cold N`` repeats the cold start N times and prints the median. Then
it sends ``--turns`` sequential small-talk turns (five per resident) and prints p50 / p95 / max.
With ``--train`` it also times a forced ``rasa train`` into a temporary folder.

    flock /tmp/bosai-heavy.lock .venv/bin/python bench/turn_latency.py [--cold 3] [--turns 200] [--train]
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
MESSAGES = [
    "こんにちは",
    "何ができますか",
    "ありがとう",
    "あなたはロボット？",
    "さようなら",
]


REST_TOKEN = secrets.token_urlsafe(24)  # the REST channel is off without BOSAI_REST_TOKEN


def send(url: str, sender: str, text: str) -> list:
    body = json.dumps({"sender": sender, "message": text}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {REST_TOKEN}"}
    req = urllib.request.Request(url, data=body, headers=headers)
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


def cold_start(var: Path, speedups: str | None) -> tuple[float, float, float, str, Any]:
    """Launch ``bosai run``; seconds to the first REST answer and to "ready", the CPU seconds
    until the first answer, the ready line."""
    from tests.conftest import launch_stack, wait_ready

    env = {"BOSAI_REST_TOKEN": REST_TOKEN}
    if speedups is not None:
        env["BOSAI_RASA_SPEEDUPS"] = speedups
    stack = launch_stack(var, env)
    started = time.perf_counter()
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    while True:
        try:
            if send(url, "bench-cold", "こんにちは"):
                break
        except OSError:
            pass
        if stack.process.poll() is not None:
            raise SystemExit(f"bosai run exited early; see {var}/logs")
        time.sleep(0.1)
    first = time.perf_counter() - started
    from bench.load import tree_cpu_seconds

    cpu = tree_cpu_seconds(stack.process.pid)
    print(f"  CPU time of bosai run and its services until then: {cpu:.1f} s "
          "(on an idle machine the wall time is about this over the cores in use)", flush=True)
    wait_ready(stack)
    ready = time.perf_counter() - started
    line = next((x.strip() for x in stack.output if x.startswith("All services ready")), "")
    return first, ready, cpu, line, stack


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--cold", type=int, default=1, help="cold starts to measure (median)")
    parser.add_argument("--train", action="store_true", help="also time a forced training")
    parser.add_argument(
        "--speedups", default=None,
        help="BOSAI_RASA_SPEEDUPS for the stack (bot/rasa_speedups.py): 'none', or some of "
        "schema,spacy,eager (default: all)",
    )
    args = parser.parse_args()

    if args.train:
        print(f"model training (forced, full): {time_training():.1f} s", flush=True)

    from tests.conftest import stop_stack

    firsts, readies, cpus = [], [], []
    print(f"Rasa speedups: {args.speedups or 'all'}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bosai-bench-") as tmp:
        for i in range(args.cold):
            first, ready, cpu, line, stack = cold_start(Path(tmp) / f"var{i}", args.speedups)
            firsts.append(first)
            readies.append(ready)
            cpus.append(cpu)
            print(f"cold start {i + 1}: first REST answer {first:.1f} s, supervisor ready "
                  f"{ready:.1f} s ({line})", flush=True)
            if i + 1 < args.cold:
                stop_stack(stack)
        print(f"cold start (bosai run -> first REST answer), median of {args.cold}: "
              f"{statistics.median(firsts):.1f} s; -> ready: {statistics.median(readies):.1f} s; "
              f"CPU until the first answer: {statistics.median(cpus):.1f} s", flush=True)
        try:
            url = f"{stack.rasa_url}/webhooks/rest/webhook"
            lat: list[float] = []
            for i in range(args.turns):
                t0 = time.perf_counter()
                replies = send(url, f"bench-{i // 5}", MESSAGES[i % len(MESSAGES)])
                lat.append((time.perf_counter() - t0) * 1000)
                assert replies, "the bot did not answer"
            if lat:
                print(
                    f"REST turn latency over {len(lat)} sequential turns: "
                    f"p50 {statistics.median(lat):.0f} ms, p95 {percentile(lat, 0.95):.0f} ms, "
                    f"max {max(lat):.0f} ms"
                )
        finally:
            stop_stack(stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
