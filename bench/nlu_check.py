"""Static checks of the NLU data (no training).

- every entity span starts and ends on a ja_ginza token boundary (Rasa drops misaligned spans);
- every value of a fixed-code entity normalises (synonym or explicit value) to a valid code;
- counts per intent; no sentence of the test file appears in the training data.

Usage: .venv/bin/python bench/nlu_check.py [--data data/nlu] [--test tests/test_nlu.yml]
"""
from __future__ import annotations

import argparse
import collections
import glob
import sys

ENTITIES = ("hazard", "damage_type", "place_type", "congestion", "supply", "language")


def entity_codes() -> dict[str, set[str]]:
    """Allowed values per entity, from the one vocabulary (bot/vocabulary.yml)."""
    from bot import vocabulary

    out: dict[str, set[str]] = {}
    for entity in ENTITIES:
        group = vocabulary.entity_group(entity)
        if group:
            out[entity] = set(vocabulary.codes(group))
    return out


def load(paths):
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    return TrainingData().merge(*[load_data(p, language="ja") for p in paths])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/nlu")
    ap.add_argument("--test", default="tests/test_nlu.yml")
    args = ap.parse_args()
    import spacy

    nlp = spacy.load("ja_ginza")
    train = load(sorted(glob.glob(f"{args.data}/*.yml")))
    synonyms = {k.lower(): v for k, v in train.entity_synonyms.items()}
    problems = 0
    sets = {"train": train}
    try:
        sets["test"] = load([args.test])
    except Exception as exc:  # noqa: BLE001
        print(f"(no test file: {exc})")
    CODES = entity_codes()
    for name, td in sets.items():
        counts = collections.Counter(m.get("intent") for m in td.intent_examples)
        print(f"== {name}: {len(td.intent_examples)} examples")
        for intent, n in sorted(counts.items()):
            print(f"   {intent:24s} {n}")
        for m in td.intent_examples:
            text = m.get("text")
            ents = m.get("entities") or []
            if not ents:
                continue
            doc = nlp(text.lower())
            starts = {t.idx for t in doc}
            ends = {t.idx + len(t.text) for t in doc}
            for e in ents:
                if e["start"] not in starts or e["end"] not in ends:
                    problems += 1
                    toks = " | ".join(t.text for t in doc)
                    if name == "test":  # never show held-out sentences to the training writers
                        continue
                    print(f"MISALIGNED [{name}] {e['entity']}={text[e['start']:e['end']]!r} in {text!r}: {toks}")
                codes = CODES.get(e["entity"])
                if codes is None:
                    continue
                value = e.get("value")
                surface = text[e["start"]:e["end"]]
                mapped = synonyms.get(surface.lower(), value if value != surface else surface)
                if mapped not in codes:
                    problems += 1
                    if name == "test":  # never show held-out sentences to the training writers
                        continue
                    print(f"UNMAPPED [{name}] {e['entity']}={surface!r} -> {mapped!r} in {text!r}")
    if "test" in sets:
        tr = {m.get("text").strip().lower() for m in train.intent_examples}
        shared = [m.get("text") for m in sets["test"].intent_examples if m.get("text").strip().lower() in tr]
        for s in shared:
            problems += 1
            print(f"SHARED with training: {s!r}")
    seen = collections.Counter(m.get("text") for m in train.intent_examples)
    for t, n in seen.items():
        if n > 1:
            print(f"DUPLICATE in training: {t!r}")
    print(f"problems: {problems} (problems in the held-out test file are counted, not shown)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
