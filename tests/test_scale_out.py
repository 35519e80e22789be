"""The scale-out path: two bot instances behind one PostgreSQL tracker store, one Redis lock store
and one PostgreSQL report store (TRACKER_STORE_URL, REDIS_URL, DATABASE_URL).

A resident's turns alternate between the two instances and the form still runs to the end;
messages sent to both at the same moment are all kept (the lock store serialises them); the
registration lands once in the shared report store. Skipped with the reason when PostgreSQL or
Redis is not reachable.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import Stack, _ensure_model, launch_stack, stop_stack, wait_ready
from tests.store.conftest import PG_HOST, PG_PORT, PG_USER, _pg_admin

pytestmark = [pytest.mark.rasa, pytest.mark.postgres]

REDIS = ("127.0.0.1", 6379, 5)
LOCATION = '/share_location{"latitude": 41.7687, "longitude": 140.7288}'


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


@pytest.fixture(scope="module")
def databases() -> Iterator[dict[str, str]]:
    try:
        admin = _pg_admin()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL not reachable on {PG_HOST}:{PG_PORT} as {PG_USER}: {exc}")
    try:
        import redis

        redis.Redis(host=REDIS[0], port=REDIS[1], db=REDIS[2], socket_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        admin.close()
        pytest.skip(f"Redis not reachable on {REDIS[0]}:{REDIS[1]}: {exc}")
    names = {kind: f"bosai_scale_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("tracker", "reports")}
    with admin.cursor() as cur:
        for name in names.values():
            cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield names
    finally:
        with admin.cursor() as cur:
            for name in names.values():
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="module")
def two_stacks(
    databases: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, Stack, str]]:
    _ensure_model()
    token = secrets.token_urlsafe(16)
    env = {
        "TRACKER_STORE_URL": f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{databases['tracker']}",
        "REDIS_URL": f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS[2]}",
        "DATABASE_URL": f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{databases['reports']}",
        "RASA_API_TOKEN": token,
    }
    a = launch_stack(tmp_path_factory.mktemp("scale-a"), env)
    b = launch_stack(tmp_path_factory.mktemp("scale-b"), env)
    try:
        wait_ready(a)
        wait_ready(b)
        yield a, b, token
    finally:
        for stack in (a, b):
            if stack.process.poll() is None:
                stop_stack(stack)


def tracker_events(stack: Stack, token: str, sender: str) -> list[dict]:
    """The tracker of the conversation of a REST ``sender`` (kept under ``rest:<hash>``)."""
    url = f"{stack.rasa_url}/conversations/{stack.sender(sender)}/tracker?token={token}"
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.loads(resp.read())["events"]


def test_endpoints_use_the_shared_stores(two_stacks) -> None:
    import yaml

    for stack in two_stacks[:2]:
        endpoints = yaml.safe_load((stack.var_dir / "endpoints.yml").read_text())
        assert endpoints["tracker_store"]["dialect"] == "postgresql"
        assert endpoints["lock_store"] == {
            "type": "bot.lock_store.AtomicRedisLockStore", "url": REDIS[0], "port": REDIS[1], "db": REDIS[2]
        }


def test_turns_alternate_between_instances(two_stacks, databases) -> None:
    a, b, token = two_stacks
    sender = "scale-1"
    assert "場所" in texts(a.rest(sender, '/register_evacuation{"place_type": "car", "number": "3"}'))
    assert "高齢の方" in texts(b.rest(sender, LOCATION))  # b continues a's form
    assert "必要な物" in texts(a.rest(sender, "/deny"))
    assert "連絡" in texts(b.rest(sender, "水と毛布"))
    assert "3人" in texts(a.rest(sender, "/affirm"))

    import psycopg2

    def query(db: str, sql: str, *args: str) -> list[tuple]:
        conn = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=databases[db])
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        finally:
            conn.close()

    # Both instances wrote to the one tracker store ...
    count = query("tracker", "SELECT count(*) FROM events WHERE sender_id = %s AND type_name = 'user'", a.sender(sender))
    assert count == [(5,)]
    # ... and the registration is in the one report store, once.
    rows = query("reports", "SELECT place_type, headcount, needs FROM evacuees")
    assert rows == [("car", 3, ["water", "blankets"])]


def test_simultaneous_messages_to_both_instances_are_all_kept(two_stacks) -> None:
    a, b, token = two_stacks
    sender = "scale-2"
    replies: dict[str, list[dict]] = {}
    errors: list[BaseException] = []

    def send(name: str, stack: Stack, text: str) -> None:
        try:
            replies[name] = stack.rest(sender, text)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    for round_ in range(3):
        threads = [
            threading.Thread(target=send, args=(f"a{round_}", a, "こんにちは")),
            threading.Thread(target=send, args=(f"b{round_}", b, "ありがとう")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert not errors, errors
    assert len(replies) == 6 and all(replies.values())
    user_events = [e for e in tracker_events(b, token, sender) if e["event"] == "user"]
    assert len(user_events) == 6
    assert sorted(e["text"] for e in user_events) == sorted(["こんにちは", "ありがとう"] * 3)
