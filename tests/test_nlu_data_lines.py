"""Every line of an ``examples`` block is an example: Rasa skips any other line with only a
warning, so a comment written inside the block (instead of above the ``- intent:`` item) or an
example that lost its ``- `` would silently leave the data (session 15 found two comments there)."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted(
    [
        *glob.glob(str(ROOT / "data" / "nlu" / "*.yml")),
        str(ROOT / "tests" / "test_nlu.yml"),
        *glob.glob(str(ROOT / "bench" / "data" / "intent_fresh_posts*.yml")),
    ]
)


def stray_lines(path: str) -> list[str]:
    """Lines of an ``examples`` block that are not ``- example`` (blank lines aside)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    stray = []
    for item in data.get("nlu") or []:
        block = item.get("examples") if isinstance(item, dict) else None
        if not isinstance(block, str):
            continue
        name = item.get("intent") or item.get("synonym") or item.get("lookup") or item.get("regex")
        stray += [f"{name}: {line.strip()}" for line in block.splitlines()
                  if line.strip() and not line.strip().startswith("- ")]  # fmt: skip
    return stray


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(Path(p).relative_to(ROOT)))
def test_every_line_of_an_examples_block_is_an_example(path: str) -> None:
    assert stray_lines(path) == []


def test_a_comment_inside_a_block_is_found(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - こんにちは\n'
        "    # a comment that Rasa would read as a line\n    - やあ\n",
        encoding="utf-8",
    )
    assert stray_lines(str(bad)) == ["greet: # a comment that Rasa would read as a line"]
    assert len(FILES) >= 20  # the training files, the held-out file and the first-sight sets
