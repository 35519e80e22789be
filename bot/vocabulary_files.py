"""Files generated from the vocabulary: ``bot/domain/labels.yml``, ``data/nlu/synonyms.yml``,
``data/nlu/lookups.yml`` (``make vocab``; ``--check`` prints a diff and exits 1 when a committed
file differs, as ``tests/bot/test_vocabulary.py`` does).

Usage: ``python -m bot.vocabulary generate [--check]``.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import vocabulary
from bot.vocabulary import VocabularyError, fold

REPO_ROOT = Path(__file__).resolve().parents[1]
LABELS_FILE = Path("bot/domain/labels.yml")
SYNONYMS_FILE = Path("data/nlu/synonyms.yml")
LOOKUPS_FILE = Path("data/nlu/lookups.yml")


_GENERATED = "GENERATED from bot/vocabulary.yml by `make vocab` (python -m bot.vocabulary generate)."
_YAML_PLAIN = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`0-9][^:#{}\[\],]*")
_YAML_WORDS = {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"}


def _scalar(text: str) -> str:
    if _YAML_PLAIN.fullmatch(text) and text == text.strip() and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)


def labels_yaml() -> str:
    groups, templates = vocabulary.load()
    lines = [
        f"# {_GENERATED}",
        "# Labels of the fixed codes; actions render them with actions.render.label().",
        'version: "3.1"',
        "",
        "responses:",
    ]

    def response(name: str, ja: str, en: str) -> None:
        lines.extend([
            f"  {name}:",
            "  - condition:",
            "    - type: slot",
            "      name: language",
            "      value: en",
            f"    text: {_scalar(en)}",
            f"  - text: {_scalar(ja)}",
        ])  # fmt: skip

    for g in groups.values():
        if not g.domain:
            continue
        for code in g.codes.values():
            response(f"utter_label_{g.domain}_{code.key}", code.bot_ja, code.bot_en)
    for tname, tlabels in templates.items():
        response(f"utter_label_{tname}", tlabels["ja"], tlabels["en"])
    return "\n".join(lines) + "\n"


def synonym_table() -> dict[str, tuple[str, str, str]]:
    """``{folded surface: (code, group, surface)}`` of every synonym; raises on a conflict.

    EntitySynonymMapper is not entity-aware: a surface maps to one code across all entities, so
    a surface that two groups give different codes (火事: hazard large_fire, damage_type fire) must
    be a phrase or an answer in one of them, never a word in both.
    """
    groups, _ = vocabulary.load()
    table: dict[str, tuple[str, str, str]] = {}
    all_codes: dict[str, str] = {}
    conflicts: list[str] = []
    feeding = [g for g in groups.values() if g.entity and g.synonyms]
    for g in feeding:
        for code in g.codes.values():
            if code.entity:
                all_codes.setdefault(code.key, g.name)
    for g in feeding:
        for code in g.codes.values():
            if not code.entity:
                continue
            for word in code.words:
                f = fold(word)
                if f in all_codes and f != code.key:
                    conflicts.append(
                        f"{word!r} is a word of {g.name}.{code.key} but also the code "
                        f"{all_codes[f]}.{f}"
                    )
                    continue
                seen = table.setdefault(f, (code.key, g.name, word))
                if seen[0] != code.key:
                    conflicts.append(
                        f"{word!r} is a word of {seen[1]}.{seen[0]} and of {g.name}.{code.key}"
                    )
    if conflicts:
        raise VocabularyError(
            "EntitySynonymMapper maps one surface to one code whatever the entity; move these "
            "words to `phrases` or `answers` in one of the groups (see docs/nlu.md):\n  "
            + "\n  ".join(conflicts)
        )
    return table


def synonyms_yaml() -> str:
    groups, _ = vocabulary.load()
    table = synonym_table()
    by_code: dict[str, list[str]] = {}
    first_group: dict[str, str] = {}
    for f, (code, gname, word) in table.items():
        if f == code:
            continue
        by_code.setdefault(code, []).append(word)
        first_group.setdefault(code, gname)
    lines = [
        'version: "3.1"',
        "",
        f"# {_GENERATED}",
        "# Surface forms -> fixed codes. EntitySynonymMapper matches the whole extracted text",
        "# (lower-cased) and is not entity-aware: a surface maps to one code only.",
        "nlu:",
    ]
    done: set[str] = set()
    for g in groups.values():
        if not (g.entity and g.synonyms):
            continue
        block = [c for c in g.codes if c in by_code and c not in done]
        if not block:
            continue
        if done:
            lines.append("")
        lines.append(f"# ---------- {g.entity} ----------")
        for code in block:
            done.add(code)
            lines.append(f"- synonym: {_scalar(code)}")
            lines.append("  examples: |")
            lines.extend(f"    - {w}" for w in by_code[code])
    return "\n".join(lines) + "\n"


def lookups_yaml() -> str:
    groups, _ = vocabulary.load()
    synonym_table()  # the same conflicts are refused here
    lines = [
        'version: "3.1"',
        "",
        f"# {_GENERATED}",
        "# Lookup tables (RegexFeaturizer features): the words of each entity's codes.",
        "nlu:",
    ]
    for g in groups.values():
        if not (g.entity and g.lookup):
            continue
        words: dict[str, str] = {}
        for code in g.codes.values():
            if code.entity:
                for w in code.words:
                    words.setdefault(fold(w), w)
        lines.append(f"- lookup: {g.entity}")
        lines.append("  examples: |")
        lines.extend(f"    - {w}" for w in words.values())
    return "\n".join(lines) + "\n"


def generated_files() -> dict[Path, str]:
    """Repository path → content of every file generated from the vocabulary."""
    return {
        LABELS_FILE: labels_yaml(),
        SYNONYMS_FILE: synonyms_yaml(),
        LOOKUPS_FILE: lookups_yaml(),
    }


def check(root: Path = REPO_ROOT) -> list[str]:
    """Unified diffs of the committed generated files against the vocabulary ([] when equal)."""
    diffs = []
    for rel, content in generated_files().items():
        path = root / rel
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != content:
            diffs.append(
                "".join(
                    difflib.unified_diff(
                        current.splitlines(keepends=True),
                        content.splitlines(keepends=True),
                        fromfile=f"{rel} (committed)",
                        tofile=f"{rel} (from bot/vocabulary.yml)",
                    )
                )
            )
    return diffs


def write(root: Path = REPO_ROOT) -> list[Path]:
    """Write the generated files; returns those that changed."""
    changed = []
    for rel, content in generated_files().items():
        path = root / rel
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
            changed.append(rel)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.vocabulary", description="Generate the files derived from bot/vocabulary.yml."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write labels.yml, synonyms.yml and lookups.yml")
    gen.add_argument("--check", action="store_true", help="only compare; exit 1 with a diff")
    args = parser.parse_args(argv)
    try:
        if args.check:
            diffs = check()
            for diff in diffs:
                sys.stdout.write(diff)
            if diffs:
                print("generated files differ from bot/vocabulary.yml: run `make vocab`",
                      file=sys.stderr)
                return 1
            print("generated files match bot/vocabulary.yml")
            return 0
        changed = write()
        for rel in changed:
            print(f"wrote {rel}")
        if not changed:
            print("generated files are up to date")
        return 0
    except VocabularyError as exc:
        print(f"vocabulary error: {exc}", file=sys.stderr)
        return 2
