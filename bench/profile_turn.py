"""Where a turn's time goes: py-spy on the Rasa server and the action server under load.

Starts ``bosai run`` as the tests do (``tests/conftest.py``), sends conversations of one kind
(``bench/residents.py``) one at a time for ``--seconds`` while py-spy samples both servers, and
prints the share of the samples per part (NLU components, policies, tracker store, lock store,
the action server call and its payload, the actions' own work, logging, Sanic/asyncio). It also
prints the size of the JSON Rasa posts to the action server at the 5th and the 100th turn of
one conversation.

py-spy is not a dependency of the project; install it anywhere (``pip install py-spy``) and
give its path with ``--py-spy`` (default: ``py-spy`` on the PATH).

    flock /tmp/bosai-heavy.lock .venv/bin/python bench/profile_turn.py --kind smalltalk
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.residents import SMALL_TALK, Tally, conversation  # noqa: E402

# (part, substrings of a frame's "function (file)"); the first part any frame of a stack matches
# wins, so the more specific parts come first.
PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("our danger detector", ("bot/nlu/components", "bot/nlu/danger")),
    ("our vocabulary extractor", ("vocabulary_extractor", "bot/vocabulary")),
    ("tracker store", ("tracker_store.py",)),
    ("lock store", ("lock_store.py",)),
    ("action call: tracker/domain to JSON", ("current_state", "_action_call_format")),
    ("action call: HTTP (aiohttp)", ("aiohttp/",)),
    ("NLU: spaCy / GiNZA / Sudachi", ("spacy/", "ginza", "sudachi", "thinc/")),
    ("NLU: DIET, featurizers (TensorFlow)", ("rasa/nlu/",)),
    ("policies (TED, rules, memoization)", ("rasa/core/policies", "rasa/core/featurizers",
                                            "rasa/utils/tensorflow")),
    ("TensorFlow (other)", ("tensorflow/", "keras/")),
    ("logging", ("logging/__init__.py", "structlog")),
    ("actions: GIS", ("gis/",)),
    ("actions: report store", ("bot/store/", "sqlalchemy/")),
    ("actions: our code", ("/actions/",)),
    ("rasa_sdk (parse, Tracker, events)", ("rasa_sdk/",)),
    ("JSON", ("json/",)),
    ("Rasa processor, events, trackers", ("rasa/core/", "rasa/shared/")),
    ("Sanic / asyncio / HTTP server", ("sanic/", "asyncio/", "uvloop", "httptools")),
]


def classify(stack: str) -> str:
    for part, needles in PARTS:
        if any(n in stack for n in needles):
            return part
    return "other"


def child_pid(root: int, needle: str) -> int:
    """The descendant of ``root`` whose command line contains ``needle``."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            status = (proc / "status").read_text()
        except OSError:
            continue
        ppid = int(next(x for x in status.splitlines() if x.startswith("PPid:")).split()[1])
        if needle in cmd and ppid == root:
            return int(proc.name)
    raise SystemExit(f"no child of {root} runs {needle!r}")


def summarise(raw: Path, title: str) -> None:
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        counts[classify(stack)] += int(n)
        total += int(n)
    print(f"\n{title}: {total} samples (active time only)")
    for part, n in counts.most_common():
        print(f"  {part:42} {n / max(total, 1):6.1%}")


async def drive(url: str, token: str | None, kind: str, seconds: float) -> Tally:
    tally = Tally()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession(headers=headers) as http:

        async def send(sender: str, text: str) -> list[dict]:
            async with http.post(url, json={"sender": sender, "message": text}) as resp:
                resp.raise_for_status()
                return list(await resp.json())

        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            n += 1
            await conversation(kind, send, f"profile-{kind}-{n}", tally)
    return tally


def payload_sizes(stack_rasa: str, api_token: str, rest_url: str, token: str | None) -> None:
    """Bytes of the action server request (tracker with all events + domain) by turn."""
    import rasa
    from rasa.shared.core.domain import Domain

    domain_bytes = len(json.dumps(Domain.load(str(ROOT / "bot" / "domain")).as_dict()))
    sender = f"profile-long-{time.time_ns()}"
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conv = sender
    for turn in range(1, 101):
        body = json.dumps({"sender": sender, "message": SMALL_TALK[turn % len(SMALL_TALK)]}).encode()
        with urllib.request.urlopen(urllib.request.Request(rest_url, body, headers), timeout=60) as r:
            replies = json.loads(r.read())
        # the REST channel may namespace the sender; Rasa's id is the reply's recipient
        conv = next((str(x["recipient_id"]) for x in replies if x.get("recipient_id")), conv)
        if turn in (5, 100):
            url = f"{stack_rasa}/conversations/{conv}/tracker?include_events=ALL&token={api_token}"
            with urllib.request.urlopen(url, timeout=60) as r:
                tracker = r.read()
            print(f"  turn {turn:3d}: tracker {len(tracker) / 1024:6.1f} KiB + domain "
                  f"{domain_bytes / 1024:.1f} KiB per action call (rasa {rasa.__version__})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", default="smalltalk")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--py-spy", default="py-spy")
    parser.add_argument("--rate", type=int, default=250)
    parser.add_argument("--keep", type=Path, help="keep py-spy's raw stacks in this folder")
    args = parser.parse_args()

    from tests.conftest import launch_stack, stop_stack, wait_ready

    api_token = "profile-api-token"
    with tempfile.TemporaryDirectory(prefix="bosai-profile-") as tmp:
        stack = wait_ready(launch_stack(Path(tmp) / "var", {
            "RASA_API_TOKEN": api_token, "BOSAI_RATE_LIMIT_PER_MINUTE": "100000",
            "BOSAI_REST_TOKEN": "profile-rest-token"}))
        token = stack.env["BOSAI_REST_TOKEN"]
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
        try:
            asyncio.run(drive(url, token, args.kind, 5))  # warm
            pids = {"rasa": child_pid(stack.process.pid, "rasa run"),
                    "actions": child_pid(stack.process.pid, "bot.cli actions")}
            spies = {
                name: subprocess.Popen(
                    [args.py_spy, "record", "--pid", str(pid), "--rate", str(args.rate),
                     "--duration", str(int(args.seconds)), "--format", "raw", "--nonblocking",
                     "--threads",
                     "--output", f"{tmp}/{name}.txt"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for name, pid in pids.items()
            }
            tally = asyncio.run(drive(url, token, args.kind, args.seconds))
            for spy in spies.values():
                spy.wait(timeout=120)
            lat = sorted(tally.latencies)
            print(f"{args.kind}: {len(lat)} turns, p50 {lat[len(lat) // 2]:.0f} ms "
                  f"(goals {tally.goals}, unexpected {len(tally.unexpected)})")
            for name in pids:
                summarise(Path(tmp) / f"{name}.txt", f"{name} server")
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    (args.keep / f"{name}.txt").write_bytes((Path(tmp) / f"{name}.txt").read_bytes())
            print("\naction server request size:")
            payload_sizes(stack.rasa_url, api_token, url, token)
        finally:
            stop_stack(stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
