"""Fuzzy search of a typed shelter name or address among the sites' names and addresses.

Both sides are normalised by :func:`gis.text.normalise_name` (full/half width, spaces,
katakana/hiragana, 小学校→小 ...); candidates come from a character-bigram index and are scored
0..1 (1 = same key; containment 0.7-0.95; otherwise 0.9 x difflib ratio).
"""

from __future__ import annotations

import difflib
import threading
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from gis.text import normalise_name

__all__ = ["SiteSearch", "Hit"]

#: candidates scored per query (those sharing the most bigrams with it)
_CANDIDATES = 400


@dataclass(frozen=True)
class Hit:
    """One matching site: its row, the score, which field matched and whether it is clear."""

    row: int
    score: float
    matched: str  # "name" | "address"
    confident: bool


def _grams(s: str) -> set[str]:
    if len(s) < 2:
        return {s} if s else set()
    return {s[i : i + 2] for i in range(len(s) - 1)}


def _similarity(q: str, cand: str) -> float:
    if not cand:
        return 0.0
    if q == cand:
        return 1.0
    if q in cand or cand in q:
        short, long_ = sorted((len(q), len(cand)))
        return 0.7 + 0.25 * short / long_
    return difflib.SequenceMatcher(None, q, cand, autojunk=False).ratio() * 0.9


class SiteSearch:
    """Bigram index over site names and addresses, built on the first query (thread-safe).

    Parameters
    ----------
    ids, names, addresses : list of str
        One entry per site row; ids break ties.
    """

    def __init__(self, ids: list[str], names: list[str], addresses: list[str]):
        self._ids = ids
        self._raw = (names, addresses)
        self._lock = threading.Lock()
        self._index: tuple[dict[str, list[int]], list[str], list[str]] | None = None

    def _built(self) -> tuple[dict[str, list[int]], list[str], list[str]]:
        if self._index is None:
            names = [normalise_name(v) for v in self._raw[0]]
            addrs = [normalise_name(v) for v in self._raw[1]]
            grams: dict[str, list[int]] = defaultdict(list)
            for i, (n, a) in enumerate(zip(names, addrs, strict=True)):
                for g in _grams(n) | _grams(a):
                    grams[g].append(i)
            with self._lock:
                self._index = (dict(grams), names, addrs)
        return self._index

    def match(self, text: str, limit: int, allowed: np.ndarray | None = None) -> list[Hit]:
        """The best ``limit`` sites for ``text`` (rows where ``allowed`` is True, if given).

        ``confident`` is True only for the top hit with score >= 0.9 and at least 0.05 ahead of
        the next *different* place (an emergency site and a shelter at the same facility share
        name and address, so they do not count as a rival).
        """
        q = normalise_name(text)
        if not q or limit < 1:
            return []
        grams, names, addrs = self._built()
        counts: dict[int, int] = defaultdict(int)
        for g in _grams(q):
            for i in grams.get(g, ()):
                counts[i] += 1
        scored = []
        for i in sorted(counts, key=lambda i: -counts[i])[:_CANDIDATES]:
            if allowed is not None and not allowed[i]:
                continue
            s_name = _similarity(q, names[i])
            s_addr = 0.95 * _similarity(q, addrs[i])
            scored.append((s_name, "name", i) if s_name >= s_addr else (s_addr, "address", i))
        scored.sort(key=lambda t: (-t[0], self._ids[t[2]]))
        out = []
        for rank, (score, field_, i) in enumerate(scored[:limit]):
            me = (names[i], addrs[i])
            nxt = next((t[0] for t in scored[rank + 1 :] if (names[t[2]], addrs[t[2]]) != me), 0.0)
            confident = rank == 0 and score >= 0.9 and (score - nxt) >= 0.05
            out.append(Hit(i, round(score, 3), field_, confident))
        return out
