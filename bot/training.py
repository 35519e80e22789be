"""Train the Rasa model only when its inputs changed.

The fingerprint is a SHA-256 over the pipeline config, our DIET trainer (``bot/nlu/diet.py``), the
domain files and the training data (paths and contents). The model is written as
``models/bosai-<fingerprint>.tar.gz``; a model with the current fingerprint means nothing changed
and training is skipped.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

TRAINING_DATA_DIRS = ("data/nlu", "data/rules", "data/stories")
DOMAIN_DIR = "bot/domain"
CONFIG_FILE = "config.yml"
MODEL_PREFIX = "bosai-"
#: The replacements of bot/rasa_speedups.py that change nothing but time in training (GiNZA loaded
#: once, its unread pipes not run); named here so that ``bosai train`` does not import Rasa.
TRAINING_SPEEDUPS = frozenset({"spacy", "pipes"})


# Our code that shapes how the model is trained (not only how it predicts).
TRAINING_CODE = ("bot/nlu/diet.py",)


def training_inputs(root: Path) -> list[Path]:
    """All files the model depends on, in a stable order."""
    files = [root / CONFIG_FILE]
    files.extend(p for p in (root / f for f in TRAINING_CODE) if p.is_file())
    for folder in (DOMAIN_DIR, *TRAINING_DATA_DIRS):
        files.extend(sorted(p for p in (root / folder).rglob("*") if p.is_file()))
    return files


def fingerprint(root: Path) -> str:
    digest = hashlib.sha256()
    for path in training_inputs(root):
        digest.update(str(path.relative_to(root)).encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def current_model(root: Path) -> Path | None:
    """The model trained from the current inputs, or None when it is stale or missing."""
    path = root / "models" / f"{MODEL_PREFIX}{fingerprint(root)}.tar.gz"
    return path if path.is_file() else None


def latest_model(root: Path) -> Path | None:
    models = sorted((root / "models").glob(f"{MODEL_PREFIX}*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def train(root: Path, force: bool = False) -> Path:
    """Train when the inputs changed (or ``force``); return the model path.

    Older ``bosai-*`` models are removed after a successful training.
    """
    existing = current_model(root)
    if existing and not force:
        print(f"Model is up to date: {existing.relative_to(root)}")
        return existing
    fp = fingerprint(root)
    # Rasa's CLI with the replacements that change only time in training (GiNZA loaded once,
    # its unread pipes not run: bot/rasa_speedups.py 2 and 8); the same model, trained faster.
    cmd = [
        sys.executable, "-m", "bot.rasa_cli", "train",
        "--config", CONFIG_FILE,
        "--domain", DOMAIN_DIR,
        "--data", *TRAINING_DATA_DIRS,
        "--out", "models",
        "--fixed-model-name", f"{MODEL_PREFIX}{fp}",
        "--force",
    ]
    print("Training the Rasa model (config, domain or training data changed)...", flush=True)
    env = {**os.environ, "BOSAI_RASA_SPEEDUPS": ",".join(sorted(TRAINING_SPEEDUPS))}
    subprocess.run(cmd, cwd=root, check=True, env=env)
    model = root / "models" / f"{MODEL_PREFIX}{fp}.tar.gz"
    if not model.is_file():
        raise RuntimeError(f"rasa train finished but {model} is missing")
    for old in (root / "models").glob(f"{MODEL_PREFIX}*.tar.gz"):
        if old != model:
            old.unlink()
    return model
