"""Danger first and nothing lost, measured on the real stack over REST (prints its figures).

Starts ``bosai run`` on free loopback ports with a fresh runtime folder and the trained model,
then sends:

- the held-out danger file's test half (tests/data/danger_heldout.yml, even positions; never
  used to write lexicon patterns), each message cold (a new resident) and mid-form (after
  「避難所を探したい」 opened the shelter search): the share of life threats whose FIRST reply is
  the emergency line (119/110), and the share of the bot's emergency answers that were threats;
- the 50 varied messages (tests/data/varied_messages.yml): where each ended (inbox, report,
  registration, answered only), and the share that reached a person.

    .venv/bin/python bench/intake_eval.py [--all]    # --all: whole held-out file, both halves
    .venv/bin/python bench/intake_eval.py --dev      # the dev sets instead, errors printed
    .venv/bin/python bench/intake_eval.py --fresh bench/data/danger_fresh.yml  # any such file

``--dev`` sends the dev sets instead of the test half (the held-out file's odd positions and
bench/data/danger_dev.yml), cold only, and prints every missed threat and false alarm: the
figure to tune the layer against; the test half stays a pass/fail figure.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import launch_stack, stop_stack, wait_ready  # noqa: E402
from tests.test_danger_first import is_emergency_answer  # noqa: E402

_ids = itertools.count()


def first_text(replies: list[dict]) -> str:
    return replies[0].get("text", "") if replies else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--all", action="store_true", help="use both halves of the held-out file")
    parser.add_argument(
        "--dev", action="store_true", help="the dev sets (cold), printing their errors"
    )
    parser.add_argument(
        "--fresh",
        metavar="PATH",
        type=Path,
        help="a fresh file with life_threat / not_life_threat lists, sent cold, errors printed",
    )
    args = parser.parse_args()
    if args.fresh:
        fresh = yaml.safe_load(args.fresh.read_text(encoding="utf-8"))
        keys = ("life_threat", "not_life_threat")
        dev_main({"fresh": {k: [str(t) for t in fresh[k]] for k in keys}})
        return
    if args.dev:
        dev_main()
        return
    data = yaml.safe_load((ROOT / "tests/data/danger_heldout.yml").read_text(encoding="utf-8"))
    step = 1 if args.all else 2
    threats = [str(t) for t in data["life_threat"]][0::step]
    lookalikes = [str(t) for t in data["not_life_threat"]][0::step]
    varied = yaml.safe_load((ROOT / "tests/data/varied_messages.yml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        stack = wait_ready(launch_stack(Path(tmp)))
        print(f"stack up in {time.monotonic() - t0:.1f} s")
        try:
            for mode in ("cold", "mid-form"):

                def answer(text: str, mode: str = mode) -> list[dict]:
                    who = f"bench-{mode}-{next(_ids)}"
                    if mode == "mid-form":
                        stack.rest(who, "避難所を探したい")
                    return stack.rest(who, text)

                on_threats = [answer(t) for t in threats]
                on_lookalikes = [answer(t) for t in lookalikes]
                tp = sum(is_emergency_answer(r) for r in on_threats)
                fp = sum(is_emergency_answer(r) for r in on_lookalikes)
                with_119 = sum("119" in first_text(r) for r in on_threats)
                recall = tp / len(threats)
                precision = tp / (tp + fp) if tp + fp else 0.0
                print(f"{mode:9s}: emergency answer for {tp}/{len(threats)} threats (recall "
                      f"{recall:.3f}), {fp}/{len(lookalikes)} false alarms (precision "
                      f"{precision:.3f}); 119 in the first reply for {with_119}/{len(threats)}")  # fmt: skip
            from bot.store import Store

            cases = varied["messages"]
            for case in cases:
                stack.rest(f"bench-varied-{next(_ids)}", case["text"])
            store = Store(stack.env["DATABASE_URL"])
            rows, cursor = [], None
            while True:
                page = store.list_inbox(handled=None, limit=200, cursor=cursor)
                rows += page.items
                if not page.next_cursor:
                    break
                cursor = page.next_cursor
            texts = {c["text"].strip() for c in cases}
            mine = [m for m in rows if m.text in texts]
            kept = {m.text for m in mine}
            need = [c for c in cases if c["expect"] != "any"]
            reached = sum(c["text"].strip() in kept for c in need)
            told = sum(1 for m in mine if m.reason in ("fallback", "out_of_scope", "unhandled"))
            print(f"varied  : {reached}/{len(need)} messages that need a person reached the inbox "
                  f"({len(cases) - len(need)} questions answered by the bot itself); {len(kept)} of "
                  f"{len(cases)} messages are in the inbox, {told} of them because the bot could "
                  f"not place them (fallback, out of scope, an answer outside a form), the rest "
                  f"as reports or registrations started")  # fmt: skip
        finally:
            stop_stack(stack)


def dev_main(sets: dict[str, dict[str, list[str]]] | None = None) -> None:
    """Sets over REST, cold: recall, precision, 119 first, and every error printed.

    Without ``sets``, the dev sets (the held-out file's odd positions and danger_dev.yml).
    """
    if sets is None:
        from bench.danger_eval import DEV, halves

        sets = {"dev": halves()["dev"]}
        dev2 = yaml.safe_load(DEV.read_text(encoding="utf-8"))
        keys = ("life_threat", "not_life_threat")
        sets["dev2"] = {k: [str(t) for t in dev2[k]] for k in keys}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        stack = wait_ready(launch_stack(Path(tmp)))
        print(f"stack up in {time.monotonic() - t0:.1f} s")
        try:
            for name, split in sets.items():
                ask = {t: stack.rest(f"bench-dev-{next(_ids)}", t) for t in split["life_threat"]}
                calm = {
                    t: stack.rest(f"bench-dev-{next(_ids)}", t) for t in split["not_life_threat"]
                }
                tp = sum(is_emergency_answer(r) for r in ask.values())
                fp = sum(is_emergency_answer(r) for r in calm.values())
                with_119 = sum("119" in first_text(r) for r in ask.values())
                n = len(ask)
                precision = tp / (tp + fp) if tp + fp else 0.0
                print(f"{name:5s}: recall {tp / n:.3f} ({tp}/{n}), precision {precision:.3f} "
                      f"({fp} false alarms in {len(calm)}); 119 first {with_119}/{n}")  # fmt: skip
                for t, r in ask.items():
                    if not is_emergency_answer(r):
                        flag = "119-first" if "119" in first_text(r) else "NO-119"
                        print(f"  MISSED ({flag}) {t!r} -> {first_text(r)[:50]!r}")
                    elif "119" not in first_text(r):
                        print(f"  EMERGENCY BUT 119 NOT FIRST {t!r} -> {first_text(r)[:50]!r}")
                for t, r in calm.items():
                    if is_emergency_answer(r):
                        print(f"  FALSE {t!r}")
        finally:
            stop_stack(stack)


if __name__ == "__main__":
    main()
