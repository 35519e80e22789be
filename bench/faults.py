"""Fault injection through the LINE webhook: what residents lose when a part of the bot dies.

One script of about 650 lines on purpose: the fake LINE API, the residents, the faults and the
counting are read together when a figure looks wrong, and none of them is used elsewhere.

The real stack (``bosai run`` on free loopback ports, as ``tests/conftest.py`` starts it) with LINE
configured against a fake LINE API that runs in this process (``LINE_API_BASE``; it records what
each resident receives, answers 409 for an ``X-Line-Retry-Key`` already accepted and 400 for a
reply token used twice, as LINE does). Simulated residents talk to the bot only through signed
webhook calls: each has short conversations (a damage report with read-back and confirmation,
a shelter search) and answers whatever the bot asks, the way a resident taps the quick replies
(postbacks) or shares a location; when the bot says 「もう一度送ってください」 the resident sends the
same message again. A webhook call that is not answered 200 (503, connection refused while Rasa
restarts) is delivered again every 2 s, as LINE does with redelivery turned on.

One phase per fault, each while the residents talk (new residents per phase):

- ``rasa``: ``kill -9`` of the Rasa server (the supervisor starts it again);
- ``actions``: ``kill -9`` of the action server;
- ``officials``: ``kill -9`` of the officials' app (not on the residents' path: it must simply
  come back);
- ``postgres`` (``--profile postgres`` only): ``pg_ctlcluster 15 main restart`` under the report
  store, Rasa's tracker store and the intake;
- ``redis`` (``--profile postgres`` only): Redis (Rasa's lock store) stopped with
  ``redis-cli shutdown nosave`` for 15 s, then ``service redis-server start``.

After a phase's load stops the bench waits at least the intake's lease (30 s) after the fault and
until no event is pending, then counts, for the events of that phase:

sent          webhook events the residents produced (one per message)
acknowledged  of those, answered 200 by the webhook (at the first try or a redelivery)
redelivered   events whose webhook call had to be delivered again (503, connection refused)
stored        rows in ``intake_events`` (the durable intake)
retried       events the intake worked on more than once (the first try was cut short)
answered      events whose answer reached the resident (a reply or pushes)
apologies     answers that were 「…もう一度送ってください」 with 119/110 (event ``failed``)
lost          acknowledged but never stored, or never answered
duplicated    events whose answer reached the resident more than once
reports       report numbers the residents were told, rows in ``reports`` for them; duplicate
              reports = rows beyond one per confirmed report conversation, lost reports = told
              numbers without a row

``--profile postgres`` runs the scale-out configuration (report store, tracker store and intake on
PostgreSQL 127.0.0.1:5432 with trust auth, in throwaway databases; Redis lock store) and restores
PostgreSQL and Redis at the end whatever happened. The per-resident rate limit is off
(``BOSAI_RATE_LIMIT_PER_MINUTE=0``): resent messages must not be refused by it here.

    flock /tmp/bosai-heavy.lock .venv/bin/python bench/faults.py [--quick] [--profile postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.channels.core import ERROR_TEXT  # noqa: E402
from tests.channels.helpers import FakeLine  # noqa: E402

SECRET = "bench-channel-secret"
TOKEN = "bench-access-token"
LEASE_S = 30.0  # IntakeConfig.lease_seconds
APOLOGY = "もう一度送ってください"  # in ERROR_TEXT, the apology for a message not processed
assert APOLOGY in ERROR_TEXT
LOCATION = {"latitude": 41.7687, "longitude": 140.7288}  # Hakodate station, inside the GSI data
SEND_GIVE_UP_S = 300.0  # a webhook call is delivered again for this long
ANSWER_WAIT_S = 240.0  # how long a resident waits for the bot's answer

# (a phrase of the bot's answer, what the resident does next) - first match wins; the same
# conversations as bench/residents.py, sent as LINE events: "/..." is a quick-reply tap
# (postback), LOCATION the location button. None: the conversation reached its goal.
ANSWERS: list[tuple[str, str | None]] = [
    ("受付番号", None),
    ("の避難場所です", None),
    ("この内容で送信しますか", "/affirm"),
    ("どの災害から避難しますか", '/inform{"hazard": "tsunami"}'),
    ("でよろしいですか", "/affirm"),
    ("何が起きていますか", "駅前の道路が膝まで冠水しています"),
    ("けがをした人", "/deny"),
    ("写真", "/deny"),
    ("緊急度", '/inform{"urgency": "high"}'),
    ("どんな被害", '/inform{"damage_type": "road_flooded"}'),
    ("位置情報を送る", "LOCATION"),
]
OPENERS = ["道路が冠水しています", "近くの避難所はどこですか"]


# --------------------------------------------------------------------------- fake LINE


class BenchLine(FakeLine):
    """The fake LINE API, recording per reply token and per push what each resident received;
    a reply token works once (LINE answers 400 to a second use)."""

    def __init__(self) -> None:
        super().__init__()
        self.used_tokens: set[str] = set()
        self.replies: dict[str, list[str]] = {}  # reply token -> texts delivered
        self.pushes: list[tuple[str, str, list[str], float]] = []  # to, retry key, texts, when
        self.refused_tokens = 0
        self.push_409 = 0

    def _reply(self, _: web.Request, body: bytes) -> web.Response:
        data = json.loads(body)
        token = str(data.get("replyToken") or "")
        if token in self.used_tokens:
            self.refused_tokens += 1
            return web.json_response({"message": "Invalid reply token"}, status=400)
        self.used_tokens.add(token)
        self.replies[token] = [m.get("text", "") for m in data["messages"]]
        return web.json_response({"sentMessages": []})

    def _push(self, request: web.Request, body: bytes) -> web.Response:
        key = request.headers.get("X-Line-Retry-Key") or ""
        if key in self.accepted_keys:
            self.push_409 += 1
            return web.json_response({"message": "The retry key is already accepted"}, status=409)
        data = json.loads(body)
        self.accepted_keys.add(key)
        texts = [m.get("text", "") for m in data["messages"]]
        self.pushes.append((str(data["to"]), key, texts, time.monotonic()))
        return web.json_response({"sentMessages": []})


def sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


# --------------------------------------------------------------------------- residents


@dataclass
class Sent:
    event_id: str
    user: str
    phase: str
    at: float
    acked: bool = False
    tries: int = 0


@dataclass
class Resident:
    user: str
    phase: str
    line: BenchLine
    webhook: str
    http: aiohttp.ClientSession
    sent: list[Sent] = field(default_factory=list)
    told_reports: list[int] = field(default_factory=list)
    apologies: int = 0
    silent: int = 0
    longest_wait: float = 0.0  # seconds from a message to its answer, the longest
    unexpected: list[str] = field(default_factory=list)
    goals: int = 0

    def event(self, what: str, event_id: str) -> dict[str, Any]:
        ev: dict[str, Any] = {
            "mode": "active",
            "timestamp": int(time.time() * 1000),
            "source": {"type": "user", "userId": self.user},
            "webhookEventId": event_id,
            "deliveryContext": {"isRedelivery": False},
            "replyToken": "rt-" + event_id,
        }
        if what == "LOCATION":
            ev.update(type="message", message={"type": "location", "id": "1", **LOCATION})
        elif what.startswith("/"):
            ev.update(type="postback", postback={"data": what})
        else:
            ev.update(type="message", message={"type": "text", "id": "1", "text": what})
        return ev

    async def send(self, what: str) -> Sent:
        """One message as a signed webhook call, delivered again until it is answered 200."""
        event_id = f"EV{self.phase}{uuid.uuid4().hex[:20]}".upper()
        sent = Sent(event_id, self.user, self.phase, time.monotonic())
        self.sent.append(sent)
        event = self.event(what, event_id)
        deadline = time.monotonic() + SEND_GIVE_UP_S
        while time.monotonic() < deadline:
            sent.tries += 1
            body = json.dumps({"destination": "Ubot", "events": [event]}).encode()
            headers = {"Content-Type": "application/json", "X-Line-Signature": sign(body)}
            try:
                async with self.http.post(self.webhook, data=body, headers=headers) as r:
                    if r.status == 200:
                        sent.acked = True
                        return sent
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            event["deliveryContext"] = {"isRedelivery": True}
            await asyncio.sleep(2.0)
        return sent

    async def answer(self, sent: Sent) -> list[str] | None:
        """The texts the resident received for ``sent`` (reply, or pushes after it was sent)."""
        deadline = time.monotonic() + ANSWER_WAIT_S
        token = "rt-" + sent.event_id
        while time.monotonic() < deadline:
            texts = list(self.line.replies.get(token, []))
            pushed = [p for p in self.line.pushes if p[0] == self.user and p[3] >= sent.at]
            if texts or pushed:
                await asyncio.sleep(0.5)  # the rest of a long answer comes by push
                pushed = [p for p in self.line.pushes if p[0] == self.user and p[3] >= sent.at]
                return texts + [t for p in pushed for t in p[2]]
            await asyncio.sleep(0.1)
        return None

    async def talk(self, stop: asyncio.Event) -> None:
        """Conversations until ``stop``: the opener, then answer each question of the bot."""
        opener = 0
        what = OPENERS[0]
        while not stop.is_set():
            sent = await self.send(what)
            if not sent.acked:
                continue
            texts = await self.answer(sent)
            self.longest_wait = max(self.longest_wait, time.monotonic() - sent.at)
            if texts is None:
                self.silent += 1
                continue  # sent again as a new message, as a resident would
            joined = "\n".join(texts)
            if APOLOGY in joined:
                self.apologies += 1
                continue  # the same message again
            if "受付番号" in joined:
                match = re.search(r"受付番号[^0-9]*([0-9]+)", joined)
                if match:
                    self.told_reports.append(int(match.group(1)))
            for phrase, reply in ANSWERS:
                if phrase in joined:
                    if reply is None:
                        self.goals += 1
                        opener += 1
                        what = OPENERS[opener % len(OPENERS)]
                    else:
                        what = reply
                    break
            else:
                self.unexpected.append(joined[:50])
                opener += 1
                what = OPENERS[opener % len(OPENERS)]


# --------------------------------------------------------------------------- the stack


def child_pid(stack: Any, pattern: str) -> int | None:
    """The pid of the supervisor's child whose command line contains ``pattern``."""
    out = subprocess.run(
        ["ps", "--ppid", str(stack.process.pid), "-o", "pid=,args="],
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    for line in out.splitlines():
        pid, _, args = line.strip().partition(" ")
        if pattern in args:
            return int(pid)
    return None


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 (loopback)
            return bool(r.status == 200)
    except OSError:
        return False


async def wait_healthy(url: str, timeout: float = 300.0) -> float:
    started = time.monotonic()
    while not await asyncio.to_thread(healthy, url):
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{url} did not come back within {timeout:.0f} s")
        await asyncio.sleep(0.5)
    return time.monotonic() - started


SERVICES = {
    "rasa": ("-m rasa run", "rasa_url", "/"),
    "actions": ("bot.cli actions", "action_url", "/health"),
    "officials": ("-m bot.officials", "officials_url", "/health"),
}


def make_kill(stack: Any, name: str) -> Callable[[], Awaitable[str]]:
    pattern, attr, path = SERVICES[name]

    async def kill() -> str:
        pid = child_pid(stack, pattern)
        if pid is None:
            raise RuntimeError(f"no running {name} process under the supervisor")
        os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(1.0)  # the supervisor notices within 0.5 s
        back = await wait_healthy(getattr(stack, attr) + path)
        return f"kill -9 {name} (pid {pid}); healthy again after {back + 1:.0f} s"

    return kill


def pg_running() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0


async def restart_postgres() -> str:
    started = time.monotonic()
    await asyncio.to_thread(
        subprocess.run, ["pg_ctlcluster", "15", "main", "restart"], check=True
    )
    return f"pg_ctlcluster 15 main restart ({time.monotonic() - started:.1f} s)"


def redis_running() -> bool:
    return subprocess.run(["redis-cli", "ping"], capture_output=True).returncode == 0


def _keep_nothing_on_disk() -> None:
    """Redis as this machine runs it: no snapshots. Started from the packaged config it would
    snapshot into a directory its user cannot write and then refuse every write (MISCONF), which
    the next test run would meet."""
    for key, value in (("save", ""), ("stop-writes-on-bgsave-error", "no")):
        subprocess.run(["redis-cli", "config", "set", key, value], capture_output=True)


def start_redis() -> None:
    """``service redis-server start``; when that does not bring it up (the init script may not
    know a server started another way), the server itself on 127.0.0.1:6379."""
    subprocess.run(["service", "redis-server", "start"], capture_output=True)
    for _ in range(50):
        if redis_running():
            _keep_nothing_on_disk()
            return
        time.sleep(0.1)
    subprocess.run(
        ["redis-server", "--bind", "127.0.0.1", "--port", "6379", "--daemonize", "yes",
         "--dir", "/var/lib/redis"],
        check=True,
    )  # fmt: skip
    for _ in range(50):
        if redis_running():
            _keep_nothing_on_disk()
            return
        time.sleep(0.1)
    raise RuntimeError("Redis did not start again")


async def stop_redis() -> str:
    subprocess.run(["redis-cli", "shutdown", "nosave"], capture_output=True)
    await asyncio.sleep(15.0)
    await asyncio.to_thread(start_redis)
    return "Redis stopped (shutdown nosave) for 15 s, then started"


def restore_services() -> None:
    """PostgreSQL and Redis running again, whatever happened."""
    if not pg_running():
        subprocess.run(["pg_ctlcluster", "15", "main", "start"])
    if not redis_running():
        start_redis()


# --------------------------------------------------------------------------- counting


@dataclass
class Figures:
    phase: str
    fault: str = ""
    sent: int = 0
    acknowledged: int = 0
    redelivered: int = 0
    stored: int = 0
    retried: int = 0  # claimed more than once: the first try was cut short by the fault
    answered: int = 0
    apologies: int = 0
    lost: int = 0
    duplicated: int = 0
    told_reports: int = 0
    report_rows: int = 0
    duplicate_reports: int = 0
    lost_reports: int = 0
    unexpected: int = 0
    pending_wait_s: float = 0.0
    longest_wait_s: float = 0.0
    notes: list[str] = field(default_factory=list)


def count(store: Any, line: BenchLine, residents: list[Resident], fig: Figures) -> Figures:
    from sqlalchemy import text

    sent = [s for r in residents for s in r.sent]
    ids = {s.event_id for s in sent}
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT event_id, status, retry_key, last_error, attempts FROM intake_events "
                 "WHERE channel = 'line'")
        ).fetchall()  # fmt: skip
    rows = [r for r in rows if r[0] in ids]
    by_id = {r[0]: r for r in rows}
    push_owner: dict[str, tuple[str, int]] = {}
    for event_id, _, retry_key, _, _ in rows:
        base = uuid.UUID(retry_key)
        for index in range(20):
            push_owner[str(uuid.uuid5(base, f"push-{index}"))] = (event_id, index)
    calls: dict[str, dict[int, int]] = {}  # event -> batch index -> deliveries
    texts: dict[str, list[str]] = {}
    for token, delivered in line.replies.items():
        event_id = token.removeprefix("rt-")
        if event_id in ids:
            calls.setdefault(event_id, {}).setdefault(0, 0)
            calls[event_id][0] += 1
            texts.setdefault(event_id, []).extend(delivered)
    for _, key, delivered, _ in line.pushes:
        owner = push_owner.get(key)
        if owner is not None:
            event_id, index = owner
            calls.setdefault(event_id, {}).setdefault(index, 0)
            calls[event_id][index] += 1
            texts.setdefault(event_id, []).extend(delivered)
    fig.sent = len(sent)
    fig.acknowledged = sum(1 for s in sent if s.acked)
    fig.redelivered = sum(1 for s in sent if s.tries > 1)
    fig.stored = len(rows)
    fig.answered = sum(1 for s in sent if calls.get(s.event_id))
    fig.apologies = sum(1 for s in sent if APOLOGY in "\n".join(texts.get(s.event_id, [])))
    fig.lost = sum(
        1 for s in sent if s.acked and (s.event_id not in by_id or not calls.get(s.event_id))
    )
    fig.duplicated = sum(1 for c in calls.values() if any(n > 1 for n in c.values()))
    errors: dict[str, int] = {}
    fig.retried = sum(1 for r in rows if r[4] > 1)
    for _, status, _, last_error, _ in rows:
        if status != "done":
            key = f"{status}: {last_error}"
            errors[key] = errors.get(key, 0) + 1
    fig.notes += [f"{n} event(s) {k}" for k, n in sorted(errors.items())]
    # reports: the numbers residents were told against the rows stored for them
    told = {n for r in residents for n in r.told_reports}
    fig.told_reports = len(told)
    pseudonyms = {store.resident_id("line", r.user): r for r in residents}
    with store.engine.connect() as conn:
        report_rows = conn.execute(
            text("SELECT id, resident FROM reports WHERE channel = 'line'")
        ).fetchall()
    mine = [(rid, res) for rid, res in report_rows if res in pseudonyms]
    fig.report_rows = len(mine)
    ids_stored = {rid for rid, _ in mine}
    fig.lost_reports = len(told - ids_stored)
    per_resident: dict[str, int] = {}
    for _, res in mine:
        per_resident[res] = per_resident.get(res, 0) + 1
    for res, n in per_resident.items():
        fig.duplicate_reports += max(0, n - len(set(pseudonyms[res].told_reports)))
    fig.unexpected = sum(len(r.unexpected) for r in residents)
    fig.longest_wait_s = max((r.longest_wait for r in residents), default=0.0)
    silent = sum(r.silent for r in residents)
    if silent:
        fig.notes.append(f"{silent} time(s) a resident waited {ANSWER_WAIT_S:.0f} s in vain")
    if line.refused_tokens:
        fig.notes.append(f"reply tokens refused so far (LINE 400, then push): {line.refused_tokens}")
    return fig


async def drained(store: Any, since: float) -> float:
    """Wait at least the lease after ``since`` and until nothing is pending; seconds waited."""
    started = time.monotonic()
    while True:
        try:
            counts = await asyncio.to_thread(store.intake_counts, "line")
        except Exception as exc:  # noqa: BLE001 - e.g. the first query after PostgreSQL restarted
            print(f"  (counting pending events failed: {type(exc).__name__}; again)", flush=True)
            await asyncio.sleep(1.0)
            continue
        if counts["pending"] == 0 and time.monotonic() - since >= LEASE_S:
            return time.monotonic() - started
        if time.monotonic() - started > 600:
            raise RuntimeError(f"intake did not drain: {counts}")
        await asyncio.sleep(1.0)


# --------------------------------------------------------------------------- phases


async def run_phase(
    name: str,
    fault: Callable[[], Awaitable[str]],
    *,
    store: Any,
    line: BenchLine,
    webhook: str,
    residents: int,
    before_s: float,
    after_s: float,
) -> Figures:
    fig = Figures(name)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        people = [
            Resident(f"U{name[:4]}{i:02d}" + uuid.uuid4().hex[: 32 - 6], name[:4], line, webhook, http)
            for i in range(residents)
        ]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(p.talk(stop)) for p in people]
        await asyncio.sleep(before_s)
        fault_at = time.monotonic()
        print(f"[{name}] injecting the fault", flush=True)
        fig.fault = await fault()
        print(f"[{name}] {fig.fault}", flush=True)
        await asyncio.sleep(after_s)
        stop.set()
        await asyncio.gather(*tasks)
    fig.pending_wait_s = await drained(store, fault_at)
    return count(store, line, people, fig)


def print_figures(figures: list[Figures]) -> None:
    cols = [
        ("phase", "phase"), ("sent", "sent"), ("acknowledged", "ack"), ("redelivered", "redeliv"),
        ("stored", "stored"), ("retried", "retried"), ("answered", "answered"), ("apologies", "apology"), ("lost", "lost"),
        ("duplicated", "dup"), ("told_reports", "reports"), ("report_rows", "rows"),
        ("duplicate_reports", "dup rep"), ("lost_reports", "lost rep"),
    ]  # fmt: skip
    print("\n" + " | ".join(h for _, h in cols))
    total = Figures("total")
    for fig in figures:
        print(" | ".join(str(getattr(fig, c)) for c, _ in cols))
        for c, _ in cols[1:]:
            setattr(total, c, getattr(total, c) + getattr(fig, c))
    print(" | ".join(str(getattr(total, c)) for c, _ in cols))
    for fig in figures:
        print(
            f"- {fig.phase}: {fig.fault}; longest wait for an answer {fig.longest_wait_s:.0f} s; "
            f"drained {fig.pending_wait_s:.0f} s after the load"
        )
        for note in fig.notes:
            print(f"    {note}")
        if fig.unexpected:
            print(f"    {fig.unexpected} answer(s) the residents' script did not expect")


# --------------------------------------------------------------------------- main


def keep_output(stack: Any) -> None:
    """Read the supervisor's output (its restart messages) so that its pipe never fills."""
    for line in stack.process.stdout:
        stack.output.append(line)


def pg_databases(create: bool, names: list[str]) -> None:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        for name in names:
            if create:
                cur.execute(f'CREATE DATABASE "{name}"')
            else:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


async def main(args: argparse.Namespace) -> int:
    import tempfile

    from bot.store import Store
    from tests.conftest import launch_stack, stop_stack, wait_ready

    line = BenchLine()
    base = await line.start()
    env = {
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE": base,
        "LINE_DATA_API_BASE": base,
        "BOSAI_RATE_LIMIT_PER_MINUTE": "0",
    }
    databases: list[str] = []
    if args.profile == "postgres":
        tag = uuid.uuid4().hex[:8]
        databases = [f"bosai_faults_{tag}", f"bosai_faults_{tag}_rasa"]
        pg_databases(True, databases)
        env["TRACKER_STORE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{databases[1]}"
        env["REDIS_URL"] = "redis://127.0.0.1:6379/11"
    var_dir = Path(tempfile.mkdtemp(prefix="bosai-faults-"))
    if databases:
        env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{databases[0]}"
    faults: list[str] = args.faults.split(",")
    if args.profile != "postgres":
        faults = [f for f in faults if f not in ("postgres", "redis")]
    figures: list[Figures] = []
    stack = None
    try:
        started = time.monotonic()
        stack = wait_ready(launch_stack(var_dir, env))
        print(f"stack ready in {time.monotonic() - started:.0f} s ({args.profile})", flush=True)
        assert stack.process.stdout is not None
        threading.Thread(target=keep_output, args=(stack,), daemon=True).start()
        store = Store(stack.env["DATABASE_URL"], secret=stack.env["BOSAI_RESIDENT_SECRET"].encode())
        webhook = f"{stack.rasa_url}/webhooks/line/webhook"
        actions: dict[str, Callable[[], Awaitable[str]]] = {
            "rasa": make_kill(stack, "rasa"),
            "actions": make_kill(stack, "actions"),
            "officials": make_kill(stack, "officials"),
            "postgres": restart_postgres,
            "redis": stop_redis,
        }
        for name in faults:
            fig = await run_phase(
                name, actions[name], store=store, line=line, webhook=webhook,
                residents=args.residents, before_s=args.before, after_s=args.after,
            )  # fmt: skip
            figures.append(fig)
            print_figures([fig])
        store.dispose()
    finally:
        restore_services()
        if stack is not None:
            try:
                stop_stack(stack)
            except AssertionError as exc:
                print(f"the stack did not stop cleanly: {str(exc)[-500:]}", file=sys.stderr)
        await line.stop()
        if databases:
            pg_databases(False, databases)
    print(f"\n== all phases ({args.profile}, {args.residents} residents per phase) ==")
    print_figures(figures)
    restarts = [x.strip() for x in stack.output if "starting it again" in x] if stack else []
    print("supervisor:", *restarts, sep="\n  ")
    bad = sum(f.lost + f.duplicated + f.duplicate_reports + f.lost_reports for f in figures)
    return 1 if bad else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--faults", default="rasa,actions,officials,postgres,redis")
    parser.add_argument("--residents", type=int, default=4)
    parser.add_argument("--before", type=float, default=15.0, help="load before the fault (s)")
    parser.add_argument("--after", type=float, default=20.0, help="load after the fault (s)")
    parser.add_argument("--quick", action="store_true", help="rasa and actions only, 3 residents")
    ns = parser.parse_args()
    if ns.quick:
        ns.faults, ns.residents, ns.before, ns.after = "rasa,actions", 3, 8.0, 10.0
    sys.exit(asyncio.run(main(ns)))
