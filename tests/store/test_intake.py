"""The durable intake part of the store (SQLite and PostgreSQL): de-dup at insert, ordered
atomic claims, leases, and the done / failed / retry / release moves."""

from __future__ import annotations

import threading
from datetime import timedelta

from bot.store import Store
from bot.store.intake import IntakeItem
from bot.store.models import utcnow


def items(*pairs: tuple[str, str]) -> list[IntakeItem]:
    return [IntakeItem(eid, user, {"id": eid, "text": "秘密の本文"}) for eid, user in pairs]


def test_redelivery_adds_nothing_whether_pending_done_or_failed(store: Store) -> None:
    assert store.add_intake("line", items(("e1", "U1"), ("e2", "U1"), ("e3", "U2"))) == [
        True,
        True,
        True,
    ]
    assert store.add_intake("line", items(("e1", "U1"))) == [False]  # pending
    assert store.add_intake("telegram", items(("e1", "U1"))) == [True]  # other channel
    first, other = store.claim_intake("line", 10, 30)
    assert store.intake.finish(first)
    assert store.intake.fail(other, "send: LINE answered 403")
    assert store.add_intake("line", items(("e1", "U1"), ("e3", "U2"))) == [False, False]
    assert store.intake_counts("line") == {"pending": 1, "done": 1, "failed": 1}
    done = store.intake_event("line", "e1")
    assert done is not None and done["status"] == "done" and not done["has_payload"]
    (failed,) = store.failed_intake("line")
    assert failed["event_id"] == "e3" and failed["last_error"] == "send: LINE answered 403"
    assert store.intake_event("line", "e3")["has_payload"]  # kept for the officials


def test_claims_give_one_event_per_resident_in_order(store: Store) -> None:
    store.add_intake("line", items(("a1", "A"), ("b1", "B"), ("a2", "A"), ("b2", "B")))
    claimed = store.claim_intake("line", 10, 30)
    assert [e.event_id for e in claimed] == ["a1", "b1"]
    assert all(e.payload["text"] == "秘密の本文" and e.attempts == 1 for e in claimed)
    assert store.claim_intake("line", 10, 30) == []  # a2/b2 wait for a1/b1
    store.intake.finish(claimed[1])
    (b2,) = store.claim_intake("line", 10, 30)
    assert b2.event_id == "b2" and store.intake.finish(b2)
    # a retried event keeps blocking its resident until its backoff is over
    assert store.intake.retry_later(claimed[0], 60, "processing: RuntimeError")
    assert store.claim_intake("line", 10, 30) == []
    later = store.claim_intake("line", 10, 30, now=utcnow() + timedelta(seconds=61))
    assert [(e.event_id, e.attempts, e.last_error) for e in later] == [
        ("a1", 2, "processing: RuntimeError")
    ]


def test_expired_lease_is_taken_over_and_the_old_holder_cannot_write(store: Store) -> None:
    store.add_intake("line", items(("e1", "U1")))
    (mine,) = store.claim_intake("line", 1, 30)
    assert store.claim_intake("line", 1, 30) == []
    (theirs,) = store.claim_intake("line", 1, 30, now=utcnow() + timedelta(seconds=31))
    assert theirs.attempts == 2 and theirs.claim_token != mine.claim_token
    assert not store.intake.finish(mine) and not store.intake.mark_sent(mine, 1)
    assert store.intake.mark_sent(theirs, 1) and store.intake.finish(theirs)
    assert store.intake_event("line", "e1")["status"] == "done"


def test_release_gives_the_event_back_without_counting_the_attempt(store: Store) -> None:
    store.add_intake("telegram", items(("7", "42")))
    (event,) = store.claim_intake("telegram", 1, 30)
    assert store.intake.save_replies(event, [{"text": "了解"}])
    assert store.intake.mark_sent(event, 1)
    assert store.intake.release(event)
    (again,) = store.claim_intake("telegram", 1, 30)
    assert again.attempts == 1 and again.replies == [{"text": "了解"}] and again.sent_parts == 1


def test_two_instances_never_claim_the_same_event(store: Store) -> None:
    """Two stores on one database (two bot instances) claiming at the same time."""
    n = 60
    store.add_intake("line", items(*[(f"e{i}", f"U{i}") for i in range(n)]))
    other = Store(store.url, photo_dir=store.photo_dir, secret=b"test-secret")
    got: list[list[str]] = [[], []]
    barrier = threading.Barrier(2)

    def run(index: int, st: Store) -> None:
        barrier.wait()
        while True:
            claimed = st.claim_intake("line", 5, 30)
            if not claimed:
                return
            got[index].extend(e.event_id for e in claimed)

    threads = [threading.Thread(target=run, args=(i, st)) for i, st in enumerate((store, other))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.dispose()
    assert sorted(got[0] + got[1]) == sorted(f"e{i}" for i in range(n))
    assert not set(got[0]) & set(got[1])
