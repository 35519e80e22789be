"""Load test: simulated residents on loopback against bare Rasa and our stack, in the same run.

Targets, all started by this script on free loopback ports with the same trained model:

- ``bare``: ``rasa run`` with the model only (no action server, in-memory tracker store),
  small talk only - what Rasa itself costs;
- ``ours``: ``bosai run`` as the tests start it (``tests/conftest.py`` ``launch_stack``):
  Rasa + action server + officials' app, SQLite tracker store and report store;
- ``--profile scale``: the scale-out stack of ``bench/scale_stack.py`` (two Rasa and two action
  servers on PostgreSQL + Redis behind nginx) instead of ``ours``.

For each target and conversation kind (``bench/residents.py``: small talk, shelter search with a
location, damage report with read-back and confirmation, evacuation registration, one resident
doing all of it), it measures sequentially (one resident at a time) and with ``--concurrency``
residents at once, each measurement bounded by a turn count and ``--max-seconds``. It prints msg/s,
p50/p95/p99 latency and server CPU per message (all processes of the target, from /proc), then the
ratios the targets of issue 13 are about. ``--runs 3`` repeats the measurements (targets started
once) and prints medians. ``--long N`` also times one conversation of N small-talk turns and
compares the turn p50 around the 5th turn with the p50 around the 100th.

    flock /tmp/bosai-heavy.lock .venv/bin/python bench/load.py --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.residents import SMALL_TALK, Tally, conversation  # noqa: E402

_ids = itertools.count()
HZ = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[idx]


def tree_cpu_seconds(root_pid: int) -> float:
    """User + system CPU seconds of ``root_pid`` and all its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo.extend(p for p, parent in parents.items() if parent == pid)
    return total / HZ


@dataclass
class Target:
    name: str
    url: str  # REST webhook
    pid: int
    token: str | None = None
    stop: object = None


@dataclass
class Figures:
    turns: int
    msg_s: float
    p50: float
    p95: float
    p99: float
    cpu_ms: float  # server CPU per message
    goals: int
    unexpected: int
    errors: int


async def measure(
    target: Target, kind: str, concurrency: int, max_turns: int, max_seconds: float
) -> tuple[Figures, Tally]:
    """``concurrency`` residents run conversations of ``kind`` until the bounds are reached."""
    tally = Tally()
    headers = {"Authorization": f"Bearer {target.token}"} if target.token else {}
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector, headers=headers) as http:

        async def send(sender: str, text: str) -> list[dict]:
            async with http.post(target.url, json={"sender": sender, "message": text}) as resp:
                resp.raise_for_status()
                return list(await resp.json())

        deadline = time.monotonic() + max_seconds

        async def worker(w: int) -> None:
            while len(tally.latencies) < max_turns and time.monotonic() < deadline:
                sender = f"load-{target.name}-{kind}-{w}-{next(_ids)}"
                try:
                    await conversation(kind, send, sender, tally)
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    tally.errors += 1

        cpu0, t0 = tree_cpu_seconds(target.pid), time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        elapsed, cpu = time.perf_counter() - t0, tree_cpu_seconds(target.pid) - cpu0
    lat = tally.latencies
    n = max(1, len(lat))
    return (
        Figures(
            turns=len(lat), msg_s=len(lat) / elapsed, p50=statistics.median(lat) if lat else 0.0,
            p95=percentile(lat, 0.95), p99=percentile(lat, 0.99), cpu_ms=cpu * 1000 / n,
            goals=tally.goals, unexpected=len(tally.unexpected), errors=tally.errors,
        ),
        tally,
    )


@dataclass
class LongFigures:
    early: float  # turn p50 (ms), turns 5-14
    late: float  # turn p50 (ms), turns 100-109
    early_cpu: float  # server CPU ms per turn (all processes of the target), turns 5-14
    late_cpu: float  # the same, turns 100-109 (both medians over the conversations)


async def long_conversation(target: Target, turns: int, convs: int) -> LongFigures:
    """Turn p50 (ms) and server CPU per turn over turns 5-14 and over turns 100-109 of ``convs``
    small-talk conversations. A p50 of ten turns moves by a few milliseconds between
    conversations whatever their length (docs/performance.md); the CPU time per turn (all
    processes of the target, the median over the conversations, so that background work such as
    the GIS index warming during one window does not count) says whether the work grows."""
    early: list[float] = []
    late: list[float] = []
    cpu: dict[str, list[float]] = {"early": [], "late": []}
    windows = {5: ("early", 15), 100: ("late", 110)}
    headers = {"Authorization": f"Bearer {target.token}"} if target.token else {}
    async with aiohttp.ClientSession(headers=headers) as http:
        for c in range(convs):
            sender = f"long-{target.name}-{c}-{next(_ids)}"
            window: tuple[str, int, float] | None = None
            for i in range(1, turns + 1):
                if i in windows:
                    name, end = windows[i]
                    window = (name, end, tree_cpu_seconds(target.pid))
                t0 = time.perf_counter()
                body = {"sender": sender, "message": SMALL_TALK[i % len(SMALL_TALK)]}
                async with http.post(target.url, json=body) as resp:
                    resp.raise_for_status()
                    await resp.json()
                ms = (time.perf_counter() - t0) * 1000
                if 5 <= i < 15:
                    early.append(ms)
                elif 100 <= i < 110:
                    late.append(ms)
                if window is not None and i + 1 == window[1]:
                    # CPU seconds over the window's 10 turns -> ms per turn
                    cpu[window[0]].append((tree_cpu_seconds(target.pid) - window[2]) * 100)
                    window = None
    nan = float("nan")
    return LongFigures(
        early=statistics.median(early), late=statistics.median(late) if late else nan,
        early_cpu=statistics.median(cpu["early"]),
        late_cpu=statistics.median(cpu["late"]) if cpu["late"] else nan,
    )


# ---------------------------------------------------------------- starting the targets


def wait_answering(url: str, proc: subprocess.Popen, token: str | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    body = json.dumps({"sender": "load-ready", "message": "こんにちは"}).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the server exited (code {proc.returncode})")
        try:
            req = urllib.request.Request(url, data=body, headers=headers)
            with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 (loopback)
                if json.loads(resp.read()):
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def start_bare(model: Path, tmp: Path) -> Target:
    from tests.conftest import free_port

    port = free_port()
    (tmp / "credentials.yml").write_text("rest:\n")
    (tmp / "endpoints.yml").write_text("# no action server, in-memory tracker and lock stores\n")
    log = open(tmp / "bare-rasa.log", "ab")  # noqa: SIM115 (lives as long as the process)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rasa", "run", "--model", str(model), "--interface", "127.0.0.1",
         "--port", str(port), "--credentials", str(tmp / "credentials.yml"),
         "--endpoints", str(tmp / "endpoints.yml")],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    wait_answering(url, proc, None, 600)

    def stop() -> None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()

    return Target("bare", url, proc.pid, None, stop)


def start_ours(tmp: Path) -> Target:
    from tests.conftest import launch_stack, stop_stack, wait_ready

    # the per-resident rate limit stays on but high: a simulated resident types faster than 20/min
    stack = wait_ready(launch_stack(tmp / "ours", {
        "BOSAI_REST_TOKEN": secrets.token_urlsafe(24), "BOSAI_RATE_LIMIT_PER_MINUTE": "100000"}))
    token = stack.env["BOSAI_REST_TOKEN"]
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    wait_answering(url, stack.process, token, 120)
    return Target("ours", url, stack.process.pid, token, lambda: stop_stack(stack))


def start_scale(tmp: Path) -> Target:
    try:
        from bench import scale_stack  # written with the deploy files (issue 13)
    except ImportError as exc:
        raise SystemExit(f"--profile scale needs bench/scale_stack.py ({exc})") from exc
    stack = scale_stack.start(tmp / "scale")  # type: ignore[attr-defined]
    token = getattr(stack, "token", None)
    return Target("scale", stack.url, stack.pid, token, stack.stop)


# ---------------------------------------------------------------- report

ROWS = [  # (target, kind) measured in each run
    ("bare", "smalltalk"),
    ("ours", "smalltalk"),
    ("ours", "shelter"),
    ("ours", "report"),
    ("ours", "register"),
    ("ours", "resident"),
]


def median_figures(runs: list[Figures]) -> Figures:
    def med(attr: str) -> float:
        return statistics.median(getattr(f, attr) for f in runs)

    return Figures(
        turns=int(med("turns")), msg_s=med("msg_s"), p50=med("p50"), p95=med("p95"),
        p99=med("p99"), cpu_ms=med("cpu_ms"), goals=sum(f.goals for f in runs),
        unexpected=sum(f.unexpected for f in runs), errors=sum(f.errors for f in runs),
    )


def print_table(title: str, results: dict[tuple[str, str, str], Figures]) -> None:
    print(f"\n{title}")
    print(f"{'target':6} {'kind':10} {'mode':5} {'turns':>5} {'msg/s':>6} {'p50':>6} {'p95':>6} "
          f"{'p99':>6} {'cpu ms/msg':>10} {'goals':>5} {'unexp':>5} {'err':>3}")
    for (target, kind, mode), f in results.items():
        print(f"{target:6} {kind:10} {mode:5} {f.turns:5d} {f.msg_s:6.2f} {f.p50:6.0f} {f.p95:6.0f} "
              f"{f.p99:6.0f} {f.cpu_ms:10.0f} {f.goals:5d} {f.unexpected:5d} {f.errors:3d}")


def ratios(results: dict[tuple[str, str, str], Figures], ours: str) -> dict[str, float]:
    """msg/s ratios the targets of issue 13 are about (same run)."""
    out: dict[str, float] = {}
    for mode in ("seq", "conc"):
        bare = results.get(("bare", "smalltalk", mode))
        small = results.get((ours, "smalltalk", mode))
        if bare and small:
            out[f"{mode:4} {ours} small talk / bare Rasa small talk (target >= 90 %)"] = small.msg_s / bare.msg_s
        for kind in ("shelter", "report"):
            task = results.get((ours, kind, mode))
            if small and task:
                out[f"{mode:4} {ours} {kind} / {ours} small talk (target >= 70 %)"] = task.msg_s / small.msg_s
    return out


def print_ratios(runs: list[dict[tuple[str, str, str], Figures]], ours: str) -> None:
    """The ratios of one run, or the median of each ratio over several runs."""
    per_run = [ratios(r, ours) for r in runs]
    title = "ratios (msg/s, same run" + (f"; median of {len(runs)} runs)" if len(runs) > 1 else ")")
    print(f"\n{title}:")
    for name in per_run[0]:
        values = [r[name] for r in per_run if name in r]
        each = "" if len(values) == 1 else "  (" + ", ".join(f"{v:.0%}" for v in values) + ")"
        print(f"  {name}: {statistics.median(values):6.1%}{each}")


async def one_run(targets: dict[str, Target], args: argparse.Namespace, ours: str
                  ) -> dict[tuple[str, str, str], Figures]:
    results: dict[tuple[str, str, str], Figures] = {}
    rows = [(ours if t == "ours" else t, k) for t, k in ROWS if (t != "bare" or "bare" in targets)]
    rows = [(t, k) for t, k in rows if k in args.kinds]
    for mode, concurrency, turns in (("seq", 1, args.seq_turns), ("conc", args.concurrency, args.conc_turns)):
        for target, kind in rows:
            figures, tally = await measure(targets[target], kind, concurrency, turns, args.max_seconds)
            results[(target, kind, mode)] = figures
            for line in tally.unexpected[:3]:
                print(f"  unexpected ({target} {kind} {mode}): {line}", file=sys.stderr)
    return results


async def warm(targets: dict[str, Target], kinds: list[str]) -> None:
    for target in targets.values():
        for kind in kinds if target.name != "bare" else ["smalltalk"]:
            await measure(target, kind, 1, 1, 60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1,
                        help="repeat the measurements; medians (0: only --long)")
    parser.add_argument("--seq-turns", type=int, default=60, help="turns per sequential measurement")
    parser.add_argument("--conc-turns", type=int, default=100, help="turns per concurrent measurement")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--max-seconds", type=float, default=60.0, help="bound per measurement")
    parser.add_argument("--kinds", nargs="+", default=["smalltalk", "shelter", "report", "resident"],
                        help="conversation kinds for our stack (bare Rasa: small talk only)")
    parser.add_argument("--long", type=int, default=0, metavar="N",
                        help="also one conversation of N >= 110 turns: p50 at turns 5-14 vs 100-109")
    parser.add_argument("--long-convs", type=int, default=6)
    parser.add_argument("--no-bare", action="store_true", help="skip bare Rasa")
    parser.add_argument("--profile", choices=["default", "scale"], default="default")
    parser.add_argument("--json", type=Path, help="also write the medians here")
    args = parser.parse_args()

    from bot.training import current_model, latest_model

    model = current_model(ROOT) or latest_model(ROOT)
    if model is None:
        raise SystemExit("no model in models/: run `make train`")
    print(f"model {model.name}; {os.cpu_count()} CPUs; loopback", flush=True)
    ours = "scale" if args.profile == "scale" else "ours"
    targets: dict[str, Target] = {}
    with tempfile.TemporaryDirectory(prefix="bosai-load-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            if not args.no_bare:
                targets["bare"] = start_bare(model, tmp)
            targets[ours] = start_scale(tmp) if ours == "scale" else start_ours(tmp)
            asyncio.run(warm(targets, args.kinds))
            runs = []
            for r in range(args.runs):
                results = asyncio.run(one_run(targets, args, ours))
                print_table(f"run {r + 1} of {args.runs}", results)
                print_ratios([results], ours)
                runs.append(results)
            medians = {key: median_figures([run[key] for run in runs]) for key in runs[0]} if runs else {}
            if args.runs > 1:
                print_table(f"medians of {args.runs} runs", medians)
                print_ratios(runs, ours)
            if args.long:
                for name, target in targets.items():
                    f = asyncio.run(long_conversation(target, args.long, args.long_convs))
                    print(f"\n{name}: one conversation of {args.long} small-talk turns "
                          f"({args.long_convs} conversations): p50 turns 5-14 {f.early:.0f} ms, "
                          f"turns 100-109 {f.late:.0f} ms ({f.late / f.early - 1:+.0%}; target "
                          f"within 10 %); server CPU per turn {f.early_cpu:.0f} -> "
                          f"{f.late_cpu:.0f} ms ({f.late_cpu / f.early_cpu - 1:+.0%})")
            if args.json and medians:
                args.json.write_text(json.dumps(
                    {" ".join(k): vars(v) for k, v in medians.items()}, indent=1))
        finally:
            for target in targets.values():
                assert callable(target.stop)
                target.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
