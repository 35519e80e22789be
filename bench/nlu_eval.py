"""NLU figures: 5-fold cross-validation of the training data with a given config.

Runs `rasa test nlu --cross-validation --folds N` on a copy of the config (so the project
config is never touched) and prints intent macro F1, entity F1 and the worst intents.
The FallbackClassifier stays in the pipeline unless --no-fallback is given, so
low-confidence predictions count as errors, as they would in the bot.

Usage (heavy: wrap in the shared lock):
  flock /tmp/bosai-heavy.lock .venv/bin/python bench/nlu_eval.py [config.yml] [--folds 5]
  .venv/bin/python bench/nlu_eval.py --report DIR   # only summarise an existing results dir
                                                    # (e.g. from `rasa test nlu --out DIR`)
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def summarise(out: Path, worst: int = 5) -> dict:
    intent = json.loads((out / "intent_report.json").read_text())
    labels = {k: v for k, v in intent.items() if isinstance(v, dict) and "f1-score" in v
              and k not in ("macro avg", "weighted avg", "micro avg")}
    res = {
        "intent_macro_f1": intent["macro avg"]["f1-score"],
        "intent_weighted_f1": intent["weighted avg"]["f1-score"],
        "intent_accuracy": intent.get("accuracy"),
        "worst_intents": sorted(((k, round(v["f1-score"], 3)) for k, v in labels.items()),
                                key=lambda kv: kv[1])[:worst],
    }
    ent_files = sorted(out.glob("*Classifier_report.json")) + sorted(out.glob("*Extractor_report.json"))
    for f in ent_files:
        ent = json.loads(f.read_text())
        per = {k: v for k, v in ent.items() if isinstance(v, dict) and "f1-score" in v
               and k not in ("macro avg", "weighted avg", "micro avg")}
        micro = ent.get("micro avg", ent.get("weighted avg"))
        res[f.stem] = {
            "entity_micro_f1": micro["f1-score"] if micro else None,
            "entity_macro_f1": ent["macro avg"]["f1-score"] if "macro avg" in ent else None,
            "entity_weighted_f1": ent["weighted avg"]["f1-score"] if "weighted avg" in ent else None,
            "per_entity_f1": {k: round(v["f1-score"], 3) for k, v in sorted(per.items())},
        }
    return res


def print_summary(res: dict, header: str) -> None:
    print(header)
    print(f"  intent macro F1    {res['intent_macro_f1']:.3f}")
    print(f"  intent weighted F1 {res['intent_weighted_f1']:.3f}")
    if res.get("intent_accuracy") is not None:
        print(f"  intent accuracy    {res['intent_accuracy']:.3f}")
    print("  worst intents      " + ", ".join(f"{k} {v:.3f}" for k, v in res["worst_intents"]))
    for key, ent in res.items():
        if isinstance(ent, dict) and "entity_micro_f1" in ent:
            print(f"  entity F1 ({key.replace('_report', '')}): micro {ent['entity_micro_f1']:.3f}"
                  f"  macro {ent['entity_macro_f1']:.3f}  weighted {ent['entity_weighted_f1']:.3f}")
            print("    " + ", ".join(f"{k} {v:.3f}" for k, v in ent["per_entity_f1"].items()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config", nargs="?", default=str(ROOT / "config.yml"))
    ap.add_argument("--data", default=str(ROOT / "data" / "nlu"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "nlu_cv"))
    ap.add_argument("--no-fallback", action="store_true", help="drop FallbackClassifier from the copy")
    ap.add_argument("--report", help="only summarise an existing rasa results directory")
    ap.add_argument("--json", action="store_true", help="also print the summary as JSON")
    args = ap.parse_args()

    if args.report:
        res = summarise(Path(args.report))
        print_summary(res, f"NLU results in {args.report}")
        if args.json:
            print(json.dumps(res, ensure_ascii=False, indent=1))
        return 0

    import yaml

    rasa = Path(sys.executable).with_name("rasa")
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory(prefix="nlu_cv_") as tmp:
        cfg = yaml.safe_load(Path(args.config).read_text())
        if args.no_fallback:
            cfg["pipeline"] = [c for c in cfg["pipeline"] if c.get("name") != "FallbackClassifier"]
        cfg_copy = Path(tmp) / "config.yml"
        cfg_copy.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False))
        cmd = [str(rasa), "test", "nlu", "--cross-validation", "--folds", str(args.folds),
               "--config", str(cfg_copy), "--nlu", args.data, "--out", str(out),
               "--no-plot"]
        print("running:", " ".join(cmd), flush=True)
        t0 = time.time()
        proc = subprocess.run(cmd, cwd=tmp)
        elapsed = time.time() - t0
        if proc.returncode != 0:
            print(f"rasa exited with {proc.returncode}", file=sys.stderr)
            return proc.returncode
    res = summarise(out)
    print_summary(res, f"{args.folds}-fold cross-validation of {args.data} with {args.config}"
                       f"{' (no fallback)' if args.no_fallback else ''} in {elapsed / 60:.1f} min")
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
