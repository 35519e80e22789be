"""Emergency recall / precision of the danger layer on the held-out file.

``tests/data/danger_heldout.yml`` was written by someone who saw neither the lexicon nor the NLU
training data. It is split in two halves by position: the *dev* half (odd positions) may be
looked at to improve the lexicon; the *test* half (even positions) is only ever counted, never
printed, so its figure stays an honest held-out one. ``bench/data/danger_dev.yml`` is a second,
larger development set by other writers; ``bench/data/danger_dev_posts.yml`` a third and
``danger_dev_posts2.yml`` a fourth, in the patterns of real posts. ``--show-dev`` lists the
errors of the dev sets; ``--dev-only`` does not touch the test half at all (use it while tuning: the test half is scored
only at the end, as a pass/fail figure).

    .venv/bin/python bench/danger_eval.py [--show-dev] [--dev-only]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.nlu.danger import assess  # noqa: E402

HELDOUT = ROOT / "tests" / "data" / "danger_heldout.yml"
DEV = ROOT / "bench" / "data" / "danger_dev.yml"
# A third set, in the patterns of real posts (hashtags, addresses, telegraphic, about someone
# else), by a writer who saw neither the lexicon nor the other sets.
POSTS = ROOT / "bench" / "data" / "danger_dev_posts.yml"
# A fourth, in the same patterns, by another writer who read neither the lexicon nor the other sets
# (1 Dec 2026; first sight: docs/safety.md).
POSTS2 = ROOT / "bench" / "data" / "danger_dev_posts2.yml"
# The development sets beside the held-out file's dev half, by the name they are printed with.
DEV_SETS = (("dev2", DEV), ("posts", POSTS), ("posts2", POSTS2))


def halves(path: Path = HELDOUT) -> dict[str, dict[str, list[str]]]:
    """``{"dev": {"life_threat": [...], "not_life_threat": [...]}, "test": {...}}``."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: dict[str, dict[str, list[str]]] = {"dev": {}, "test": {}}
    for label in ("life_threat", "not_life_threat"):
        items = [str(t) for t in data[label]]
        out["dev"][label] = items[1::2]
        out["test"][label] = items[0::2]
    return out


def score(split: dict[str, list[str]]) -> dict[str, float]:
    """Recall, precision and counts of ``assess(...).threat`` on one half."""
    tp = sum(assess(t).threat for t in split["life_threat"])
    fp = sum(assess(t).threat for t in split["not_life_threat"])
    fn = len(split["life_threat"]) - tp
    recall = tp / (tp + fn) if tp + fn else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    return {"recall": recall, "precision": precision, "tp": tp, "fp": fp, "fn": fn,
            "n": len(split["life_threat"]) + len(split["not_life_threat"])}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show-dev", action="store_true", help="list the dev half's errors")
    parser.add_argument(
        "--dev-only", action="store_true", help="score the dev sets only, never the test half"
    )
    args = parser.parse_args()
    parts = halves()
    if args.dev_only:
        del parts["test"]
    for name, path in DEV_SETS:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        parts[name] = {k: [str(t) for t in data[k]] for k in ("life_threat", "not_life_threat")}
    for name in [n for n in ("dev", *(n for n, _ in DEV_SETS), "test") if n in parts]:
        s = score(parts[name])
        print(f"{name:6s}: recall {s['recall']:.3f}  precision {s['precision']:.3f}  "
              f"(tp {s['tp']}, fn {s['fn']}, fp {s['fp']}, {s['n']} messages)")  # fmt: skip
    if args.show_dev:
        for name in ("dev", *(n for n, _ in DEV_SETS)):
            for t in parts[name]["life_threat"]:
                if not assess(t).threat:
                    print("MISSED   ", t)
            for t in parts[name]["not_life_threat"]:
                a = assess(t)
                if a.threat:
                    print("FALSE    ", a.kinds, [m.text for m in a.matches], t)


if __name__ == "__main__":
    main()
