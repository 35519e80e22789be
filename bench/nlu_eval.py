"""NLU figures: 5-fold cross-validation of the training data with a given config.

Default: Rasa's Python API on a copy of the config (so the project config is never touched):
stratified folds (seeded), one NLU model per fold, predictions on the held-out fold only, pooled
into Rasa's own intent / entity reports. `--rasa-cli` runs `rasa test nlu --cross-validation`
instead, which also re-predicts every training fold (about 3x slower on 2 cores).
Prints intent macro F1, entity F1 and the worst intents. The FallbackClassifier stays in the
pipeline unless --no-fallback is given; as in `rasa test nlu`, a fallback prediction is scored as
the model's own top intent (Rasa's evaluation undoes it), so the figures are the model's.
Rasa undoes it with a deep copy of the whole parse, spaCy documents included (about a second
per fallback here); this script makes that copy shallow (only the intent and the ranking are
replaced), which gives the same result.

Usage (heavy: wrap in the shared lock):
  flock /tmp/bosai-heavy.lock .venv/bin/python bench/nlu_eval.py [config.yml] [--folds 5]
  .venv/bin/python bench/nlu_eval.py --test tests/test_nlu.yml --model models/M.tar.gz --out DIR
                                                    # a held-out file on a trained model (as
                                                    # `rasa test nlu`, with the fast undo)
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


def fast_undo_fallback() -> None:
    """``FallbackClassifier.undo_fallback_prediction`` without its deep copy of the parse (it
    copies the spaCy documents by serialising them); the same keys are replaced in a new dict."""
    from rasa.nlu.classifiers import fallback_classifier
    from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY

    def undo(prediction: dict) -> dict:
        ranking = prediction.get(INTENT_RANKING_KEY, [])
        if len(ranking) < 2:
            return prediction
        return {**prediction, INTENT: ranking[1], INTENT_RANKING_KEY: ranking[1:]}

    fallback_classifier.undo_fallback_prediction = undo  # type: ignore[assignment]


async def cross_validate(
    config: Path, data: Path, folds: int, out: Path, tmp: Path, seed: int, max_folds: int | None = None
) -> None:
    import glob

    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.nlu import test as nlu_test
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    from bot import rasa_speedups

    # GiNZA loaded once, its unread pipes not run (the same features, trained faster)
    rasa_speedups.apply(set(rasa_speedups.TRAINING))

    files = sorted(glob.glob(str(data / "*.yml"))) if data.is_dir() else [str(data)]
    td = TrainingData().merge(*[load_data(f, language="ja") for f in files])
    x = td.intent_examples
    y = [m.get_full_intent() for m in x]
    intent_results: list = []
    entity_results: list = []

    def subset(idx):  # type: ignore[no-untyped-def]
        return TrainingData(training_examples=[x[i] for i in idx], entity_synonyms=td.entity_synonyms,
                            regex_features=td.regex_features, lookup_tables=td.lookup_tables)

    fast_undo_fallback()
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (tr, te) in enumerate(skf.split(x, y), 1):
        if max_folds is not None and k > max_folds:
            break
        t0 = time.time()
        train_file = tmp / f"fold{k}_train.yml"
        RasaYAMLWriter().dump(train_file, subset(tr))
        model = train_nlu(str(config), str(train_file), str(tmp / f"fold{k}"))
        processor = Agent.load(model).processor
        ir, _, er = await nlu_test.get_eval_data(processor, subset(te))
        intent_results += ir
        entity_results += er
        ok = sum(r.intent_target == r.intent_prediction for r in ir)
        print(f"fold {k}/{folds}: {ok}/{len(ir)} intents right, {time.time() - t0:.0f} s", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    nlu_test.evaluate_intents(intent_results, str(out), True, True, True, report_as_dict=True)
    extractors = nlu_test._get_active_entity_extractors(entity_results)
    nlu_test.evaluate_entities(entity_results, extractors, str(out), True, True, True, report_as_dict=True)


async def evaluate_file(test: Path, model: Path, out: Path) -> None:
    """``rasa test nlu --nlu test --model model --out out`` (errors and successes written), with
    :func:`fast_undo_fallback`."""
    from rasa.core.agent import Agent
    from rasa.nlu import test as nlu_test

    from bot import rasa_speedups

    rasa_speedups.apply()  # the model loads as the server loads it
    fast_undo_fallback()
    processor = Agent.load(str(model)).processor
    out.mkdir(parents=True, exist_ok=True)
    await nlu_test.run_evaluation(str(test), processor, str(out), successes=True, errors=True,
                                  disable_plotting=True, report_as_dict=True)


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
    ap.add_argument("--test", help="evaluate this held-out NLU file on --model (no training)")
    ap.add_argument("--model", help="trained model archive for --test")
    ap.add_argument("--rasa-cli", action="store_true", help="use `rasa test nlu --cross-validation`")
    ap.add_argument("--seed", type=int, default=42, help="fold split seed (Python API mode)")
    ap.add_argument("--max-folds", type=int, default=None,
                    help="stop after this many folds (a quicker comparison of configs on the same "
                         "held-out folds; the figures are then not a full cross-validation)")
    args = ap.parse_args()

    if args.report:
        res = summarise(Path(args.report))
        print_summary(res, f"NLU results in {args.report}")
        if args.json:
            print(json.dumps(res, ensure_ascii=False, indent=1))
        return 0

    if args.test:
        import asyncio

        if not args.model:
            ap.error("--test needs --model")
        out = Path(args.out)
        t0 = time.time()
        asyncio.run(evaluate_file(Path(args.test), Path(args.model), out))
        res = summarise(out)
        print_summary(res, f"{args.test} on {args.model} in {(time.time() - t0) / 60:.1f} min")
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
        t0 = time.time()
        if args.rasa_cli:
            cmd = [str(rasa), "test", "nlu", "--cross-validation", "--folds", str(args.folds),
                   "--config", str(cfg_copy), "--nlu", args.data, "--out", str(out), "--no-plot"]
            print("running:", " ".join(cmd), flush=True)
            rc = subprocess.run(cmd, cwd=tmp).returncode
            if rc != 0:
                print(f"rasa exited with {rc}", file=sys.stderr)
                return rc
        else:
            import asyncio

            asyncio.run(cross_validate(cfg_copy, Path(args.data), args.folds, out, Path(tmp), args.seed,
                                      args.max_folds))
        elapsed = time.time() - t0
    res = summarise(out)
    done = f"first {args.max_folds} of {args.folds} folds" if args.max_folds else f"{args.folds}-fold cross-validation"
    print_summary(res, f"{done} of {args.data} with {args.config}"
                       f"{' (no fallback)' if args.no_fallback else ''} in {elapsed / 60:.1f} min")
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
